package detect

import (
	"bytes"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/matcher"
	"github.com/aicensus/aicensus/internal/model"
)

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loopCPU runs body in b.Loop and reports throughput per CPU second, which
// unlike MB/s does not depend on what else the machine is doing. Run with
// -cpu 1 so the process works on one core.
func loopCPU(b *testing.B, n int64, body func()) {
	b.SetBytes(n)
	b.ReportAllocs()
	start, iters := cpuTime(), 0
	for b.Loop() {
		body()
		iters++
	}
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(float64(n*int64(iters))/1e6/cpu.Seconds(), "MB/cpu-s")
	}
}

func totalBytes(pages []corpusPage) int64 {
	var n int64
	for _, p := range pages {
		n += int64(len(p.body))
	}
	return n
}

// BenchmarkReadability measures detection over the 130 readability pages
// next to the tokenize-only floor, in the same run: compare the MB/s.
func BenchmarkReadability(b *testing.B) {
	benchPages(b, loadPages(b, "readability"))
}

// BenchmarkReadabilityEmbedded is BenchmarkReadability with a real vendor
// snippet before each page's </body>: every page opens the gate, as pages
// with an AI widget do.
func BenchmarkReadabilityEmbedded(b *testing.B) {
	_, snippets := loadSnippets(b)
	benchPages(b, withSnippets(loadPages(b, "readability"), snippets))
}

func benchPages(b *testing.B, pages []corpusPage) {
	ai, full := detectors(b)
	n := totalBytes(pages)
	b.Run("baseline=lower+tokenize", func(b *testing.B) {
		var buf []byte
		loopCPU(b, n, func() {
			for _, p := range pages {
				buf = matcher.Lower(buf, p.body)
				z := html.NewTokenizer(bytes.NewReader(p.body))
				for z.Next() != html.ErrorToken {
				}
			}
		})
	})
	for _, c := range []struct {
		name string
		d    *Detector
	}{{"catalog=ai", ai}, {"catalog=ai+webappanalyzer", full}} {
		b.Run(c.name, func(b *testing.B) {
			loopCPU(b, n, func() {
				for _, p := range pages {
					c.d.Detect(&model.Observation{URL: "https://example.test/", Body: p.body})
				}
			})
		})
	}
}

// BenchmarkLoadAndCompile measures loading and compiling the catalogs: the
// embedded AI catalog alone, and with the full webappanalyzer database. It
// reports the live heap of one loaded detector.
func BenchmarkLoadAndCompile(b *testing.B) {
	wa := shared(b, "fingerprints/webappanalyzer")
	for _, c := range []struct {
		name  string
		paths []string
	}{{"catalog=ai", nil}, {"catalog=ai+webappanalyzer", []string{wa}}} {
		b.Run(c.name, func(b *testing.B) {
			var keep *Detector
			start, iters := cpuTime(), 0
			for b.Loop() {
				cat, err := catalog.Open(false, c.paths...)
				if err != nil {
					b.Fatal(err)
				}
				if keep, err = New(cat, Options{}); err != nil {
					b.Fatal(err)
				}
				iters++
			}
			b.ReportMetric((cpuTime()-start).Seconds()*1000/float64(iters), "cpu-ms/op")
			var before, after runtime.MemStats
			keep = nil
			runtime.GC()
			runtime.ReadMemStats(&before)
			cat, _ := catalog.Open(false, c.paths...)
			keep, _ = New(cat, Options{})
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-heap")
			runtime.KeepAlive(keep)
		})
	}
}
