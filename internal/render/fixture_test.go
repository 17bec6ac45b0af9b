package render

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/dns"
	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/testfarm"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The browser tests share one farm and one Pool per test binary: a browser
// start costs seconds on a loaded 2-core machine.
var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error // a reason to skip
)

type fixture struct {
	farm     *testfarm.Farm
	resolver *farmResolver
	pool     *Pool
	det      *detect.Detector
	opts     Options
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if privPool != nil {
		privPool.Close()
	}
	if fix != nil {
		fix.pool.Close()
		fix.farm.Close()
		fix.resolver.dns.Close()
	}
	os.Exit(code)
}

// farmResolver answers the farm's names through its DNS server (with
// internal/dns) and the browser-only stand-in hosts with 127.0.0.1.
type farmResolver struct {
	dns    *dns.Resolver
	render map[string]bool
}

func (r *farmResolver) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	if r.render[host] {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return r.dns.LookupAddrs(ctx, host)
}

// needBrowser skips when Chromium is missing.
func needBrowser(t testing.TB) {
	t.Helper()
	if FindBrowser() == "" {
		t.Skip("chromium not installed (apt-get install chromium): browser tests skipped")
	}
}

// farmOptions are the Pool options for the farm: the farm's resolver and
// ports, exactly 127.0.0.1 allowed, the farm's certificates trusted.
func farmOptions(t testing.TB, farm *testfarm.Farm, res *farmResolver, cat *catalog.Catalog) Options {
	t.Helper()
	return Options{
		Probe:         NewProbe(cat),
		Tabs:          4,
		PageTimeout:   10 * time.Second, // generous: the machine is shared and loaded
		EvalTimeout:   3 * time.Second,
		MaxRendererMB: 768,
		JSHeapMB:      256,
		Resolver:      res,
		Allow:         []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		PortMap:       farm.PortMap(),
		TrustSPKI:     []string{farm.LeafSPKI()},
		DocumentBody:  true,
	}
}

// getFixture starts the shared farm and pool once.
func getFixture(t testing.TB) *fixture {
	t.Helper()
	needBrowser(t)
	fixOnce.Do(func() { fix, fixErr = newFixture(t) })
	if fixErr != nil {
		if errors.Is(fixErr, testfarm.ErrNoData) {
			t.Skip(fixErr)
		}
		t.Fatal(fixErr)
	}
	return fix
}

func newFixture(t testing.TB) (*fixture, error) {
	farm, err := testfarm.New(testfarm.Config{Hosts: 25, Seed: 1, SlowInterval: 500 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	if err := farm.Start(context.Background()); err != nil {
		farm.Close()
		return nil, err
	}
	dr, err := dns.New(dns.Config{Servers: []string{farm.DNSAddr()}})
	if err != nil {
		farm.Close()
		return nil, err
	}
	res := &farmResolver{dns: dr, render: map[string]bool{}}
	for _, h := range testfarm.RenderHosts() {
		res.render[h] = true
	}
	cat, err := catalog.Open(false)
	if err != nil {
		return nil, err
	}
	det, err := detect.New(cat, detect.Options{})
	if err != nil {
		return nil, err
	}
	opts := farmOptions(t, farm, res, cat)
	pool, err := NewPool(context.Background(), opts)
	if err != nil {
		farm.Close()
		dr.Close()
		return nil, err
	}
	return &fixture{farm: farm, resolver: res, pool: pool, det: det, opts: opts}, nil
}

// staticObservation is what a static fetch of rawURL sees: the final
// response (redirects followed) and, like the scanner, the page's
// same-site /static/app.js.
func (f *fixture) staticObservation(t testing.TB, rawURL string) *model.Observation {
	t.Helper()
	c := *f.farm.HTTPClient()
	c.CheckRedirect = nil
	c.Timeout = 3 * time.Second
	obs := &model.Observation{URL: rawURL}
	resp, err := c.Get(rawURL)
	if err != nil {
		return obs // slow-loris and friends: nothing static
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2<<20))
	obs.URL = resp.Request.URL.String()
	obs.Host = resp.Request.URL.Hostname()
	obs.StatusCode = resp.StatusCode
	obs.Body = body
	obs.Headers = map[string][]string{}
	for k, v := range resp.Header {
		obs.Headers[strings.ToLower(k)] = v
	}
	if strings.Contains(string(body), `src="/static/app.js"`) {
		sr, err := c.Get(strings.TrimSuffix(obs.URL, "/") + "/static/app.js")
		if err == nil {
			b, _ := io.ReadAll(sr.Body)
			sr.Body.Close()
			if sr.StatusCode == http.StatusOK {
				obs.Scripts = []model.Script{{URL: sr.Request.URL.String(), Body: b}}
			}
		}
	}
	return obs
}

// listen127002 listens on 127.0.0.2 (all of 127/8 is loopback on Linux)
// and counts the connections it accepts; it proves that a blocked request
// never reached its destination.
func listen127002(t *testing.T) (port int, accepted func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	var mu sync.Mutex
	n := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port, func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}
