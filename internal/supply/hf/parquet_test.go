package hf

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2" // DuckDB writes the test files
)

// sqlString quotes s as a SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// writeParquet runs a DuckDB COPY of query to a new Parquet file.
func writeParquet(t testing.TB, query string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "models.parquet")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("COPY (" + query + ") TO " + sqlString(path) + " (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadParquetSchemas(t *testing.T) {
	tests := []struct {
		name        string
		query       string
		downloads   []int64
		allTime     []int64
		created     []int64
		authors     []string
		sources     int
		disabledSet bool
	}{
		{
			name: "hub-stats types",
			query: `SELECT * FROM (VALUES
				('openai/gpt-oss-20b', 'openai', 5::BIGINT, 70::BIGINT, 3::BIGINT, TIMESTAMPTZ '2025-08-04 16:30:00+00', ['license:apache-2.0'], false),
				('gpt2', NULL, NULL, 9::BIGINT, 0::BIGINT, TIMESTAMPTZ '2022-03-02 23:29:04+00', [], true))
				t(id, author, downloads, downloadsAllTime, likes, createdAt, tags, disabled)`,
			downloads: []int64{5, Missing}, allTime: []int64{70, 9}, created: []int64{1754325000, PlaceholderCreatedAt},
			authors: []string{"openai", ""}, sources: 4, disabledSet: true,
		},
		{
			name: "timestamp millis, date, int32 and nulls",
			query: `SELECT * FROM (VALUES ('a/b', 7::INTEGER, NULL::BIGINT, TIMESTAMP_MS '2024-01-01 00:00:01', DATE '2024-02-01'),
				('c/d', NULL::INTEGER, 3::BIGINT, NULL::TIMESTAMP_MS, NULL::DATE)) t(id, downloads, downloadsAllTime, createdAt, other)`,
			downloads: []int64{7, Missing}, allTime: []int64{Missing, 3}, created: []int64{1704067201, Missing},
			authors: []string{"a", "c"}, sources: 3,
		},
		{
			name:      "date createdAt, numeric strings",
			query:     `SELECT * FROM (VALUES ('a/b', '12', DATE '2024-02-01'), ('c/d', 'x', DATE '1969-12-31')) t(id, likes, created_at)`,
			downloads: []int64{Missing, Missing}, allTime: []int64{Missing, Missing}, created: []int64{1706745600, -86400},
			authors: []string{"a", "c"}, sources: 2,
		},
		{
			name: "strings, doubles, no all-time",
			query: `SELECT * FROM (VALUES ('x/y', 12.0::DOUBLE, '2024-01-01T00:00:00.000Z'), ('z/w', -4.0::DOUBLE, 'not a date'))
				t(modelId, downloads, createdAt)`,
			downloads: []int64{12, Missing}, allTime: []int64{Missing, Missing}, created: []int64{1704067200, Missing},
			authors: []string{"x", "z"}, sources: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeParquet(t, tc.query)
			m, ins, _, err := (&Loader{}).Load(context.Background(), []string{path})
			if err != nil {
				t.Fatal(err)
			}
			if ins[0].Format != "parquet" || !equal(m.Downloads, tc.downloads) || !equal(m.DownloadsAllTime, tc.allTime) || !equal(m.CreatedAt, tc.created) {
				t.Fatalf("format %s downloads %v all-time %v created %v", ins[0].Format, m.Downloads, m.DownloadsAllTime, m.CreatedAt)
			}
			if m.Author[0] != tc.authors[0] || m.Author[1] != tc.authors[1] || len(m.Sources) != tc.sources {
				t.Fatalf("authors %q sources %v", m.Author, m.Sources)
			}
			if m.Disabled[1] != tc.disabledSet {
				t.Fatalf("disabled = %v", m.Disabled)
			}
		})
	}
}

func TestLoadParquetNeedsID(t *testing.T) {
	path := writeParquet(t, `SELECT 1 AS downloads`)
	if _, _, _, err := (&Loader{}).Load(context.Background(), []string{path}); !errors.Is(err, ErrNoIDColumn) {
		t.Fatalf("a file without id: %v", err)
	}
	if _, err := LoadParquet(context.Background(), filepath.Join(t.TempDir(), "*.parquet"), false); err == nil {
		t.Fatal("an empty glob loaded")
	}
}
