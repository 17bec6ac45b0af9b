package scan

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/warc"
	"github.com/aicensus/aicensus/internal/warc/warctest"
)

// benchArchives returns the archive sets of the benchmark: the servo
// captures as they are, and one WARC of every trafilatura corpus page
// (one in twenty with a real AI snippet inside: a crawl where AI is common).
func benchArchives(b *testing.B) map[string][]string {
	b.Helper()
	root := filepath.Join("..", "..", "..", "shared")
	servo, _ := filepath.Glob(filepath.Join(root, "corpus", "warc", "servo-warc-tests", "*.warc.gz"))
	pages, err := warctest.LoadPages(filepath.Join(root, "corpus", "html", "trafilatura"), 0)
	if warctest.ErrNoCorpus(err) || len(servo) == 0 {
		b.Skip("shared corpus not available")
	}
	if err != nil {
		b.Fatal(err)
	}
	embeds, err := warctest.LoadEmbeds(filepath.Join(root, "research", "ai-embeds"))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	w := warctest.NewWriter(&buf, true)
	for i, p := range pages {
		html := p.HTML
		if i%20 == 0 {
			html = warctest.Inject(html, embeds[(i/20)%len(embeds)].HTML)
		}
		w.Write(warctest.Record{Type: "request", TargetURI: p.URL, Block: []byte("GET / HTTP/1.1\r\nHost: " + p.Host + "\r\n\r\n")})
		w.Write(warctest.Response(p.URL, 200, []string{"Content-Type: text/html; charset=utf-8"}, html))
	}
	corpus := filepath.Join(b.TempDir(), "corpus.warc.gz")
	if err := os.WriteFile(corpus, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return map[string][]string{"servo": servo, "corpus": {corpus}}
}

func benchCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkArchive measures compressed MB/s of reading archives and
// detecting on every HTML response with the AI catalog, next to reading
// and parsing alone in the same run, and the speed-up from one core to two.
func BenchmarkArchive(b *testing.B) {
	sets := benchArchives(b)
	det, err := testDetector()
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"servo", "corpus"} {
		files := sets[name]
		var size int64
		var sources []warc.Source
		for _, f := range files {
			st, _ := os.Stat(f)
			size += st.Size()
			sources = append(sources, warc.Source{Name: f, Kind: warc.SourceFile})
		}
		opt := warc.ScanOptions{Workers: runtime.GOMAXPROCS(0), Files: runtime.GOMAXPROCS(0)}
		run := func(b *testing.B, handle func(context.Context, *warc.Item) error) {
			b.SetBytes(size)
			start, n := benchCPU(), 0
			for b.Loop() {
				if _, err := warc.Scan(context.Background(), sources, opt, handle); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(size)*float64(n)/1e6/(benchCPU()-start).Seconds(), "MB/cpu-s")
		}
		var pages atomic.Int64
		baseline := func(_ context.Context, it *warc.Item) error {
			if it.Observation != nil && contentKind(it.Observation) != kindSkip {
				pages.Add(1)
			}
			return nil
		}
		h := &pageHandler{det: det}
		detectAI := func(ctx context.Context, it *warc.Item) error {
			if it.Observation == nil || contentKind(it.Observation) == kindSkip {
				return nil
			}
			h.det.Detect(it.Observation)
			return nil
		}
		b.Run(name+"/baseline=read+parse", func(b *testing.B) { run(b, baseline) })
		b.Run(name+"/detect=ai", func(b *testing.B) { run(b, detectAI) })
		// The goal's ratio, with the baseline and the detecting scan
		// alternated in every iteration, so that the machine's drift
		// between sub-benchmarks does not fall on one side.
		b.Run(name+"/ratio=detect/baseline", func(b *testing.B) {
			var baseCPU, detCPU time.Duration
			for b.Loop() {
				for _, c := range []struct {
					handle func(context.Context, *warc.Item) error
					cpu    *time.Duration
				}{{baseline, &baseCPU}, {detectAI, &detCPU}} {
					start := benchCPU()
					if _, err := warc.Scan(context.Background(), sources, opt, c.handle); err != nil {
						b.Fatal(err)
					}
					*c.cpu += benchCPU() - start
				}
			}
			b.ReportMetric(baseCPU.Seconds()/detCPU.Seconds(), "detect/baseline")
		})
		// The scaling goal: wall time of the detecting scan on one core
		// over two, alternated in every iteration like the ratio.
		b.Run(name+"/scaling=2cores/1core", func(b *testing.B) {
			if runtime.NumCPU() < 2 {
				b.Skip("needs 2 CPUs")
			}
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
			var wall [3]time.Duration
			for b.Loop() {
				for _, procs := range []int{1, 2} {
					runtime.GOMAXPROCS(procs)
					opt := warc.ScanOptions{Workers: procs, Files: procs}
					start := time.Now()
					if _, err := warc.Scan(context.Background(), sources, opt, detectAI); err != nil {
						b.Fatal(err)
					}
					wall[procs] += time.Since(start)
				}
			}
			b.ReportMetric(wall[1].Seconds()/wall[2].Seconds(), "2cores/1core")
		})
	}
}
