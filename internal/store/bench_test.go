package store_test

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/store/storetest"
)

func benchStore(b *testing.B) *store.Store {
	b.Helper()
	s, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "bench.duckdb"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchResult is a typical live result; 1% have two detections with two
// pieces of evidence each.
func benchResult(scanID int64, i int) model.Result {
	target := fmt.Sprintf("site%d.example.com", i)
	r := model.Result{ScanID: scanID, Target: target, Line: i, Domain: "example.com", Status: model.StatusOK,
		URL: "https://" + target + "/", HTTPStatus: 200, Time: time.Unix(1793491200, 0).UTC(), DurationMS: 420,
		Detections: []model.Detection{}}
	if i%4 == 0 {
		r.Status, r.URL, r.HTTPStatus, r.Error = model.StatusDNSNXDomain, "", 0, "no such host"
	}
	if i%100 == 0 {
		r.Status, r.URL, r.HTTPStatus, r.Error = model.StatusOK, "https://"+target+"/", 200, ""
		for _, tech := range []string{"OpenAI", "Intercom"} {
			r.Detections = append(r.Detections, model.Detection{Technology: tech, Version: "1.2", Categories: []string{"AI chatbot"},
				License: "proprietary", AI: true, Confidence: 100, EvidenceClass: model.ClassPageEmbed, Evidence: []model.Evidence{
					{Signal: "scriptSrc", Pattern: `cdn\.` + tech, Match: "cdn." + tech, Location: r.URL, Class: model.ClassPageEmbed, Via: model.ViaStatic},
					{Signal: "csp", Pattern: tech, Match: tech, Location: "csp:script-src", Class: model.ClassCSP, Via: model.ViaStatic},
				}})
		}
	}
	return r
}

const writerBlock = 10000 // results per benchmark op

// BenchmarkWriter measures Writer throughput (one op = 10,000 results
// written and flushed) against appending the same rows with raw DuckDB
// Appenders (no transaction grouping, id allocation or duplicate check).
func BenchmarkWriter(b *testing.B) {
	ctx := context.Background()
	for _, batch := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("writer-batch%d", batch), func(b *testing.B) { benchWriter(b, batch) })
	}
	b.Run("appender-baseline", func(b *testing.B) {
		s := benchStore(b)
		conn, err := s.DB().Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		b.ReportAllocs()
		next := 0
		for b.Loop() {
			err := conn.Raw(func(dc any) error {
				return appendRaw(dc.(driver.Conn), &next)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "results/s")
	})
}

func benchWriter(b *testing.B, batch int) {
	ctx := context.Background()
	s := benchStore(b)
	sc, err := s.CreateScan(ctx, store.ScanSpec{Kind: store.KindLive})
	if err != nil {
		b.Fatal(err)
	}
	w, err := s.NewWriter(store.WriterOptions{BatchSize: batch})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	next := 0
	for b.Loop() {
		for range writerBlock {
			next++
			if err := w.Write(ctx, benchResult(sc.ID, next)); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "results/s")
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// appendRaw appends writerBlock results with their detections and evidence
// through plain Appenders and flushes them.
func appendRaw(dc driver.Conn, next *int) error {
	var aps [3]*duckdb.Appender
	for i, table := range []string{"results", "detections", "evidence"} {
		a, err := duckdb.NewAppenderFromConn(dc, "", table)
		if err != nil {
			return err
		}
		aps[i] = a
	}
	for range writerBlock {
		*next++
		r := benchResult(1, *next)
		rid := int64(*next)
		err := aps[0].AppendRow(rid, r.ScanID, r.Target, nil, int64(r.Line), r.Domain, string(r.Status), nil, r.URL,
			int64(r.HTTPStatus), nil, nil, nil, nil, r.Time, r.DurationMS, nil, int32(len(r.Detections)))
		if err != nil {
			return err
		}
		for dpos, d := range r.Detections {
			err := aps[1].AppendRow(rid, r.ScanID, r.Target, r.Domain, string(r.Status), int32(dpos), d.Technology, d.Version,
				d.Categories, d.OpenSource, d.License, d.AI, int32(d.Confidence), string(d.EvidenceClass), []string{string(d.EvidenceClass)}, true)
			if err != nil {
				return err
			}
			for pos, e := range d.Evidence {
				err := aps[2].AppendRow(rid, r.ScanID, r.Target, d.Technology, int32(dpos), int32(pos), e.Signal, e.Pattern,
					e.Match, e.Location, string(e.Class), e.Via)
				if err != nil {
					return err
				}
			}
		}
	}
	for _, a := range aps {
		if err := a.Close(); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkFinalizeArchiveScan aggregates 1,000,000 pages over 100,000
// targets (5% of pages with detections), against a baseline that only
// groups the same pages by target into a table.
func BenchmarkFinalizeArchiveScan(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	sc, err := storetest.FillArchive(ctx, s, storetest.ArchiveOptions{Pages: 1_000_000, Targets: 100_000})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("finalize", func(b *testing.B) {
		for b.Loop() {
			st, err := s.FinalizeArchiveScan(ctx, sc.ID)
			if err != nil {
				b.Fatal(err)
			}
			if st.Pages != 1_000_000 {
				b.Fatalf("%+v", st)
			}
		}
		b.ReportMetric(1e6*float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	})
	b.Run("group-by-baseline", func(b *testing.B) {
		for b.Loop() {
			_, err := s.DB().ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TABLE bench_group AS
				SELECT target, count(*) AS pages, min(captured_at) AS first_seen, max(captured_at) AS last_seen
				FROM pages WHERE scan_id = %d GROUP BY target`, sc.ID))
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(1e6*float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	})
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkExport exports a 200,000-result scan (1% with detections) in
// each format, against a baseline that scans the results table's columns
// into Go values.
func BenchmarkExport(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	const n = 200_000
	sc, err := storetest.Fill(ctx, s, storetest.Options{Results: n})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	for _, f := range store.Formats() {
		b.Run(string(f), func(b *testing.B) {
			var size int64
			for b.Loop() {
				if f == store.FormatJSONL {
					var cw countWriter
					if _, err := s.Export(ctx, sc.ID, f, &cw); err != nil {
						b.Fatal(err)
					}
					size = cw.n
					continue
				}
				path := filepath.Join(dir, "out."+string(f))
				if _, err := s.ExportFile(ctx, sc.ID, f, path); err != nil {
					b.Fatal(err)
				}
				fi, err := os.Stat(path)
				if err != nil {
					b.Fatal(err)
				}
				size = fi.Size()
			}
			b.SetBytes(size)
			b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "results/s")
		})
	}
	b.Run("scan-baseline", func(b *testing.B) {
		for b.Loop() {
			rows, err := s.DB().QueryContext(ctx, `SELECT scan_id, target, input, line, domain, status, error, url,
				http_status, redirects, pages, first_seen, last_seen, time, duration_ms, dns FROM results WHERE scan_id = ?`, sc.ID)
			if err != nil {
				b.Fatal(err)
			}
			vals := make([]any, 16)
			ptrs := make([]any, 16)
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			for rows.Next() {
				if err := rows.Scan(ptrs...); err != nil {
					b.Fatal(err)
				}
			}
			if err := rows.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "results/s")
	})
	_ = io.Discard
}

// BenchmarkResumeSets measures loading what a resumed 1,000,000-target scan
// needs: the stored line set (StoredLines) and the Writer's per-scan target
// hash set, with the heap each one keeps.
func BenchmarkResumeSets(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	sc, err := storetest.Fill(ctx, s, storetest.Options{Results: 1_000_000})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("stored-lines", func(b *testing.B) {
		var kept uint64
		for b.Loop() {
			before := heapInUse()
			set, err := s.StoredLines(ctx, sc.ID)
			if err != nil {
				b.Fatal(err)
			}
			kept = heapInUse() - before
			if set.Len() != 1_000_000 {
				b.Fatal(set.Len())
			}
			runtime.KeepAlive(set)
		}
		b.ReportMetric(float64(kept)/(1<<20), "heap-MB")
	})
	b.Run("writer-seen-set", func(b *testing.B) {
		var kept uint64
		for b.Loop() {
			before := heapInUse()
			w, err := s.NewWriter(store.WriterOptions{})
			if err != nil {
				b.Fatal(err)
			}
			// The first write of a scan loads its stored targets.
			if err := w.Write(ctx, model.Result{ScanID: sc.ID, Target: "site1.com", Status: model.StatusOK}); err != nil {
				b.Fatal(err)
			}
			if err := w.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			kept = heapInUse() - before
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(kept)/(1<<20), "heap-MB")
	})
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
