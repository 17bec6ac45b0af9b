package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
)

// benchPage is a real page from the shared corpus (gzip, as stored).
const benchPage = "../../../shared/corpus/html/readability/pages/guardian-1.html.gz"

// BenchmarkFetch fetches one real corpus page over HTTPS from a loopback
// server with the Client, and, as baselines in the same run, with a plain
// net/http client doing the same GET (with and without keep-alive; the
// Client never reuses connections, so its handshake cost is per fetch).
func BenchmarkFetch(b *testing.B) {
	gz, err := os.ReadFile(benchPage)
	if err != nil {
		b.Skipf("corpus page %s not available: %v", benchPage, err)
	}
	decoded, err := readBody(bytesReader(gz), "gzip", 64<<20)
	if err != nil {
		b.Fatal(err)
	}
	f := newFarm(b, "page.test")
	f.handle("page.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz)
	}))

	b.Run("client", func(b *testing.B) {
		c := f.client(func(o *Options) { o.LazyRobots = true })
		b.SetBytes(int64(len(decoded)))
		b.ReportAllocs()
		for b.Loop() {
			r := c.Fetch(context.Background(), "page.test")
			if r.Status != model.StatusOK || len(r.Observation.Body) != len(decoded) {
				b.Fatalf("status %s err %v body %d", r.Status, r.Err, len(r.Observation.Body))
			}
		}
	})
	for _, keepAlive := range []bool{false, true} {
		b.Run(fmt.Sprintf("baseline-nethttp-keepalive=%v", keepAlive), func(b *testing.B) {
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(f.ca.pem)
			tr := &http.Transport{
				TLSClientConfig:   &tls.Config{RootCAs: pool, ServerName: "page.test"},
				DisableKeepAlives: !keepAlive,
			}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr}
			u := fmt.Sprintf("https://127.0.0.1:%d/", port(b, f.https))
			b.SetBytes(int64(len(decoded)))
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				req.Host = "page.test"
				resp, err := hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || len(body) != len(decoded) {
					b.Fatalf("body %d err %v", len(body), err)
				}
			}
		})
	}
}

// BenchmarkReadBody measures decoding alone against io.ReadAll of the same
// plain bytes.
func BenchmarkReadBody(b *testing.B) {
	gz, err := os.ReadFile(benchPage)
	if err != nil {
		b.Skipf("corpus page %s not available: %v", benchPage, err)
	}
	decoded, _ := readBody(bytesReader(gz), "gzip", 64<<20)
	b.Run("gzip", func(b *testing.B) {
		b.SetBytes(int64(len(decoded)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := readBody(bytesReader(gz), "gzip", 2<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-readall-plain", func(b *testing.B) {
		b.SetBytes(int64(len(decoded)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := io.ReadAll(bytesReader(decoded)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
