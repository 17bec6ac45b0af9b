package scan

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/testfarm"
)

// get fetches u and returns its body ("" on failure).
func get(b *testing.B, c *http.Client, u string) []byte {
	resp, err := c.Get(u)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2<<20))
	return body
}

// reportFarm reports a farm run's domains per second and the CPU it took
// per domain, the farm's share (TLS, pages, DNS) included: on a machine
// that other work slows down, CPU per domain varies less than the rate.
func reportFarm(b *testing.B, hosts int, start time.Time, cpu0 time.Duration) {
	b.ReportMetric(float64(hosts)/time.Since(start).Seconds(), "domains/s")
	b.ReportMetric((benchCPU()-cpu0).Seconds()*1000/float64(hosts), "cpu-ms/domain")
}

// BenchmarkLiveFarm scans a farm of real pages (10,000 hosts unless -short)
// with full detection. ratio=aicensus/same-gets alternates, iteration by
// iteration, a plain Go client making only the GETs a scan makes and the
// full scan, with the same concurrency, and reports aicensus/same-gets:
// their time ratio, the issue's figure of merit. baseline=plain-get (home
// pages only, no keep-alive) and aicensus=no-scripts are for reference.
// Run with -benchtime 3x (ratio) or 1x.
func BenchmarkLiveFarm(b *testing.B) {
	hosts := 10000
	if testing.Short() {
		hosts = 500
	}
	farm := startFarm(b, testfarm.Config{Hosts: hosts, Seed: 1, NoFaults: true})
	domains := writeDomains(b, farm)
	const workers = 64
	// The farm issues each host's certificate on first use: all of them
	// now, so that no measured run (whichever runs first) pays for it.
	if err := farm.IssueCertificates(); err != nil {
		b.Fatal(err)
	}
	b.Run("baseline=plain-get", func(b *testing.B) {
		client := &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				DialContext:         farm.DialContext,
				TLSClientConfig:     &tls.Config{RootCAs: farm.CertPool()},
				DisableKeepAlives:   true, // one connection per site, as a scan makes
				MaxIdleConnsPerHost: -1,
			},
		}
		for b.Loop() {
			start, cpu0 := time.Now(), benchCPU()
			jobs := make(chan string)
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for u := range jobs {
						resp, err := client.Get(u)
						if err != nil {
							b.Error(err)
							continue
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				})
			}
			for _, h := range farm.Truth() {
				if h.URL != "" { // hosts with only DNS records have no page
					jobs <- h.URL
				}
			}
			close(jobs)
			wg.Wait()
			reportFarm(b, hosts, start, cpu0)
		}
	})
	// The same GETs a scan makes (sameGets), next to the full scan, one
	// after the other in every iteration so that the machine's changing
	// speed weighs on both alike: the ratio is the figure of merit.
	b.Run("ratio=aicensus/same-gets", func(b *testing.B) {
		var same, full time.Duration
		var sameCPU, fullCPU time.Duration
		for b.Loop() {
			start, cpu0 := time.Now(), benchCPU()
			sameGets(b, farm, workers)
			same += time.Since(start)
			sameCPU += benchCPU() - cpu0
			start, cpu0 = time.Now(), benchCPU()
			scanFarm(b, farm, domains, workers, 5, hosts)
			full += time.Since(start)
			fullCPU += benchCPU() - cpu0
		}
		b.ReportMetric(same.Seconds()/full.Seconds(), "aicensus/same-gets")
		b.ReportMetric(float64(hosts*b.N)/same.Seconds(), "same-gets-domains/s")
		b.ReportMetric(float64(hosts*b.N)/full.Seconds(), "aicensus-domains/s")
		b.ReportMetric(sameCPU.Seconds()/fullCPU.Seconds(), "cpu-ratio")
	})
	b.Run("aicensus=no-scripts", func(b *testing.B) {
		for b.Loop() {
			start, cpu0 := time.Now(), benchCPU()
			scanFarm(b, farm, domains, workers, -1, hosts)
			reportFarm(b, hosts, start, cpu0)
		}
	})
}

// sameGets makes the GETs a scan makes, with workers goroutines: the page,
// robots.txt and up to five same-site scripts, over one kept-alive
// connection per site, with no DNS, detection or storage.
func sameGets(b *testing.B, farm *testfarm.Farm, workers int) {
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for page := range jobs {
				tr := &http.Transport{DialContext: farm.DialContext, TLSClientConfig: &tls.Config{RootCAs: farm.CertPool()}, MaxIdleConnsPerHost: 1}
				client := &http.Client{Timeout: 30 * time.Second, Transport: tr}
				body := get(b, client, page)
				base, _ := url.Parse(page)
				get(b, client, base.Scheme+"://"+base.Host+"/robots.txt")
				n := 0
				for _, s := range detect.ScriptSources(body, base) {
					if su, err := url.Parse(s); err == nil && su.Host == base.Host && n < 5 {
						get(b, client, s)
						n++
					}
				}
				tr.CloseIdleConnections()
			}
		})
	}
	for _, h := range farm.Truth() {
		if h.URL != "" {
			jobs <- h.URL
		}
	}
	close(jobs)
	wg.Wait()
}

// scanFarm scans every farm domain with full detection into a new store,
// fetching up to scripts scripts per page (-1: none).
func scanFarm(b *testing.B, farm *testfarm.Farm, domains string, workers, scripts, hosts int) {
	cfg := farmConfig(b, farm, domains, filepath.Join(b.TempDir(), "bench.duckdb"))
	cfg.FetchWorkers = workers
	cfg.Fetch.MaxScripts = scripts
	sum, err := Live(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if sum.Written != hosts {
		b.Fatalf("%d results for %d hosts", sum.Written, hosts)
	}
}
