package storetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aicensus/aicensus/internal/store"
)

func benchFill(b *testing.B, n int) {
	ctx := context.Background()
	var size int64
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "fill.duckdb")
		s, err := store.Open(ctx, path, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := Fill(ctx, s, Options{Results: n}); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		size = fi.Size()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "results/s")
	b.ReportMetric(float64(size)/(1<<20), "file-MB")
}

// BenchmarkFill measures building a 1,000,000-result store (1% detections).
func BenchmarkFill(b *testing.B) { benchFill(b, 1_000_000) }

// BenchmarkFill10M builds the 10,000,000-result store the reports
// benchmark uses; it runs only with AICENSUS_BENCH_LARGE=1.
func BenchmarkFill10M(b *testing.B) {
	if os.Getenv("AICENSUS_BENCH_LARGE") == "" {
		b.Skip("set AICENSUS_BENCH_LARGE=1 to build a 10M-result store")
	}
	benchFill(b, 10_000_000)
}

// reportQueries are typical report queries on the schema (docs/store.md).
var reportQueries = map[string]string{
	"status-counts": `SELECT status, count(*) FROM results WHERE scan_id = $1 GROUP BY status`,
	"adoption-per-technology": `SELECT technology, count(DISTINCT domain) AS domains FROM detections
		WHERE scan_id = $1 AND status = 'ok' AND running GROUP BY technology ORDER BY domains DESC`,
	"ok-domains": `SELECT count(DISTINCT domain) FROM results WHERE scan_id = $1 AND status = 'ok'`,
	"per-evidence-class": `SELECT technology, c AS class, count(DISTINCT domain) FROM detections, unnest(classes) AS u(c)
		WHERE scan_id = $1 AND status = 'ok' GROUP BY ALL`,
	"open-vs-closed-per-domain": `SELECT open_source, count(*) FROM (SELECT domain, bool_or(open_source) AS open_source
		FROM detections WHERE scan_id = $1 AND ai GROUP BY domain) GROUP BY open_source`,
}

func benchQueries(b *testing.B, n int) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(b.TempDir(), "q.duckdb"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	sc, err := Fill(ctx, s, Options{Results: n})
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"status-counts", "ok-domains", "adoption-per-technology", "per-evidence-class", "open-vs-closed-per-domain"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				rows, err := s.DB().QueryContext(ctx, reportQueries[name], sc.ID)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				if err := rows.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkQueries runs typical report queries on a 1,000,000-result store.
func BenchmarkQueries(b *testing.B) { benchQueries(b, 1_000_000) }

// BenchmarkQueries10M runs them on 10,000,000 results (AICENSUS_BENCH_LARGE=1).
func BenchmarkQueries10M(b *testing.B) {
	if os.Getenv("AICENSUS_BENCH_LARGE") == "" {
		b.Skip("set AICENSUS_BENCH_LARGE=1 to build a 10M-result store")
	}
	benchQueries(b, 10_000_000)
}
