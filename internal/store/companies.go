package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// migration2 adds company (firmographic) data keyed by registrable domain,
// so reports can join it to results.domain and detections.domain:
//
//   - company_imports: one row per import of a dataset;
//   - company_sources: every accepted row of every imported dataset;
//   - companies: one row per domain, resolved from company_sources by the
//     rule documented on ImportCompanies.
func migration2() migration {
	return migration{version: 2, name: "companies", stmts: []string{
		`CREATE SEQUENCE company_import_seq START 1`,
		`CREATE TABLE company_imports (
			id          BIGINT PRIMARY KEY,
			source      VARCHAR NOT NULL,
			file        VARCHAR,
			format      VARCHAR,
			imported_at TIMESTAMP NOT NULL,
			rows_stored BIGINT NOT NULL,
			counters    JSON
		)`,
		`CREATE TABLE company_sources (
			import_id   BIGINT NOT NULL,
			source      VARCHAR NOT NULL,
			domain      VARCHAR NOT NULL,
			name        VARCHAR,
			employees   BIGINT,
			size_bucket VARCHAR NOT NULL,
			size_min    BIGINT NOT NULL,
			line        BIGINT
		)`,
		`CREATE TABLE companies (
			domain      VARCHAR NOT NULL,
			name        VARCHAR,
			employees   BIGINT,
			size_bucket VARCHAR NOT NULL,
			size_min    BIGINT NOT NULL,
			source      VARCHAR NOT NULL,
			n_sources   INTEGER NOT NULL,
			conflict    BOOLEAN NOT NULL
		)`,
	}}
}

// SizeBucket is one company-size class by number of employees, Min to Max
// inclusive (Max 0: no upper bound).
type SizeBucket struct {
	Label    string
	Min, Max int64
}

// SizeBuckets returns the company-size buckets, smallest first. The labels
// are the values of companies.size_bucket and company_sources.size_bucket.
func SizeBuckets() []SizeBucket {
	return []SizeBucket{
		{"1-10", 1, 10}, {"11-50", 11, 50}, {"51-200", 51, 200}, {"201-500", 201, 500},
		{"501-1000", 501, 1000}, {"1001-5000", 1001, 5000}, {"5001-10000", 5001, 10000},
		{"10001+", 10001, 0},
	}
}

// BucketOf returns the bucket holding n employees; ok is false for n < 1.
func BucketOf(n int64) (b SizeBucket, ok bool) {
	for _, b := range SizeBuckets() {
		if n >= b.Min && (b.Max == 0 || n <= b.Max) {
			return b, true
		}
	}
	return SizeBucket{}, false
}

// LookupBucket returns the bucket with the given label.
func LookupBucket(label string) (SizeBucket, bool) {
	for _, b := range SizeBuckets() {
		if b.Label == label {
			return b, true
		}
	}
	return SizeBucket{}, false
}

// Company is one accepted row of a company dataset.
type Company struct {
	// Domain is the registrable domain, lowercase (the join key to
	// results.domain); required.
	Domain string
	Name   string
	// Employees is the headcount when the source gives a number (0 when it
	// gives only a range).
	Employees int64
	// Bucket is the SizeBuckets label; required.
	Bucket string
	// Line is the row's line (or row number) in the source, for messages.
	Line int64
}

// CompanyImport describes one import of a dataset.
type CompanyImport struct {
	// Source names the dataset; importing the same Source again replaces
	// its rows. Required.
	Source string
	File   string // where the rows came from
	Format string // csv, jsonl, parquet
	// Counters are the importer's own counts (rows read, skipped by
	// reason), stored as JSON with the import.
	Counters map[string]int64
}

// CompanyImportStats says what an import changed.
type CompanyImportStats struct {
	ImportID int64
	Rows     int64 // rows stored for the source
	Domains  int64 // distinct domains among them
	// Replaced is the number of rows of an earlier import of the same
	// source that were removed.
	Replaced int64
	// Companies is the number of domains in the resolved companies table.
	Companies int64
	// Conflicts is the number of domains whose sources disagree on the
	// size bucket (after the import).
	Conflicts int64
}

