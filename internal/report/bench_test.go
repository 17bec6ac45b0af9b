package report_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/aicensus/aicensus/internal/report"
	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/store/storetest"
)

// benchStore returns a store file with one synthetic scan of n results
// (about 1% with detections, storetest.Fill) and companies for the first
// nCompanies sites. With AICENSUS_BENCH_DIR set the file is kept there and
// reused by later runs.
func benchStore(b *testing.B, n, nCompanies int) string {
	b.Helper()
	dir := os.Getenv("AICENSUS_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, "report-bench-"+strconv.Itoa(n)+".duckdb")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	ctx := context.Background()
	s, err := store.Open(ctx, path+".tmp", store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := storetest.Fill(ctx, s, storetest.Options{Results: n}); err != nil {
		b.Fatal(err)
	}
	if err := storetest.FillCompanies(ctx, s, storetest.CompanyOptions{Companies: nCompanies}); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		b.Fatal(err)
	}
	return path
}

// peakRSS returns the process's peak resident set (VmHWM) in MB, and
// resetPeak resets it (Linux: clear_refs 5), so a measurement covers only
// what runs in between.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func resetPeak() {
	runtime.GC()
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// benchReport measures the full report (every section but the comparison,
// with a universe estimate) against the baseline of its one unavoidable
// query, the distinct OK domains, in the same run.
func benchReport(b *testing.B, n, nCompanies int) {
	path := benchStore(b, n, nCompanies)
	ctx := context.Background()
	s, err := store.Open(ctx, path, store.Options{ReadOnly: true, MemoryLimit: "1GB"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.Run("baseline-ok-domains", func(b *testing.B) {
		for b.Loop() {
			var k int64
			if err := s.DB().QueryRowContext(ctx, `SELECT count(DISTINCT domain) FROM results WHERE scan_id = 1 AND status = 'ok'`).Scan(&k); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("full-report", func(b *testing.B) {
		b.ReportAllocs()
		resetPeak()
		var r *report.Report
		for b.Loop() {
			if r, err = report.Build(ctx, s, report.Options{Universe: int64(n) * 10}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(peakRSS(), "peak-RSS-MB")
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "results/s")
		if r.Population.OKDomains < int64(n)*6/10 || len(r.Technologies) == 0 || !r.Companies.Available || r.Companies.Baseline.Matched == 0 {
			b.Fatalf("implausible report: %+v", r.Population)
		}
	})
	b.Run("domains-page", func(b *testing.B) {
		for b.Loop() {
			if _, err := report.Domains(ctx, s, report.DomainQuery{Filter: report.Filter{Technology: "Botpress"}, Offset: 500, Limit: 100}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkReport: 1,000,000 results, 100,000 companies.
func BenchmarkReport(b *testing.B) { benchReport(b, 1_000_000, 100_000) }

// BenchmarkReport10M: 10,000,000 results (about 1% with detections) and
// 1,000,000 companies: the target is at most 10 s and 2 GB.
// Set AICENSUS_BENCH_LARGE=1 (and AICENSUS_BENCH_DIR to keep the 200 MB
// store between runs).
func BenchmarkReport10M(b *testing.B) {
	if os.Getenv("AICENSUS_BENCH_LARGE") == "" {
		b.Skip("set AICENSUS_BENCH_LARGE=1 to build a 10M-result store")
	}
	benchReport(b, 10_000_000, 1_000_000)
}

// BenchmarkCompare10M compares two 10M-result scans (same targets).
func BenchmarkCompare10M(b *testing.B) {
	if os.Getenv("AICENSUS_BENCH_LARGE") == "" {
		b.Skip("set AICENSUS_BENCH_LARGE=1 to build a 10M-result store")
	}
	benchCompare(b, 10_000_000)
}

// BenchmarkCompare compares two 1M-result scans.
func BenchmarkCompare(b *testing.B) { benchCompare(b, 1_000_000) }

func benchCompare(b *testing.B, n int) {
	ctx := context.Background()
	dir := os.Getenv("AICENSUS_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, "compare-bench-"+strconv.Itoa(n)+".duckdb")
	if _, err := os.Stat(path); err != nil {
		s, err := store.Open(ctx, path, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, rate := range []float64{0.01, 0.012} {
			if _, err := storetest.Fill(ctx, s, storetest.Options{Results: n, DetectionRate: rate}); err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
	}
	s, err := store.Open(ctx, path, store.Options{ReadOnly: true, MemoryLimit: "1GB"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	resetPeak()
	for b.Loop() {
		r, err := report.Build(ctx, s, report.Options{ScanID: 2, CompareBefore: 1, CompareAfter: 2})
		if err != nil {
			b.Fatal(err)
		}
		if r.Compare.CommonOK == 0 {
			b.Fatal("no common domains")
		}
	}
	b.ReportMetric(peakRSS(), "peak-RSS-MB")
}
