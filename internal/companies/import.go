package companies

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aicensus/aicensus/internal/input"
	"github.com/aicensus/aicensus/internal/store"
)

// Options configure Import. The zero value guesses everything.
type Options struct {
	// Format of the file; "" guesses from the name (.parquet, .jsonl,
	// .ndjson, .json, else CSV; .gz is looked through).
	Format Format
	// DomainCol, EmployeesCol, SizeCol and NameCol name the columns
	// (case-insensitive). Empty means the first of the well-known names
	// (DomainColumns, EmployeesColumns, SizeColumns, NameColumns) that the
	// file has. EmployeesCol and SizeCol are alternatives: set at most one.
	DomainCol, EmployeesCol, SizeCol, NameCol string
	// Source names the dataset in the store (a later import with the same
	// name replaces it). Empty means the file's base name without
	// extensions.
	Source string
}

// Skip reasons, the keys of Stats.Skipped.
const (
	SkipNoDomain      = "no-domain"      // the domain cell is empty
	SkipInvalidDomain = "invalid-domain" // the cell is not a usable domain or URL (IP literal, bad name)
	SkipNoSize        = "no-size"        // the size cell is empty or 0
	SkipBadSize       = "bad-size"       // the size cell is not a number or range
	SkipBadRecord     = "bad-record"     // the record itself is broken (bad JSON line, broken CSV quote)
)

// Stats report what an import did.
type Stats struct {
	Source string
	File   string
	Format Format
	// Columns used: domain, size (or employees) and name ("" if none).
	DomainCol, SizeCol, NameCol string
	Rows                        int64            // data records read
	Imported                    int64            // rows stored
	Skipped                     map[string]int64 // rows not stored, by reason (Skip*)
	Buckets                     map[string]int64 // records with a usable size, by bucket label (before the domain check)
	Exact                       int64            // imported rows with an exact headcount
	Domains                     int64            // distinct registrable domains imported
	Duplicates                  int64            // imported rows whose domain an earlier row of the file already had
	Examples                    map[string]string
	// Matched is the number of imported domains among the domains that
	// answered (status ok) in MatchedScan, the store's latest scan;
	// MatchedScan is 0 when the store has no scan.
	Matched, MatchedScan int64
	Store                store.CompanyImportStats
}

// DomainColumns, EmployeesColumns, SizeColumns and NameColumns are the
// column names Import looks for, in order, when no column is given
// (compared case-insensitively, with '_' and ' ' treated alike).
var (
	DomainColumns    = []string{"domain", "website", "url", "homepage", "homepage url", "web", "site", "company domain", "domain name", "website url"}
	EmployeesColumns = []string{"employees", "employee count", "employees count", "team size", "headcount", "num employees", "number of employees"}
	SizeColumns      = []string{"size range", "size", "company size", "employee range", "employees range", "headcount range"}
	NameColumns      = []string{"name", "company name", "company", "organization", "organisation"}
)

// Import reads the company file at path ("-": stdin, CSV or JSON Lines
// only) into s, which must be open read-write. Unusable rows are skipped and
// counted; an I/O error, a missing column or a store error fails the whole
// import and changes nothing.
func Import(ctx context.Context, s *store.Store, path string, stdin io.Reader, opts Options) (Stats, error) {
	st := Stats{File: path, Skipped: map[string]int64{}, Buckets: map[string]int64{}, Examples: map[string]string{}}
	if opts.EmployeesCol != "" && opts.SizeCol != "" {
		return st, errors.New("give the employees column or the size column, not both")
	}
	st.Format = opts.Format
	if st.Format == "" {
		st.Format = formatOf(path)
	}
	st.Source = opts.Source
	if st.Source == "" {
		st.Source = sourceName(path)
	}
	t, err := openTable(ctx, s, path, stdin, st.Format)
	if err != nil {
		return st, fmt.Errorf("import %s: %w", path, err)
	}
	defer t.Close()
	cols := t.Columns()
	di, err := pickColumn(cols, opts.DomainCol, "domain", DomainColumns)
	if err != nil {
		return st, fmt.Errorf("import %s: %w", path, err)
	}
	var si int
	switch {
	case opts.EmployeesCol != "":
		si, err = pickColumn(cols, opts.EmployeesCol, "employees", nil)
	case opts.SizeCol != "":
		si, err = pickColumn(cols, opts.SizeCol, "size", nil)
	default:
		si, err = pickColumn(cols, "", "size or employees", append(append([]string{}, EmployeesColumns...), SizeColumns...))
	}
	if err != nil {
		return st, fmt.Errorf("import %s: %w", path, err)
	}
	ni, err := pickColumn(cols, opts.NameCol, "name", NameColumns)
	if err != nil && opts.NameCol != "" {
		return st, fmt.Errorf("import %s: %w", path, err)
	}
	st.DomainCol, st.SizeCol = cols[di], cols[si]
	if ni >= 0 {
		st.NameCol = cols[ni]
	}
	seen := map[string]struct{}{}
	rows := func(yield func(store.Company, error) bool) {
		for {
			line, vals, err := t.Next()
			if err == io.EOF {
				return
			}
			var re *recordError
			if errors.As(err, &re) {
				st.Rows++
				st.skip(SkipBadRecord, re.Error())
				continue
			}
			if err != nil {
				yield(store.Company{}, err)
				return
			}
			st.Rows++
			c, ok := st.company(line, vals, di, si, ni)
			if !ok {
				continue
			}
			if _, dup := seen[c.Domain]; dup {
				st.Duplicates++
			} else {
				seen[c.Domain] = struct{}{}
			}
			st.Imported++
			if c.Employees > 0 {
				st.Exact++
			}
			if !yield(c, nil) {
				return
			}
		}
	}
	st.Store, err = s.ImportCompanies(ctx, store.CompanyImport{Source: st.Source, File: path, Format: string(st.Format),
		Counters: st.counters()}, rows)
	if err != nil {
		return st, fmt.Errorf("import %s: %w", path, err)
	}
	st.Domains = int64(len(seen))
	if err := st.match(ctx, s); err != nil {
		return st, fmt.Errorf("import %s: %w", path, err)
	}
	return st, nil
}