// ImportCompanies stores the rows of one dataset and rebuilds the resolved
// companies table, all in one transaction (a failed import changes nothing).
// Rows of an earlier import with the same Source are replaced. rows is
// consumed once; an error it yields aborts the import and is returned.
//
// Resolution, one row per domain over every source (the disagreement rule):
//  1. a row with an exact headcount (Employees > 0) beats a row that only
//     gives a range;
//  2. then the most recent import wins;
//  3. then, for a domain listed more than once in one source, the largest
//     company (employees, then bucket) wins;
//  4. then the earliest line.
//
// companies.conflict is true when the sources' own choices (rules 1, 3 and 4
// applied within each source) fall in different buckets.
func (s *Store) ImportCompanies(ctx context.Context, imp CompanyImport, rows iter.Seq2[Company, error]) (CompanyImportStats, error) {
	var st CompanyImportStats
	if s.readOnly {
		return st, fmt.Errorf("import companies: %w: store opened read-only", ErrInvalid)
	}
	if strings.TrimSpace(imp.Source) == "" {
		return st, fmt.Errorf("import companies: %w: empty source name", ErrInvalid)
	}
	counters, err := json.Marshal(imp.Counters)
	if err != nil {
		return st, fmt.Errorf("import companies: %w", err)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return st, fmt.Errorf("import companies: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
		return st, fmt.Errorf("import companies: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		}
	}()
	if err := conn.QueryRowContext(ctx, `SELECT nextval('company_import_seq')`).Scan(&st.ImportID); err != nil {
		return st, fmt.Errorf("import companies: %w", err)
	}
	res, err := conn.ExecContext(ctx, `DELETE FROM company_sources WHERE source = ?`, imp.Source)
	if err != nil {
		return st, fmt.Errorf("import companies: %w", err)
	}
	st.Replaced, _ = res.RowsAffected()
	if st.Rows, err = appendCompanies(ctx, conn, st.ImportID, imp.Source, rows); err != nil {
		return st, fmt.Errorf("import companies %s: %w", imp.Source, err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO company_imports VALUES (?, ?, ?, ?, ?, ?, ?)`,
		st.ImportID, imp.Source, nullStr(imp.File), nullStr(imp.Format), nowUTC(), st.Rows, string(counters)); err != nil {
		return st, fmt.Errorf("import companies: %w", err)
	}
	for _, q := range resolveCompaniesSQL() {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return st, fmt.Errorf("import companies: resolve: %w", err)
		}
	}
	err = conn.QueryRowContext(ctx, `SELECT
			(SELECT count(DISTINCT domain) FROM company_sources WHERE import_id = $1),
			(SELECT count(*) FROM companies),
			(SELECT count(*) FILTER (WHERE conflict) FROM companies)`, st.ImportID).Scan(&st.Domains, &st.Companies, &st.Conflicts)
	if err != nil {
		return st, fmt.Errorf("import companies: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		return st, fmt.Errorf("import companies: commit: %w", err)
	}
	committed = true
	return st, nil
}

// appendCompanies appends rows to company_sources on conn (inside its open
// transaction) and returns how many it appended.
func appendCompanies(ctx context.Context, conn *sql.Conn, importID int64, source string, rows iter.Seq2[Company, error]) (int64, error) {
	var n int64
	err := conn.Raw(func(dc any) error {
		a := &appenders{dc: dc.(driver.Conn), m: map[string]*duckdb.Appender{}}
		err := func() error {
			for c, err := range rows {
				if err != nil {
					return err
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				b, ok := LookupBucket(c.Bucket)
				if c.Domain == "" || !ok || c.Employees < 0 {
					return fmt.Errorf("line %d: %w: company needs a domain and a size bucket (got %q, %q)", c.Line, ErrInvalid, c.Domain, c.Bucket)
				}
				err := a.row("company_sources", importID, source, c.Domain, nullStr(c.Name), nullInt(c.Employees),
					b.Label, b.Min, nullInt(c.Line))
				if err != nil {
					return err
				}
				n++
			}
			return nil
		}()
		return errors.Join(err, a.close())
	})
	return n, err
}

// resolveCompaniesSQL rebuilds companies from company_sources (see
// ImportCompanies for the rule).
func resolveCompaniesSQL() []string {
	return []string{
		`DELETE FROM companies`,
		`INSERT INTO companies (domain, name, employees, size_bucket, size_min, source, n_sources, conflict)
		WITH per_source AS (
			SELECT * FROM company_sources
			QUALIFY row_number() OVER (PARTITION BY domain, source
				ORDER BY (employees IS NOT NULL) DESC, import_id DESC,
					coalesce(employees, size_min) DESC, size_min DESC, line ASC) = 1
		)
		SELECT domain,
			arg_max(name, k), arg_max(employees, k), arg_max(size_bucket, k), arg_max(size_min, k), arg_max(source, k),
			count(*)::INTEGER, count(DISTINCT size_bucket) > 1
		FROM (SELECT *, ((employees IS NOT NULL)::INTEGER, import_id) AS k FROM per_source)
		GROUP BY domain`,
	}
}

// ResolveCompanies rebuilds the companies table from company_sources with
// the rule documented on ImportCompanies (which already calls it). It is for
// tools that fill company_sources with SQL, such as storetest.
func (s *Store) ResolveCompanies(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("resolve companies: %w", err)
	}
	defer tx.Rollback()
	for _, q := range resolveCompaniesSQL() {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("resolve companies: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("resolve companies: %w", err)
	}
	return nil
}

// CompanySourceInfo describes one imported dataset as stored.
type CompanySourceInfo struct {
	Source     string
	File       string
	Format     string
	ImportedAt time.Time
	Rows       int64
	Counters   map[string]int64 // never nil
}

// CompanySources lists the datasets whose rows are stored (the latest import
// of each source), oldest first. Old files without the companies tables give
// none.
func (s *Store) CompanySources(ctx context.Context) ([]CompanySourceInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source, coalesce(file, ''), coalesce(format, ''), imported_at, rows_stored,
			coalesce(CAST(counters AS VARCHAR), '{}')
		FROM company_imports
		WHERE id IN (SELECT max(id) FROM company_imports GROUP BY source)
			AND source IN (SELECT DISTINCT source FROM company_sources)
		ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("company sources: %w", err)
	}
	defer rows.Close()
	var out []CompanySourceInfo
	for rows.Next() {
		var c CompanySourceInfo
		var counters string
		if err := rows.Scan(&c.Source, &c.File, &c.Format, &c.ImportedAt, &c.Rows, &counters); err != nil {
			return nil, fmt.Errorf("company sources: %w", err)
		}
		c.Counters = map[string]int64{}
		if err := json.Unmarshal([]byte(counters), &c.Counters); err != nil {
			return nil, fmt.Errorf("company sources: counters of %s: %w", c.Source, err)
		}
		c.ImportedAt = c.ImportedAt.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}
