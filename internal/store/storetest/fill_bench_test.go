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
