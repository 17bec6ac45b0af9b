package testfarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
)

// BenchmarkNew measures building a 10,000-host farm (load and filter the
// pages, plan hosts, zone and truth, create the CA) against the baseline
// of only loading the pages, and reports the heap the farm keeps.
func BenchmarkNew(b *testing.B) {
	corpus, embeds, err := LocateData("")
	if errors.Is(err, ErrNoData) {
		b.Skip(err)
	}
	b.Run("load-pages-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := loadPages(corpus, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("new-10k-hosts", func(b *testing.B) {
		b.ReportAllocs()
		var f *Farm
		for b.Loop() {
			if f, err = New(Config{Hosts: 10_000, CorpusDir: corpus, EmbedsDir: embeds}); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
		runtime.KeepAlive(f)
	})
}

// BenchmarkServe fetches homepages over HTTPS with keep-alive from 16
// workers: the farm across its 10,000 hosts (vhost lookup, page assembled
// around the snippet, per-host certificates issued at first use) against
// the baseline of an httptest TLS server writing one fixed page of the
// same average size. MB/s is page bytes.
func BenchmarkServe(b *testing.B) {
	f := startFarm(b, Config{Hosts: 10_000, NoFaults: true})
	var hosts []string
	var total int
	for _, h := range f.Truth() {
		if h.URL == "" {
			continue
		}
		page, _ := f.Page(hostOf(h.URL))
		total += len(page)
		hosts = append(hosts, h.URL)
	}
	avg := total / len(hosts)
	fetch := func(b *testing.B, client *http.Client, url func(i int64) string) {
		var next atomic.Int64
		b.SetBytes(int64(avg))
		b.ReportAllocs()
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Get(url(next.Add(1)))
				if err != nil {
					b.Error(err)
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					b.Errorf("status %d, %v", resp.StatusCode, err)
					return
				}
			}
		})
	}
	page := []byte(fmt.Sprintf("<html><body>%s</body></html>", make([]byte, avg-26)))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write(page)
	}))
	defer srv.Close()
	for _, keepAlive := range []bool{true, false} {
		mode := map[bool]string{true: "keep-alive", false: "new-conn"}[keepAlive]
		b.Run("baseline-httptest/"+mode, func(b *testing.B) {
			client := srv.Client()
			tr := client.Transport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost, tr.DisableKeepAlives = 64, !keepAlive
			fetch(b, &http.Client{Transport: tr}, func(int64) string { return srv.URL + "/" })
		})
		b.Run("farm/"+mode, func(b *testing.B) {
			tr := f.HTTPClient().Transport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost, tr.DisableKeepAlives = 64, !keepAlive
			one := hosts[0]
			fetch(b, &http.Client{Transport: tr}, func(i int64) string {
				if keepAlive {
					return one
				}
				return hosts[int(i)%len(hosts)] // a new host, a new TLS connection
			})
		})
	}
}

func hostOf(url string) string {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return ""
	}
	return req.URL.Hostname()
}
