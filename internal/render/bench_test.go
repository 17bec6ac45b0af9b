package render

import (
	"context"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/fetch"
	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/testfarm"
)

// benchHosts are the farm's hosts that serve a page: plain, embed, app,
// script and CNAME hosts (real corpus pages, ~100 KB on average).
func benchHosts(farm *testfarm.Farm) []string {
	var hosts []string
	for _, k := range []testfarm.Kind{testfarm.KindPlain, testfarm.KindEmbed, testfarm.KindApp, testfarm.KindScript, testfarm.KindCNAME} {
		hosts = append(hosts, farm.HostsOf(k)...)
	}
	return hosts
}

// each runs fn over every host with n workers.
func each(hosts []string, n int, fn func(host string)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(hosts) {
					return
				}
				fn(hosts[i])
			}
		})
	}
	wg.Wait()
}

// BenchmarkFarm renders the farm's pages with a pool of 4 tabs, next to
// the baseline: the static fetch (internal/fetch: page, robots.txt,
// same-site scripts) of the same hosts with 4 workers. pages/s is the
// throughput; peak-browser-MB the largest PSS of all browser processes
// together (peak-browser-RSS-MB the same as a sum of RSS, an upper bound);
// peak-go-MB this process's peak RSS (VmHWM). Run with
//
//	go test -run '^$' -bench BenchmarkFarm -benchtime 3x ./internal/render
func BenchmarkFarm(b *testing.B) {
	f := getFixture(b)
	hosts := benchHosts(f.farm)
	b.Run("static-fetch", func(b *testing.B) {
		c, err := fetch.New(fetch.Options{
			Resolver: f.resolver, PortMap: f.farm.PortMap(), ExtraRootsPEM: f.farm.CAPEM(),
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Retries: -1,
			ScriptLister: srcLister,
		})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		var bad atomic.Int64
		start := time.Now()
		for b.Loop() {
			each(hosts, 4, func(h string) {
				if r := c.Fetch(context.Background(), h); r.Status != model.StatusOK {
					bad.Add(1)
				}
			})
		}
		b.ReportMetric(float64(b.N*len(hosts))/time.Since(start).Seconds(), "pages/s")
		b.ReportMetric(float64(bad.Load())/float64(b.N), "failed/op")
	})
	for _, tabs := range []int{1, 4} {
		b.Run("render-tabs-"+strconv.Itoa(tabs), func(b *testing.B) {
			pool := f.pool
			if tabs != f.opts.Tabs {
				o := f.opts
				o.Tabs = tabs
				var err error
				if pool, err = NewPool(context.Background(), o); err != nil {
					b.Fatal(err)
				}
				defer pool.Close()
			}
			var bad atomic.Int64
			start := time.Now()
			for b.Loop() {
				each(hosts, tabs, func(h string) {
					if pg := pool.Render(context.Background(), "https://"+h+"/"); pg.Status != model.StatusOK {
						bad.Add(1)
					}
				})
			}
			b.ReportMetric(float64(b.N*len(hosts))/time.Since(start).Seconds(), "pages/s")
			b.ReportMetric(float64(bad.Load())/float64(b.N), "failed/op")
			b.ReportMetric(float64(pool.Stats().PeakMemory)/(1<<20), "peak-browser-MB")
			b.ReportMetric(float64(pool.Stats().PeakRSS)/(1<<20), "peak-browser-RSS-MB")
			_, peak := selfRSS()
			b.ReportMetric(float64(peak)/(1<<20), "peak-go-MB")
		})
	}
}

// srcLister lists <script src> values for the static baseline, as the
// scanner's lister does (a crude scan is enough for the farm's pages).
func srcLister(body []byte, _ *url.URL) []string {
	var out []string
	s := string(body)
	for {
		i := strings.Index(s, `<script src="`)
		if i < 0 {
			return out
		}
		s = s[i+len(`<script src="`):]
		j := strings.IndexByte(s, '"')
		if j < 0 {
			return out
		}
		out = append(out, s[:j])
		s = s[j:]
	}
}