// company turns one record into a Company, or counts why it cannot.
func (st *Stats) company(line int64, vals []string, di, si, ni int) (store.Company, bool) {
	size, serr := ParseSize(vals[si])
	if serr == nil {
		st.Buckets[size.Bucket.Label]++
	}
	raw := strings.TrimSpace(vals[di])
	if raw == "" {
		st.skip(SkipNoDomain, fmt.Sprintf("line %d", line))
		return store.Company{}, false
	}
	tg, err := input.Normalize(raw, input.NormalizeOptions{})
	if err != nil {
		st.skip(SkipInvalidDomain, fmt.Sprintf("line %d: %v", line, err))
		return store.Company{}, false
	}
	switch {
	case errors.Is(serr, ErrNoSize):
		st.skip(SkipNoSize, fmt.Sprintf("line %d: %q", line, vals[si]))
		return store.Company{}, false
	case serr != nil:
		st.skip(SkipBadSize, fmt.Sprintf("line %d: %v", line, serr))
		return store.Company{}, false
	}
	c := store.Company{Domain: tg.Domain, Employees: size.Employees, Bucket: size.Bucket.Label, Line: line}
	if ni >= 0 {
		c.Name = strings.TrimSpace(vals[ni])
	}
	return c, true
}

func (st *Stats) skip(reason, example string) {
	st.Skipped[reason]++
	if _, ok := st.Examples[reason]; !ok {
		st.Examples[reason] = example
	}
}

// counters flattens the stats for the store's import log.
func (st *Stats) counters() map[string]int64 {
	m := map[string]int64{"rows": st.Rows, "imported": st.Imported, "exact": st.Exact, "duplicates": st.Duplicates}
	for k, v := range st.Skipped {
		m["skipped:"+k] = v
	}
	return m
}

// match counts imported domains that answered in the latest scan.
func (st *Stats) match(ctx context.Context, s *store.Store) error {
	sc, err := s.LatestScan(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	st.MatchedScan = sc.ID
	return s.DB().QueryRowContext(ctx, `SELECT count(*) FROM (SELECT DISTINCT domain FROM company_sources WHERE import_id = $1) c
		SEMI JOIN (SELECT domain FROM results WHERE scan_id = $2 AND status = 'ok') r USING (domain)`,
		st.Store.ImportID, sc.ID).Scan(&st.Matched)
}

func openTable(ctx context.Context, s *store.Store, path string, stdin io.Reader, f Format) (table, error) {
	if f == FormatParquet {
		if path == "-" {
			return nil, errors.New("parquet cannot be read from stdin; give a file")
		}
		if _, err := os.Stat(path); err != nil {
			return nil, err
		}
		return newParquetTable(ctx, s.DB(), path)
	}
	var r io.Reader = stdin
	var closer io.Closer = io.NopCloser(nil)
	if path != "-" {
		fh, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		r, closer = fh, fh
	}
	var t table
	var err error
	if f == FormatJSONL {
		t, err = newJSONLTable(r)
	} else {
		t, err = newCSVTable(r, strings.HasSuffix(strings.TrimSuffix(strings.ToLower(path), ".gz"), ".tsv"))
	}
	if err != nil {
		closer.Close()
		return nil, err
	}
	return closeBoth{t, closer}, nil
}

// closeBoth closes the table, then the file under it.
type closeBoth struct {
	table
	file io.Closer
}

func (c closeBoth) Close() error { return errors.Join(c.table.Close(), c.file.Close()) }

// pickColumn returns the index of the column named want (case-insensitive),
// or of the first of the candidates the file has; -1 and an error when none.
func pickColumn(cols []string, want, what string, candidates []string) (int, error) {
	key := func(s string) string {
		return strings.Join(strings.Fields(strings.ReplaceAll(strings.ToLower(s), "_", " ")), " ")
	}
	if want != "" {
		for i, c := range cols {
			if key(c) == key(want) {
				return i, nil
			}
		}
		return -1, fmt.Errorf("no %s column %q (columns: %s)", what, want, strings.Join(cols, ", "))
	}
	for _, cand := range candidates {
		for i, c := range cols {
			if key(c) == cand {
				return i, nil
			}
		}
	}
	return -1, fmt.Errorf("no %s column found among %s; name it with a flag", what, strings.Join(cols, ", "))
}

// sourceName is the file's base name without .gz and its extension.
func sourceName(path string) string {
	if path == "-" || path == "" {
		return "stdin"
	}
	b := filepath.Base(path)
	b = strings.TrimSuffix(b, ".gz")
	return strings.TrimSuffix(b, filepath.Ext(b))
}
