package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

// gate is a handler that records how many requests it serves at once. Each
// request waits (at most 2s) until `want` requests are inside or all `n`
// have arrived, so the maximum reaches the limit under test
// deterministically and can never exceed it unless the limit is broken.
type gate struct {
	want, n  int64
	mu       sync.Mutex
	inflight int64
	max      int64
	total    int64
	arrived  chan struct{}
}

func newGate(want, n int64) *gate { return &gate{want: want, n: n, arrived: make(chan struct{})} }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.inflight++
	g.total++
	g.max = max(g.max, g.inflight)
	ch := g.arrived
	if g.inflight == g.want || g.total == g.n {
		close(ch)
		g.arrived = make(chan struct{})
	}
	g.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(2 * time.Second):
	case <-r.Context().Done():
	}
	g.mu.Lock()
	g.inflight--
	g.mu.Unlock()
	fmt.Fprint(w, "ok")
}

func (g *gate) stats() (maxInflight, total int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.max, g.total
}

// eventually polls cond for up to 5s (for state released by the
// Transport's own goroutines after a response is closed).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%s: still false after 5s", what)
}

func fetchAll(c *Client, hosts []string) []Response {
	out := make([]Response, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() { out[i] = c.Fetch(context.Background(), h) })
	}
	wg.Wait()
	return out
}

func TestPerHostLimit(t *testing.T) {
	f := newFarm(t, "busy.test")
	g := newGate(2, 10)
	f.handle("busy.test", g)
	c := f.client(func(o *Options) { o.PerHost = 2; o.PerIP = 100; o.LazyRobots = true })
	hosts := make([]string, 10)
	for i := range hosts {
		hosts[i] = "busy.test"
	}
	for _, r := range fetchAll(c, hosts) {
		if r.Status != model.StatusOK {
			t.Fatalf("status %s err %v", r.Status, r.Err)
		}
	}
	if m, n := g.stats(); m != 2 || n != 10 {
		t.Errorf("max concurrent %d over %d requests; want 2 over 10", m, n)
	}
	eventually(t, "host limiter empty", func() bool { return c.perHost.Len() == 0 })
	eventually(t, "ip limiter empty", func() bool { return c.perIP.Len() == 0 })
}

func TestPerIPLimit(t *testing.T) {
	var hosts []string
	for i := range 9 {
		hosts = append(hosts, fmt.Sprintf("h%d.test", i))
	}
	f := newFarm(t, hosts...)
	g := newGate(3, 9)
	for _, h := range hosts {
		f.handle(h, g)
	}
	c := f.client(func(o *Options) { o.PerHost = 10; o.PerIP = 3; o.LazyRobots = true })
	for _, r := range fetchAll(c, hosts) {
		if r.Status != model.StatusOK {
			t.Fatalf("status %s err %v", r.Status, r.Err)
		}
	}
	if m, n := g.stats(); m != 3 || n != 9 {
		t.Errorf("max concurrent %d over %d requests; want 3 over 9 (all hosts share 127.0.0.1)", m, n)
	}
	eventually(t, "ip limiter empty", func() bool { return c.perIP.Len() == 0 })
}

func TestRetryOnlyTransient(t *testing.T) {
	type reply struct {
		code  int
		after string
	}
	tests := []struct {
		name    string
		replies []reply // per request; the last repeats
		status  model.Status
		hits    int64
	}{
		{"503 then ok", []reply{{503, "0"}, {200, ""}}, model.StatusOK, 2},
		{"429 then ok", []reply{{429, ""}, {200, ""}}, model.StatusOK, 2},
		{"429 asking too long", []reply{{429, "3600"}}, model.StatusHTTPError, 1},
		{"503 every time", []reply{{503, "0"}}, model.StatusHTTPError, 3},
		{"500 not retried", []reply{{500, ""}, {200, ""}}, model.StatusHTTPError, 1},
		{"404 not retried", []reply{{404, ""}, {200, ""}}, model.StatusHTTPError, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFarm(t, "retry.test")
			var hits atomic.Int64
			f.handle("retry.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := hits.Add(1)
				rep := tt.replies[min(int(n)-1, len(tt.replies)-1)]
				if rep.after != "" {
					w.Header().Set("Retry-After", rep.after)
				}
				w.WriteHeader(rep.code)
			}))
			c := f.client(func(o *Options) { o.LazyRobots = true })
			r := c.Fetch(context.Background(), "retry.test")
			if r.Status != tt.status || hits.Load() != tt.hits {
				t.Errorf("status %s after %d requests; want %s after %d (err %v)", r.Status, hits.Load(), tt.status, tt.hits, r.Err)
			}
		})
	}
	t.Run("reset then ok", func(t *testing.T) {
		f := newFarm(t)
		f.resolver.set("flaky.test", "127.0.0.1")
		var hits atomic.Int64
		p := rawServer(t, func(c net.Conn) {
			readRequest(c)
			if hits.Add(1) == 1 {
				c.(*net.TCPConn).SetLinger(0)
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		})
		c := f.client(func(o *Options) {
			o.PortMap = map[int]int{80: p, 443: closedPort(t)}
			o.LazyRobots = true
		})
		r := c.Fetch(context.Background(), "flaky.test")
		if r.Status != model.StatusOK || hits.Load() != 2 {
			t.Errorf("status %s after %d requests; want ok after 2 (err %v)", r.Status, hits.Load(), r.Err)
		}
	})
	t.Run("retries disabled", func(t *testing.T) {
		f := newFarm(t, "retry.test")
		var hits atomic.Int64
		f.handle("retry.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.WriteHeader(503)
		}))
		c := f.client(func(o *Options) { o.LazyRobots = true; o.Retries = -1 })
		c.Fetch(context.Background(), "retry.test")
		if hits.Load() != 1 {
			t.Errorf("%d requests with Retries < 0", hits.Load())
		}
	})
}

