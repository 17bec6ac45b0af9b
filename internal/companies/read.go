package companies

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Format is a company file format.
type Format string

// The formats Import reads.
const (
	FormatCSV     Format = "csv"     // CSV or TSV with a header row, optionally gzipped
	FormatJSONL   Format = "jsonl"   // one JSON object per line, optionally gzipped
	FormatParquet Format = "parquet" // read by DuckDB's read_parquet
)

// ParseFormat checks a format name; "" means "from the file name".
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "", FormatCSV, FormatJSONL, FormatParquet:
		return f, nil
	case "tsv":
		return FormatCSV, nil
	case "ndjson", "json":
		return FormatJSONL, nil
	}
	return "", fmt.Errorf("unknown company file format %q (want csv, jsonl or parquet)", s)
}

// formatOf guesses the format from the file name: .parquet, .jsonl/.ndjson/
// .json, else CSV (also for stdin).
func formatOf(path string) Format {
	p := strings.TrimSuffix(strings.ToLower(path), ".gz")
	switch filepath.Ext(p) {
	case ".parquet", ".pq":
		return FormatParquet
	case ".jsonl", ".ndjson", ".json":
		return FormatJSONL
	}
	return FormatCSV
}

// table is a stream of records with named columns.
type table interface {
	// Columns are the column names (a CSV header; the keys of the first
	// JSON object; the Parquet schema).
	Columns() []string
	// Next returns the next record's values aligned to Columns (missing
	// cells are ""), and the line (or row) it starts on. It returns io.EOF
	// at the end. A *recordError is a bad record that can be skipped.
	Next() (line int64, values []string, err error)
	Close() error
}

// recordError is one unusable record (a JSON line that is not an object).
type recordError struct {
	line int64
	err  error
}

func (e *recordError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }
func (e *recordError) Unwrap() error { return e.err }

// maybeGunzip returns r decompressed when it starts with the gzip magic.
func maybeGunzip(r io.Reader) (io.Reader, io.Closer, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, zr, nil
	}
	return br, io.NopCloser(nil), nil
}

// csvTable reads CSV or TSV with a header row. Quoted cells may span lines
// (encoding/csv); quotes inside unquoted cells are kept (LazyQuotes).
type csvTable struct {
	r      *csv.Reader
	cols   []string
	closer io.Closer
}

func newCSVTable(r io.Reader, tsv bool) (*csvTable, error) {
	zr, closer, err := maybeGunzip(r)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(zr, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	if !tsv {
		// A header line with tabs and no commas is TSV.
		if head, _ := br.Peek(4096); len(head) > 0 {
			first, _, _ := bytes.Cut(head, []byte{'\n'})
			tsv = bytes.IndexByte(first, '\t') >= 0 && bytes.IndexByte(first, ',') < 0
		}
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	if tsv {
		cr.Comma = '\t'
	}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("empty file: no header row")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = strings.TrimSpace(h)
	}
	return &csvTable{r: cr, cols: cols, closer: closer}, nil
}

func (t *csvTable) Columns() []string { return t.cols }

func (t *csvTable) Next() (int64, []string, error) {
	rec, err := t.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// A broken quote costs its record; the reader goes on after it.
			return int64(pe.StartLine), nil, &recordError{int64(pe.StartLine), err}
		}
		return 0, nil, err
	}
	line, _ := t.r.FieldPos(0)
	vals := make([]string, len(t.cols))
	copy(vals, rec)
	return int64(line), vals, nil
}

func (t *csvTable) Close() error { return t.closer.Close() }

// jsonlTable reads JSON Lines: the keys of the first object are the
// columns; numbers are kept as written, other non-string values as JSON.
type jsonlTable struct {
	sc     *bufio.Scanner
	cols   []string
	closer io.Closer
	line   int64
	first  map[string]json.RawMessage
	firstN int64
}

func newJSONLTable(r io.Reader) (*jsonlTable, error) {
	zr, closer, err := maybeGunzip(r)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	t := &jsonlTable{sc: sc, closer: closer}
	for {
		line, obj, err := t.object()
		if err == io.EOF {
			return nil, errors.New("empty file: no JSON object")
		}
		var re *recordError
		if errors.As(err, &re) {
			continue // a bad first line does not decide the columns
		}
		if err != nil {
			return nil, err
		}
		for k := range obj {
			t.cols = append(t.cols, k)
		}
		slices.Sort(t.cols)
		t.first, t.firstN = obj, line
		return t, nil
	}
}

// object reads the next non-blank line as a JSON object.
func (t *jsonlTable) object() (int64, map[string]json.RawMessage, error) {
	for t.sc.Scan() {
		t.line++
		b := bytes.TrimSpace(t.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
			if err == nil {
				err = errors.New("not a JSON object")
			}
			return t.line, nil, &recordError{t.line, err}
		}
		return t.line, obj, nil
	}
	if err := t.sc.Err(); err != nil {
		return t.line, nil, err
	}
	return t.line, nil, io.EOF
}

func (t *jsonlTable) Columns() []string { return t.cols }

func (t *jsonlTable) Next() (int64, []string, error) {
	line, obj := t.firstN, t.first
	if obj != nil {
		t.first = nil
	} else {
		var err error
		if line, obj, err = t.object(); err != nil {
			return line, nil, err
		}
	}
	vals := make([]string, len(t.cols))
	for i, c := range t.cols {
		vals[i] = jsonCell(obj[c])
	}
	return line, vals, nil
}

func (t *jsonlTable) Close() error { return t.closer.Close() }

// jsonCell renders a JSON value as a cell: strings unquoted, whole numbers
// without exponent, null as "", anything else as its JSON text.
func jsonCell(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	switch v[0] {
	case '"':
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if f, err := strconv.ParseFloat(string(v), 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return strconv.FormatInt(int64(f), 10)
		}
	}
	return string(v)
}

// parquetTable reads a Parquet file through DuckDB's read_parquet, every
// column cast to VARCHAR.
type parquetTable struct {
	rows *sql.Rows
	cols []string
	n    int64
	dest []sql.NullString
	ptrs []any
}

func newParquetTable(ctx context.Context, db *sql.DB, path string) (*parquetTable, error) {
	rows, err := db.QueryContext(ctx, `SELECT * FROM read_parquet(?) LIMIT 0`, path)
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	cols, err := rows.Columns()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	casts := make([]string, len(cols))
	for i, c := range cols {
		casts[i] = `CAST("` + strings.ReplaceAll(c, `"`, `""`) + `" AS VARCHAR)`
	}
	rows, err = db.QueryContext(ctx, `SELECT `+strings.Join(casts, ", ")+` FROM read_parquet(?)`, path)
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	t := &parquetTable{rows: rows, cols: cols, dest: make([]sql.NullString, len(cols)), ptrs: make([]any, len(cols))}
	for i := range t.dest {
		t.ptrs[i] = &t.dest[i]
	}
	return t, nil
}

func (t *parquetTable) Columns() []string { return t.cols }

func (t *parquetTable) Next() (int64, []string, error) {
	if !t.rows.Next() {
		if err := t.rows.Err(); err != nil {
			return t.n, nil, fmt.Errorf("parquet: %w", err)
		}
		return t.n, nil, io.EOF
	}
	if err := t.rows.Scan(t.ptrs...); err != nil {
		return t.n, nil, fmt.Errorf("parquet: %w", err)
	}
	t.n++
	vals := make([]string, len(t.cols))
	for i, d := range t.dest {
		vals[i] = d.String
	}
	return t.n, vals, nil
}

func (t *parquetTable) Close() error { return t.rows.Close() }
