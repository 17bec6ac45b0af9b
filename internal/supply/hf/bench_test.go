package hf

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// hubStatsQuery generates n rows in the hub-stats schema: 50,000 authors,
// log-uniform downloads, creation dates from the placeholder on, tags.
func hubStatsQuery(n int) string {
	return `SELECT 'author' || (i % 50000) || '/model-' || i AS id, 'author' || (i % 50000) AS author,
		CAST(floor(pow(10, random()*7)) AS BIGINT) - 1 AS downloads,
		CAST(floor(pow(10, random()*9)) AS BIGINT) - 1 AS downloadsAllTime,
		CAST(floor(pow(10, random()*3)) AS BIGINT) - 1 AS likes,
		TIMESTAMPTZ '2022-03-02 23:29:04+00' + to_seconds(CAST(random()*1.4e8 AS BIGINT)) AS createdAt,
		'text-generation' AS pipeline_tag, 'transformers' AS library_name,
		['license:mit', 'transformers', 'region:us'] AS tags
		FROM range(` + itoa(n) + `) t(i)`
}

func itoa(n int) string {
	b := []byte{}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	if len(b) == 0 {
		return "0"
	}
	return string(b)
}

// BenchmarkHubStats3M measures `aicensus supply hf` on a generated
// 3,000,000-row hub-stats Parquet file: load through DuckDB read_parquet plus
// every metric (target: at most 10 s). The baseline is the bare parquet-go
// decode of the same four columns, the floor any reader pays.
func BenchmarkHubStats3M(b *testing.B) {
	const n = 3_000_000
	path := writeParquet(b, hubStatsQuery(n))
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("baseline-parquet-go-4-columns", func(b *testing.B) {
		b.SetBytes(st.Size())
		b.ReportAllocs()
		for b.Loop() {
			if got := scanColumns(b, path, "id", "author", "downloads", "downloadsAllTime"); got != 4*n {
				b.Fatalf("read %d values", got)
			}
		}
	})
	b.Run("alternative-duckdb-row-scan", func(b *testing.B) {
		b.SetBytes(st.Size())
		b.ReportAllocs()
		for b.Loop() {
			if got := duckdbScan(b, path); got != n {
				b.Fatalf("scanned %d rows", got)
			}
		}
	})
	b.Run("load", func(b *testing.B) {
		b.SetBytes(st.Size())
		b.ReportAllocs()
		for b.Loop() {
			m, _, _, err := (&Loader{}).Load(context.Background(), []string{path})
			if err != nil || m.Len() != n {
				b.Fatal(err)
			}
		}
	})
	b.Run("load+compute", func(b *testing.B) {
		b.SetBytes(st.Size())
		b.ReportAllocs()
		for b.Loop() {
			m, _, _, err := (&Loader{}).Load(context.Background(), []string{path})
			if err != nil {
				b.Fatal(err)
			}
			r := Compute(m, Config{})
			if r.Models != n {
				b.Fatalf("models %d", r.Models)
			}
		}
	})
}

// duckdbScan reads the columns the metrics need through DuckDB's
// read_parquet and database/sql, the alternative measured against parquet-go.
func duckdbScan(b *testing.B, path string) int {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT author, downloads, downloadsAllTime, likes, epoch(createdAt) FROM read_parquet(` + sqlString(path) + `)`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	n := 0
	var author sql.RawBytes
	var d, a, l int64
	var c float64
	for rows.Next() {
		if err := rows.Scan(&author, &d, &a, &l, &c); err != nil {
			b.Fatal(err)
		}
		n++
	}
	return n
}

// scanColumns decodes every value of the named columns with parquet-go.
func scanColumns(b *testing.B, path string, cols ...string) int {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]parquet.Value, 4096)
	n := 0
	for _, name := range cols {
		leaf, ok := pf.Schema().Lookup(name)
		if !ok {
			b.Fatalf("no column %s", name)
		}
		for _, rg := range pf.RowGroups() {
			pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
			for {
				p, err := pages.ReadPage()
				if err != nil {
					break
				}
				vr := p.Values()
				for {
					k, err := vr.ReadValues(buf)
					n += k
					if err != nil {
						break
					}
				}
				parquet.Release(p)
			}
			pages.Close()
		}
	}
	return n
}