// TestRatePacing allows a burst of 3 and then one request per 1000s: with a
// one-second target timeout exactly 3 of 5 targets are requested and the
// other two end at once with a timeout, without waiting.
func TestRatePacing(t *testing.T) {
	f := newFarm(t, "a.test", "b.test", "c.test", "d.test", "e.test")
	var hits atomic.Int64
	for _, h := range []string{"a.test", "b.test", "c.test", "d.test", "e.test"} {
		f.handle(h, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	}
	c := f.client(func(o *Options) {
		o.Rate = 0.001
		o.Burst = 3
		o.TargetTimeout = time.Second
		o.LazyRobots = true
	})
	var ok, limited int
	for _, h := range []string{"a.test", "b.test", "c.test", "d.test", "e.test"} {
		r := c.Fetch(context.Background(), h)
		switch {
		case r.Status == model.StatusOK:
			ok++
		case r.Status == model.StatusTimeout && errors.Is(r.Err, ErrRateDeadline):
			limited++
		default:
			t.Errorf("%s: %s %v", h, r.Status, r.Err)
		}
	}
	if ok != 3 || limited != 2 || hits.Load() != 3 {
		t.Errorf("ok %d, rate-limited %d, server hits %d; want 3, 2, 3", ok, limited, hits.Load())
	}
}

var scriptSrc = regexp.MustCompile(`<script[^>]+src="([^"]+)"`)

// listScripts is the tests' ScriptLister (the detector owns the real one).
func listScripts(body []byte, _ *url.URL) []string {
	var out []string
	for _, m := range scriptSrc.FindAllSubmatch(body, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// site serves a page listing scripts, robots.txt, and script bodies, and
// counts requests per path.
type site struct {
	page      string
	robots    string // "" = 404
	robots500 bool
	scripts   map[string]string
	mu        sync.Mutex
	hits      map[string]int
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.hits == nil {
		s.hits = map[string]int{}
	}
	s.hits[r.URL.Path]++
	s.mu.Unlock()
	switch {
	case r.URL.Path == "/":
		fmt.Fprint(w, s.page)
	case r.URL.Path == "/robots.txt" && s.robots500:
		w.WriteHeader(500)
	case r.URL.Path == "/robots.txt" && s.robots != "":
		fmt.Fprint(w, s.robots)
	default:
		body, ok := s.scripts[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/javascript")
		fmt.Fprint(w, body)
	}
}

func (s *site) hit(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func scriptURLs(r Response) string {
	var out []string
	for _, s := range r.Observation.Scripts {
		out = append(out, s.URL)
	}
	return strings.Join(out, " ")
}

func TestScriptsAndRobots(t *testing.T) {
	page := `<script src="/private/secret.js"></script><script src="https://tracker.test/t.js"></script>
<script src="https://cdn.test/lib.js"></script><script src="/public/app.js"></script>
<script src="https://static.site.test/bundle.js"></script><script src="/public/app.js"></script>`
	scripts := map[string]string{
		"/private/secret.js": "secret", "/public/app.js": "fetch('https://api.openai.com/v1')",
		"/bundle.js": "bundle", "/lib.js": "lib", "/t.js": "tracker",
	}
	tests := []struct {
		name      string
		robots    string
		robots500 bool
		strict    bool
		status    model.Status
		want      string
	}{
		{
			name:   "disallowed path skipped, same-site first, cdn last, others ignored",
			robots: "User-agent: *\nDisallow: /private/\n",
			status: model.StatusOK,
			want:   "https://site.test/public/app.js https://static.site.test/bundle.js https://cdn.test/lib.js",
		},
		{
			name:   "no robots.txt allows all",
			status: model.StatusOK,
			want:   "https://site.test/private/secret.js https://site.test/public/app.js https://static.site.test/bundle.js https://cdn.test/lib.js",
		},
		{
			name:   "group for our product token",
			robots: "User-agent: *\nAllow: /\n\nUser-agent: aicensus\nDisallow: /\n",
			status: model.StatusOK,
			want:   "https://static.site.test/bundle.js https://cdn.test/lib.js",
		},
		{
			name:      "unreachable robots.txt disallows",
			robots500: true,
			status:    model.StatusOK,
			want:      "https://static.site.test/bundle.js https://cdn.test/lib.js",
		},
		{
			name:   "strict robots blocks the page",
			robots: "User-agent: *\nDisallow: /\n",
			strict: true,
			status: model.StatusRobotsDisallowed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFarm(t, "site.test", "static.site.test", "cdn.test", "tracker.test")
			main := &site{page: page, robots: tt.robots, robots500: tt.robots500, scripts: scripts}
			f.handle("site.test", main)
			f.handle("static.site.test", &site{scripts: scripts})
			f.handle("cdn.test", &site{scripts: scripts})
			tracker := &site{scripts: scripts}
			f.handle("tracker.test", tracker)
			c := f.client(func(o *Options) {
				o.ScriptLister = listScripts
				o.CDNs = []string{"cdn.test"}
				o.StrictRobots = tt.strict
			})
			r := c.Fetch(context.Background(), "site.test")
			if r.Status != tt.status {
				t.Fatalf("status %s err %v", r.Status, r.Err)
			}
			if got := scriptURLs(r); got != tt.want {
				t.Errorf("scripts\n got %s\nwant %s", got, tt.want)
			}
			if tt.robots != "" && r.Status == model.StatusOK && string(r.Observation.Robots) != tt.robots {
				t.Errorf("observation robots %q", r.Observation.Robots)
			}
			if strings.Contains(tt.robots, "/private/") && main.hit("/private/secret.js") != 0 {
				t.Error("a disallowed script was requested")
			}
			if tracker.hit("/t.js") != 0 {
				t.Error("a third-party, non-CDN script was requested")
			}
			if tt.strict && main.hit("/") != 0 {
				t.Error("strict robots: the page was requested")
			}
			// robots.txt is fetched once per origin, however often asked.
			c.Fetch(context.Background(), "site.test")
			if n := main.hit("/robots.txt"); n != 1 {
				t.Errorf("robots.txt requested %d times, want 1", n)
			}
		})
	}
}

func TestScriptLimits(t *testing.T) {
	big := strings.Repeat("x", 600<<10)
	scripts := map[string]string{}
	var page strings.Builder
	for i := range 8 {
		p := fmt.Sprintf("/s%d.js", i)
		scripts[p] = fmt.Sprintf("script %d", i)
		fmt.Fprintf(&page, `<script src="%s"></script>`, p)
	}
	scripts["/big1.js"], scripts["/big2.js"], scripts["/big3.js"] = big, big, big

	t.Run("count", func(t *testing.T) {
		f := newFarm(t, "many.test")
		s := &site{page: page.String(), scripts: scripts}
		f.handle("many.test", s)
		c := f.client(func(o *Options) { o.ScriptLister = listScripts; o.LazyRobots = true })
		r := c.Fetch(context.Background(), "many.test")
		if len(r.Observation.Scripts) != 5 || s.hit("/s5.js") != 0 {
			t.Errorf("fetched %q; want the first 5 only", scriptURLs(r))
		}
	})
	t.Run("byte budget", func(t *testing.T) {
		f := newFarm(t, "big.test")
		s := &site{page: `<script src="/big1.js"></script><script src="/big2.js"></script><script src="/big3.js"></script>`, scripts: scripts}
		f.handle("big.test", s)
		c := f.client(func(o *Options) { o.ScriptLister = listScripts; o.ScriptBudget = 1 << 20 })
		r := c.Fetch(context.Background(), "big.test")
		sc := r.Observation.Scripts
		if len(sc) != 2 || len(sc[0].Body) != 600<<10 || len(sc[1].Body) != 1<<20-600<<10 {
			for _, x := range sc {
				t.Logf("%s: %d bytes", x.URL, len(x.Body))
			}
			t.Fatalf("want /big1.js whole and /big2.js cut to the budget")
		}
		if s.hit("/big3.js") != 0 {
			t.Error("a script beyond the budget was requested")
		}
	})
}

// TestStrictRobotsWithSingleSlots follows a redirect to another origin on
// the same host and IP with one slot per host and per IP: the robots.txt
// check for the new origin must not wait for the slot the redirect response
// holds.
func TestStrictRobotsWithSingleSlots(t *testing.T) {
	f := newFarm(t, "one.test")
	var robots atomic.Int64
	f.handle("one.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
			robots.Add(1)
			fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
		case r.TLS == nil:
			http.Redirect(w, r, "https://one.test/home", http.StatusMovedPermanently)
		default:
			fmt.Fprint(w, "home")
		}
	}))
	c := f.client(func(o *Options) {
		o.PerHost, o.PerIP = 1, 1
		o.StrictRobots = true
		o.RequestTimeout = 3 * time.Second
	})
	res := c.get(context.Background(), "http://one.test/", getOptions{limit: 1 << 20, checkRobots: true})
	if res.err != nil {
		t.Fatalf("err %v", res.err)
	}
	if res.url != "https://one.test/home" || robots.Load() != 2 {
		t.Errorf("url %s after %d robots.txt fetches; want https://one.test/home after 2 (one per origin)", res.url, robots.Load())
	}
}
