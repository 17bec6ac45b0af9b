package dns

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// BenchmarkQuery measures A queries per second against a local miekg/dns
// server on 127.0.0.1: a plain miekg/dns Client.Exchange (new socket per
// query, the baseline), the Resolver with its cache disabled (pooled UDP
// sockets, retries) and the Resolver with its cache (1,000 distinct names,
// so nearly every query hits). 16 concurrent workers on 2 cores; client and
// server share the CPU.
func BenchmarkQuery(b *testing.B) {
	const names = 1000
	var zone strings.Builder
	qnames := make([]string, names)
	for i := range names {
		qnames[i] = fmt.Sprintf("h%d.bench.test", i)
		fmt.Fprintf(&zone, "%s. 300 IN A 192.0.2.%d\n", qnames[i], i%250+1)
	}
	srv := newTestServer(b, zone.String(), nil)

	run := func(b *testing.B, query func(name string) error) {
		var next, failed atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := query(qnames[next.Add(1)%names]); err != nil {
					failed.Add(1)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "q/s")
		b.ReportMetric(float64(failed.Load()), "failed")
	}
	b.Run("miekg-exchange", func(b *testing.B) {
		c := &mdns.Client{Net: "udp", Timeout: 2 * time.Second}
		run(b, func(name string) error {
			m := new(mdns.Msg)
			m.SetQuestion(mdns.Fqdn(name), mdns.TypeA)
			m.SetEdns0(1232, false)
			r, _, err := c.Exchange(m, srv.addr)
			if err == nil && len(r.Answer) == 0 {
				err = fmt.Errorf("no answer")
			}
			return err
		})
	})
	for _, cacheSize := range []int{-1, 0} {
		name := map[int]string{-1: "resolver-nocache", 0: "resolver-cache"}[cacheSize]
		b.Run(name, func(b *testing.B) {
			r := newTestResolver(b, Config{CacheSize: cacheSize, Timeout: 2 * time.Second}, srv.addr)
			run(b, func(name string) error {
				_, err := r.Query(context.Background(), name, mdns.TypeA)
				return err
			})
		})
	}
}

// BenchmarkJoinTXT measures TXT conversion on a split verification record
// against plain strings.Join, the baseline without unescaping.
func BenchmarkJoinTXT(b *testing.B) {
	parts := []string{"openai-domain-verification=", "dv-AbCdEfGhIjKlMnOpQrStUvWx", "v=spf1 include:_spf.example.test ~all"}
	b.Run("strings.Join", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = strings.Join(parts, "")
		}
	})
	b.Run("JoinTXT", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = JoinTXT(parts)
		}
	})
}
