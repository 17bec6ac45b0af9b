package github

import (
	"bufio"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // read_parquet for Parquet inputs
)

// Loaded is what Load read.
type Loaded struct {
	Repos []Repo
	// Columns maps each canonical column to the source column used; a
	// canonical column absent from every input has no entry.
	Columns map[string]string
	// Skipped counts rows without a usable full name.
	Skipped int
	// Duplicates counts rows dropped because a later row had the same
	// full name (case-insensitive); the last row wins.
	Duplicates int
}

// Loader reads repository metadata files. Overrides maps a canonical column
// to the source column to use instead of the aliases. DB is a DuckDB handle
// for Parquet (an in-memory one is opened when nil). A Loader is not safe
// for concurrent use.
type Loader struct {
	Overrides map[string]string
	DB        *sql.DB
}

// Load reads every path (JSON lines, CSV, Parquet; .gz allowed for the first
// two) and merges rows by full name.
func (l *Loader) Load(ctx context.Context, paths []string) (*Loaded, error) {
	out := &Loaded{Columns: map[string]string{}}
	index := map[string]int{}
	for _, p := range paths {
		add := func(get getter) {
			r, ok := l.repoOf(get, out.Columns)
			if !ok {
				out.Skipped++
				return
			}
			key := strings.ToLower(r.FullName)
			if i, dup := index[key]; dup {
				out.Repos[i] = r
				out.Duplicates++
				return
			}
			index[key] = len(out.Repos)
			out.Repos = append(out.Repos, r)
		}
		var err error
		switch lower := strings.ToLower(p); {
		case strings.HasSuffix(lower, ".parquet"):
			err = l.readParquet(ctx, p, add)
		case strings.Contains(lower, ".csv"):
			err = readCSV(p, add)
		default:
			err = readJSONL(p, add)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
	}
	return out, nil
}

// getter returns the raw value of a source column (case-insensitive).
type getter func(col string) (any, bool)

// repoOf maps one record to a Repo using overrides and aliases.
func (l *Loader) repoOf(get getter, used map[string]string) (Repo, bool) {
	r := Repo{Stars: -1}
	for canon, aliases := range Aliases() {
		if o, ok := l.Overrides[canon]; ok {
			aliases = []string{o}
		}
		for _, a := range aliases {
			v, ok := get(a)
			if !ok || v == nil {
				continue
			}
			if !assign(&r, canon, v) {
				continue
			}
			if _, seen := used[canon]; !seen {
				used[canon] = a
			}
			break
		}
	}
	return r, r.FullName != ""
}

// assign stores v in the canonical field; false when v does not parse.
func assign(r *Repo, canon string, v any) bool {
	switch canon {
	case ColFullName:
		r.FullName = fullNameOf(toString(v))
		return r.FullName != ""
	case ColTopics:
		r.Topics = toTopics(v)
		return true
	case ColStars:
		n, ok := toInt(v)
		if ok && n >= 0 {
			r.Stars = n
		}
		return ok
	case ColCreatedAt:
		t, ok := toTime(v)
		r.CreatedAt = t
		return ok
	case ColFork:
		r.Fork = toBool(v)
		return true
	case ColArchived:
		r.Archived = toBool(v)
		return true
	case ColLanguage:
		r.Language = toString(v)
		return true
	}
	return false
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case map[string]any: // GraphQL {"name": "Go"}
		if n, ok := x["name"].(string); ok {
			return n
		}
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int:
		return int64(x), true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false
		}
		return int64(x), true
	case json.Number:
		f, err := x.Float64()
		return int64(f), err == nil
	case map[string]any: // GraphQL {"totalCount": n}
		return toInt(x["totalCount"])
	}
	s := strings.TrimSpace(toString(v))
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return int64(f), true
}

func toBool(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case nil:
		return false
	}
	b, _ := strconv.ParseBool(strings.TrimSpace(toString(v)))
	return b
}

func toTime(v any) (time.Time, bool) {
	if t, ok := v.(time.Time); ok {
		return t.UTC(), true
	}
	s := strings.TrimSpace(toString(v))
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// toTopics accepts a list, a JSON array string, a Python-style list string,
// or a string separated by ";", "|" or ",".
func toTopics(v any) []string {
	var raw []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok { // GraphQL {"topic":{"name":…}}
				if t, ok := m["topic"].(map[string]any); ok {
					e = t["name"]
				} else {
					e = m["name"]
				}
			}
			raw = append(raw, toString(e))
		}
	case []string:
		raw = x
	default:
		s := strings.TrimSpace(toString(v))
		if strings.HasPrefix(s, "[") {
			var arr []string
			if json.Unmarshal([]byte(s), &arr) == nil {
				raw = arr
				break
			}
			s = strings.Trim(s, "[]")
		}
		raw = strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' || r == ',' })
	}
	var out []string
	for _, t := range raw {
		if n := NormalizeTopic(t); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// open returns a reader of path, gunzipping when it starts with the gzip
// magic.
func open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 1<<16)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, err
		}
		return struct {
			io.Reader
			io.Closer
		}{zr, f}, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{br, f}, nil
}

func readCSV(path string, add func(getter)) error {
	rc, err := open(path)
	if err != nil {
		return err
	}
	defer rc.Close()
	return decodeCSV(rc, add)
}

// decodeCSV reads a CSV with a header row.
func decodeCSV(r io.Reader, add func(getter)) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("csv header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("csv: %w", err)
		}
		add(func(name string) (any, bool) {
			i, ok := col[strings.ToLower(name)]
			if !ok || i >= len(rec) || strings.TrimSpace(rec[i]) == "" {
				return nil, false
			}
			return rec[i], true
		})
	}
}

func readJSONL(path string, add func(getter)) error {
	rc, err := open(path)
	if err != nil {
		return err
	}
	defer rc.Close()
	return decodeJSONL(rc, add)
}

// decodeJSONL reads one JSON object per line (or a stream of objects).
func decodeJSONL(r io.Reader, add func(getter)) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	for n := 1; ; n++ {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("json object %d: %w", n, err)
		}
		lower := make(map[string]any, len(obj))
		for k, v := range obj {
			lower[strings.ToLower(k)] = v
		}
		add(func(name string) (any, bool) {
			v, ok := lower[strings.ToLower(name)]
			return v, ok
		})
	}
}

func (l *Loader) readParquet(ctx context.Context, path string, add func(getter)) error {
	db := l.DB
	if db == nil {
		var err error
		if db, err = sql.Open("duckdb", ""); err != nil {
			return err
		}
		defer db.Close()
	}
	rows, err := db.QueryContext(ctx, "SELECT * FROM read_parquet('"+strings.ReplaceAll(path, "'", "''")+"')")
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	col := map[string]int{}
	for i, c := range cols {
		col[strings.ToLower(c)] = i
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		add(func(name string) (any, bool) {
			i, ok := col[strings.ToLower(name)]
			if !ok {
				return nil, false
			}
			return vals[i], vals[i] != nil
		})
	}
	return rows.Err()
}
