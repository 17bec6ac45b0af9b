package warc

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	gowarc "github.com/internetarchive/gowarc"
	"github.com/klauspost/compress/gzip"

	"github.com/aicensus/aicensus/internal/warc/warctest"
)

// benchSet is an input for the benchmarks: its files and their bytes.
type benchSet struct {
	files []string
	data  [][]byte
	size  int64
}

// benchSets are built once per test binary: the servo archives as they
// are, and a WARC built from every trafilatura corpus page (one request,
// one response and one metadata record each; every third page with an AI
// embed; a seventh of the bodies gzip-encoded and a seventh chunked).
var benchSets = struct {
	once sync.Once
	m    map[string]*benchSet
	err  error
}{}

func loadBenchSets(b *testing.B) map[string]*benchSet {
	b.Helper()
	benchSets.once.Do(func() {
		m := map[string]*benchSet{}
		servo, _ := filepath.Glob(filepath.Join(corpusDir, "servo-warc-tests/*.warc.gz"))
		if len(servo) > 0 {
			s := &benchSet{}
			for _, f := range servo {
				d, err := os.ReadFile(f)
				if err != nil {
					benchSets.err = err
					return
				}
				s.files, s.data, s.size = append(s.files, f), append(s.data, d), s.size+int64(len(d))
			}
			m["servo"] = s
		}
		if f, d, err := buildBenchWARC(); err == nil {
			m["corpus"] = &benchSet{files: []string{f}, data: [][]byte{d}, size: int64(len(d))}
		} else if !warctest.ErrNoCorpus(err) {
			benchSets.err = err
			return
		}
		benchSets.m = m
	})
	if benchSets.err != nil {
		b.Fatal(benchSets.err)
	}
	if len(benchSets.m) == 0 {
		b.Skip("shared corpus not found")
	}
	return benchSets.m
}

func buildBenchWARC() (string, []byte, error) {
	pages, err := warctest.LoadPages(htmlDir, 0)
	if err != nil {
		return "", nil, err
	}
	embeds, err := warctest.LoadEmbeds(embedsDir)
	if err != nil {
		return "", nil, err
	}
	var buf bytes.Buffer
	w := warctest.NewWriter(&buf, true)
	for i, p := range pages {
		html := p.HTML
		if i%3 == 0 {
			html = warctest.Inject(html, embeds[(i/3)%len(embeds)].HTML)
		}
		headers := []string{"Content-Type: text/html; charset=utf-8", "Server: nginx", "Set-Cookie: sid=1; Path=/"}
		switch i % 7 {
		case 1:
			html = warctest.Gzip(html)
			headers = append(headers, "Content-Encoding: gzip")
		case 2:
			html = warctest.Chunked(html, 8192)
			headers = append(headers, "Transfer-Encoding: chunked")
		}
		recs := []warctest.Record{
			{Type: TypeRequest, TargetURI: p.URL, Block: []byte("GET / HTTP/1.1\r\nHost: " + p.Host + "\r\nUser-Agent: bench\r\n\r\n")},
			warctest.Response(p.URL, 200, headers, html),
			{Type: TypeMetadata, TargetURI: p.URL, Block: []byte("fetchTimeMs: 120\r\n")},
		}
		for _, r := range recs {
			if _, err := w.Write(r); err != nil {
				return "", nil, err
			}
		}
	}
	// One fixed name, overwritten by every run, so runs leave one file.
	name := filepath.Join(os.TempDir(), "aicensus-warc-bench.warc.gz")
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		return "", nil, err
	}
	return name, buf.Bytes(), nil
}

func benchEach(b *testing.B, fn func(b *testing.B, s *benchSet)) {
	sets := loadBenchSets(b)
	for _, name := range []string{"servo", "corpus"} {
		s := sets[name]
		if s == nil {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(s.size)
			b.ReportAllocs()
			start := cpuTime()
			fn(b, s)
			// CPU time is what other processes on a shared machine do not
			// distort: MB per CPU-second compares work, MB/s compares time.
			if cpu := cpuTime() - start; cpu > 0 && b.N > 0 {
				b.ReportMetric(float64(s.size)*float64(b.N)/cpu.Seconds()/1e6, "MB/cpu-s")
			}
		})
	}
}

// BenchmarkDecompressOnly is the baseline: inflate every gzip member with
// klauspost/compress and discard the output.
func BenchmarkDecompressOnly(b *testing.B) {
	benchEach(b, func(b *testing.B, s *benchSet) {
		var zr gzip.Reader
		for b.Loop() {
			for _, d := range s.data {
				if err := zr.Reset(bytes.NewReader(d)); err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, &zr); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkGowarc reads every record and its content with
// internetarchive/gowarc, for comparison.
func BenchmarkGowarc(b *testing.B) {
	benchEach(b, func(b *testing.B, s *benchSet) {
		for b.Loop() {
			for _, d := range s.data {
				r, err := gowarc.NewReader(bytes.NewReader(d))
				if err != nil {
					b.Fatal(err)
				}
				for {
					rec, err := r.ReadRecord()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, rec.Content)
					rec.Content.Close()
				}
				r.Close()
			}
		}
	})
}

// BenchmarkRead is the reader alone: inflate, frame, copy the kept blocks.
func BenchmarkRead(b *testing.B) {
	benchEach(b, func(b *testing.B, s *benchSet) {
		for b.Loop() {
			for i, d := range s.data {
				r := NewReader(bytes.NewReader(d), s.files[i], 0, Options{})
				for {
					if _, err := r.Next(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	})
}

// BenchmarkReadDecode is decompress-and-parse on one goroutine: the
// reader plus Decode of every record (HTTP parsing, de-chunking, body
// decompression, dns parsing).
func BenchmarkReadDecode(b *testing.B) {
	benchEach(b, func(b *testing.B, s *benchSet) {
		var d Decoder
		for b.Loop() {
			for i, data := range s.data {
				r := NewReader(bytes.NewReader(data), s.files[i], 0, Options{})
				for {
					rec, err := r.Next()
					if err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
					_, _ = d.Decode(rec)
				}
			}
		}
	})
}

// BenchmarkScan is the parallel pipeline (files read and records decoded
// on GOMAXPROCS goroutines each) with an empty handler; run it with
// -cpu 1,2 to compare one and two cores.
func BenchmarkScan(b *testing.B) { benchScan(b, false) }

// BenchmarkScanNoSplit is Scan with each file inflated by its reader
// goroutine, for comparison.
func BenchmarkScanNoSplit(b *testing.B) { benchScan(b, true) }

func benchScan(b *testing.B, noSplit bool) {
	benchEach(b, func(b *testing.B, s *benchSet) {
		var srcs []Source
		for _, f := range s.files {
			srcs = append(srcs, Source{Name: f, Kind: SourceFile})
		}
		for b.Loop() {
			st, err := Scan(context.Background(), srcs, ScanOptions{NoSplit: noSplit}, func(context.Context, *Item) error { return nil })
			if err != nil || st.ProblemTotal() != 0 {
				b.Fatal(err, st)
			}
		}
	})
}
