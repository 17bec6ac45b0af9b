package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

func text(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("X-Powered-By", "farm")
		fmt.Fprint(w, body)
	}
}

func TestFetchOK(t *testing.T) {
	f := newFarm(t, "ok.test")
	f.handle("ok.test", text("<html>hello</html>"))
	c := f.client(func(o *Options) { o.LazyRobots = true })
	r := c.Fetch(context.Background(), "ok.test")
	if r.Status != model.StatusOK || r.Err != nil {
		t.Fatalf("status %s, err %v", r.Status, r.Err)
	}
	obs := r.Observation
	if obs.URL != "https://ok.test/" || obs.Host != "ok.test" || obs.StatusCode != 200 {
		t.Errorf("observation url %q host %q code %d", obs.URL, obs.Host, obs.StatusCode)
	}
	if string(obs.Body) != "<html>hello</html>" {
		t.Errorf("body %q", obs.Body)
	}
	if got := obs.Headers["x-powered-by"]; len(got) != 1 || got[0] != "farm" {
		t.Errorf("headers %v: want lowercase key x-powered-by", obs.Headers)
	}
	if obs.CertIssuer != "aicensus test farm" {
		t.Errorf("cert issuer %q", obs.CertIssuer)
	}
	if obs.Time.IsZero() || len(r.Redirects) != 0 || len(r.Attempts) != 1 {
		t.Errorf("time %v redirects %v attempts %+v", obs.Time, r.Redirects, r.Attempts)
	}
}

func TestFetchSendsUserAgent(t *testing.T) {
	f := newFarm(t, "ua.test")
	var ua, enc atomic.Value
	f.handle("ua.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.UserAgent())
		enc.Store(r.Header.Get("Accept-Encoding"))
	}))
	c := f.client(func(o *Options) { o.LazyRobots = true })
	if r := c.Fetch(context.Background(), "ua.test"); r.Status != model.StatusOK {
		t.Fatal(r.Status, r.Err)
	}
	if got := ua.Load().(string); !strings.HasPrefix(got, "aicensus/") || !strings.Contains(got, "+https://github.com/aicensus/aicensus") {
		t.Errorf("user agent %q", got)
	}
	if got := enc.Load().(string); got != "gzip, br, zstd, deflate" {
		t.Errorf("accept-encoding %q", got)
	}
}

func TestFetchInvalidHost(t *testing.T) {
	c, err := New(Options{Resolver: newMapResolver()})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"", "Example.com", "a b.com", "example.com:80", "http://x.com", ".x.com", "x.com."} {
		r := c.Fetch(context.Background(), h)
		if r.Status != model.StatusInvalidInput || !errors.Is(r.Err, ErrInvalidHost) {
			t.Errorf("Fetch(%q) = %s, %v; want invalid-input", h, r.Status, r.Err)
		}
	}
}

func TestFetchDNSStatuses(t *testing.T) {
	f := newFarm(t)
	f.resolver.sequence("empty.test", []string{}) // exists, no addresses
	c := f.client(nil)
	tests := []struct {
		host string
		want model.Status
	}{
		{"missing.test", model.StatusDNSNXDomain},
		{"empty.test", model.StatusDNSNoAddress},
	}
	for _, tt := range tests {
		r := c.Fetch(context.Background(), tt.host)
		if r.Status != tt.want {
			t.Errorf("%s: status %s (%v), want %s", tt.host, r.Status, r.Err, tt.want)
		}
		var de *DNSError
		if !errors.As(r.Err, &de) {
			t.Errorf("%s: error %v is not a *DNSError", tt.host, r.Err)
		}
	}
	// nxdomain: the www host is not tried; no address: it is.
	r := c.Fetch(context.Background(), "missing.test")
	if len(r.Attempts) != 1 {
		t.Errorf("nxdomain attempts %+v, want only https://missing.test/", r.Attempts)
	}
	r = c.Fetch(context.Background(), "empty.test")
	if len(r.Attempts) != 2 || r.Attempts[1].URL != "https://www.empty.test/" {
		t.Errorf("no-address attempts %+v, want the www host next", r.Attempts)
	}
}

func TestFetchHTTPFallback(t *testing.T) {
	f := newFarm(t, "plain.test")
	f.handle("plain.test", text("plain"))
	c := f.client(func(o *Options) {
		o.LazyRobots = true
		o.PortMap[443] = closedPort(t)
	})
	r := c.Fetch(context.Background(), "plain.test")
	if r.Status != model.StatusOK || r.Observation.URL != "http://plain.test/" {
		t.Fatalf("status %s url %q err %v", r.Status, r.Observation.URL, r.Err)
	}
	if len(r.Attempts) != 2 || r.Attempts[0].Status != model.StatusConnectRefused {
		t.Fatalf("attempts %+v; want connect-refused then ok", r.Attempts)
	}
	if r.Observation.CertIssuer != "" {
		t.Errorf("cert issuer %q over plain http", r.Observation.CertIssuer)
	}
}

func TestFetchWWWFallback(t *testing.T) {
	f := newFarm(t, "apex.test", "www.apex.test", "www.noaddr.test")
	f.handle("www.apex.test", text("www site"))
	f.handle("apex.test", http.NotFoundHandler())
	f.handle("www.noaddr.test", text("www only"))
	f.resolver.sequence("noaddr.test", []string{})
	c := f.client(func(o *Options) { o.LazyRobots = true })

	r := c.Fetch(context.Background(), "apex.test")
	if r.Status != model.StatusOK || r.Observation.URL != "https://www.apex.test/" {
		t.Fatalf("apex 404: status %s url %q attempts %+v", r.Status, r.Observation.URL, r.Attempts)
	}
	// The apex answered over https: its http URL is not tried.
	if len(r.Attempts) != 2 || r.Attempts[0].HTTPStatus != 404 {
		t.Errorf("attempts %+v", r.Attempts)
	}
	r = c.Fetch(context.Background(), "noaddr.test")
	if r.Status != model.StatusOK || r.Observation.URL != "https://www.noaddr.test/" {
		t.Fatalf("no address: status %s url %q attempts %+v", r.Status, r.Observation.URL, r.Attempts)
	}
}

func TestFetchHTTPErrorEverywhere(t *testing.T) {
	f := newFarm(t, "gone.test", "www.gone.test")
	f.handle("gone.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "farm")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "denied")
	}))
	f.handle("www.gone.test", http.NotFoundHandler())
	c := f.client(func(o *Options) { o.LazyRobots = true })
	r := c.Fetch(context.Background(), "gone.test")
	var he *HTTPStatusError
	if r.Status != model.StatusHTTPError || !errors.As(r.Err, &he) || he.Code != 403 {
		t.Fatalf("status %s err %v; want http-error 403 (the first answer)", r.Status, r.Err)
	}
	if r.Observation.StatusCode != 403 || string(r.Observation.Body) != "denied" || r.Observation.Headers["server"][0] != "farm" {
		t.Errorf("the 403 page should be kept: %+v", r.Observation)
	}
}

func TestFetchTLSErrors(t *testing.T) {
	tests := []struct {
		name  string
		cert  func(t *testing.T, f *farm) tls.Certificate
		check func(t *testing.T, err error)
	}{
		{
			name: "self-signed",
			cert: func(t *testing.T, f *farm) tls.Certificate {
				return leaf(t, nil, []string{"bad.test"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
			},
			check: func(t *testing.T, err error) {
				var ua x509.UnknownAuthorityError
				if !errors.As(err, &ua) {
					t.Errorf("error %v: want x509.UnknownAuthorityError", err)
				}
			},
		},
		{
			name: "expired",
			cert: func(t *testing.T, f *farm) tls.Certificate {
				return leaf(t, f.ca, []string{"bad.test"}, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
			},
			check: func(t *testing.T, err error) {
				var ci x509.CertificateInvalidError
				if !errors.As(err, &ci) || ci.Reason != x509.Expired {
					t.Errorf("error %v: want x509.CertificateInvalidError{Expired}", err)
				}
			},
		},
		{
			name: "wrong name",
			cert: func(t *testing.T, f *farm) tls.Certificate {
				return leaf(t, f.ca, []string{"other.test"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
			},
			check: func(t *testing.T, err error) {
				var he x509.HostnameError
				if !errors.As(err, &he) {
					t.Errorf("error %v: want x509.HostnameError", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFarm(t)
			f.resolver.set("bad.test", "127.0.0.1")
			srv := httptest.NewUnstartedServer(text("secret"))
			srv.Config.ErrorLog = quietLog
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{tt.cert(t, f)}}
			srv.StartTLS()
			defer srv.Close()
			c := f.client(func(o *Options) {
				o.PortMap[443] = port(t, srv)
				o.PortMap[80] = closedPort(t) // the http fallback fails too
			})
			r := c.Fetch(context.Background(), "bad.test")
			if r.Status != model.StatusTLSError {
				t.Fatalf("status %s (%v), want tls-error; attempts %+v", r.Status, r.Err, r.Attempts)
			}
			var te *TLSError
			if !errors.As(r.Err, &te) {
				t.Errorf("error %v is not a *TLSError", r.Err)
			}
			tt.check(t, r.Err)
			if len(r.Attempts) != 3 || r.Attempts[1].Status != model.StatusConnectRefused || r.Attempts[2].Status != model.StatusDNSNXDomain {
				t.Errorf("attempts %+v: want tls-error, connect-refused (http), dns-nxdomain (www)", r.Attempts)
			}
		})
	}
}

func TestFetchRedirects(t *testing.T) {
	f := newFarm(t, "r.test", "www.r.test")
	mux := http.NewServeMux()
	mux.Handle("/", http.RedirectHandler("https://www.r.test/home", http.StatusMovedPermanently))
	mux.Handle("/loop-a", http.RedirectHandler("/loop-b", http.StatusFound))
	mux.Handle("/loop-b", http.RedirectHandler("/loop-a", http.StatusFound))
	for i := range 10 {
		mux.Handle(fmt.Sprintf("/chain%d", i), http.RedirectHandler(fmt.Sprintf("/chain%d", i+1), http.StatusFound))
	}
	mux.Handle("/chain10", text("end of chain"))
	f.handle("r.test", mux)
	www := http.NewServeMux()
	www.Handle("/home", http.RedirectHandler("/chain7", http.StatusFound))
	www.Handle("/", mux)
	f.handle("www.r.test", www)
	c := f.client(func(o *Options) { o.LazyRobots = true })

	r := c.Fetch(context.Background(), "r.test")
	if r.Status != model.StatusOK || r.Observation.URL != "https://www.r.test/chain10" {
		t.Fatalf("status %s url %q err %v", r.Status, r.Observation.URL, r.Err)
	}
	want := []string{"https://r.test/", "https://www.r.test/home", "https://www.r.test/chain7", "https://www.r.test/chain8", "https://www.r.test/chain9"}
	if strings.Join(r.Redirects, " ") != strings.Join(want, " ") {
		t.Errorf("redirects %v, want %v", r.Redirects, want)
	}

	res := c.get(context.Background(), "https://r.test/chain0", getOptions{limit: 1 << 20})
	if st := StatusOf(res.err); st != model.StatusTooManyRedirects || !errors.Is(res.err, ErrTooManyRedirects) {
		t.Errorf("chain of 10: %s %v", st, res.err)
	}
	if len(res.redirects) != 6 {
		t.Errorf("chain of 10 stopped after %d redirects (%v), want 6 requests before the refusal", len(res.redirects), res.redirects)
	}
	res = c.get(context.Background(), "https://r.test/loop-a", getOptions{limit: 1 << 20})
	if st := StatusOf(res.err); st != model.StatusTooManyRedirects || !errors.Is(res.err, ErrRedirectLoop) {
		t.Errorf("loop: %s %v", st, res.err)
	}
}

func TestFetchRedirectLoopFromHome(t *testing.T) {
	f := newFarm(t, "loop.test")
	f.handle("loop.test", http.RedirectHandler("https://loop.test/", http.StatusFound))
	c := f.client(func(o *Options) { o.LazyRobots = true })
	r := c.Fetch(context.Background(), "loop.test")
	if r.Status != model.StatusTooManyRedirects || !errors.Is(r.Err, ErrRedirectLoop) {
		t.Fatalf("status %s err %v", r.Status, r.Err)
	}
	if len(r.Attempts) != 1 {
		t.Errorf("a redirect loop must not fall back: attempts %+v", r.Attempts)
	}
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// listenOn127002 starts an HTTP server on 127.0.0.2 (on port p, 0 for any)
// that counts connections; the address policy must keep it at zero.
func listenOn127002(t *testing.T, p int) (*countingListener, int) {
	t.Helper()
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.2:%d", p))
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	cl := &countingListener{Listener: l}
	srv := &http.Server{Handler: text("internal secret")}
	go srv.Serve(cl)
	t.Cleanup(func() { srv.Close() })
	return cl, l.Addr().(*net.TCPAddr).Port
}

func TestFetchBlockedPrivate(t *testing.T) {
	f := newFarm(t, "redir.test")
	internal, iport := listenOn127002(t, 0)
	mux := http.NewServeMux()
	mux.Handle("/", http.RedirectHandler(fmt.Sprintf("http://127.0.0.2:%d/", iport), http.StatusFound))
	mux.Handle("/metadata", http.RedirectHandler("http://169.254.169.254/latest/meta-data/", http.StatusFound))
	mux.Handle("/name", http.RedirectHandler("http://inside.test/", http.StatusFound))
	mux.Handle("/mapped", http.RedirectHandler(fmt.Sprintf("http://[::ffff:127.0.0.2]:%d/", iport), http.StatusFound))
	f.handle("redir.test", mux)
	f.resolver.set("inside.test", "127.0.0.2", "10.1.2.3", "fd00::1")
	f.resolver.set("metadata.test", "169.254.169.254")
	c := f.client(func(o *Options) { o.LazyRobots = true; o.PortMap[80] = iport })

	r := c.Fetch(context.Background(), "redir.test")
	if r.Status != model.StatusBlockedPrivate || !errors.Is(r.Err, ErrBlockedPrivate) {
		t.Fatalf("redirect to 127.0.0.2: status %s err %v", r.Status, r.Err)
	}
	if r.Observation.URL != fmt.Sprintf("http://127.0.0.2:%d/", iport) || len(r.Redirects) != 1 {
		t.Errorf("url %q redirects %v", r.Observation.URL, r.Redirects)
	}
	for _, path := range []string{"/metadata", "/name", "/mapped"} {
		res := c.get(context.Background(), "https://redir.test"+path, getOptions{limit: 1 << 20})
		if StatusOf(res.err) != model.StatusBlockedPrivate {
			t.Errorf("%s: %s %v, want blocked-private", path, StatusOf(res.err), res.err)
		}
	}
	r = c.Fetch(context.Background(), "metadata.test")
	if r.Status != model.StatusBlockedPrivate {
		t.Errorf("name resolving to 169.254.169.254: %s %v", r.Status, r.Err)
	}
	if n := internal.n.Load(); n != 0 {
		t.Fatalf("the server on 127.0.0.2 accepted %d connections", n)
	}

	// Without the allowlist even the farm on 127.0.0.1 is blocked; with
	// AllowPrivate, 127.0.0.2 is reachable.
	strict := f.client(func(o *Options) { o.Allow = nil })
	if r := strict.Fetch(context.Background(), "redir.test"); r.Status != model.StatusBlockedPrivate {
		t.Errorf("no allowlist: %s %v", r.Status, r.Err)
	}
	f.resolver.set("internal.test", "127.0.0.2")
	open := f.client(func(o *Options) {
		o.AllowPrivate = true
		o.LazyRobots = true
		o.PortMap[80] = iport
		o.PortMap[443] = closedPort(t)
	})
	if r := open.Fetch(context.Background(), "internal.test"); r.Status != model.StatusOK {
		t.Errorf("allow-private: %s %v", r.Status, r.Err)
	}
	if internal.n.Load() == 0 {
		t.Error("with AllowPrivate the 127.0.0.2 server should have been reached")
	}
}

// TestFetchDNSRebinding uses a resolver that answers the allowed farm
// address first and a private one afterwards, the way a rebinding attacker's
// DNS server does. Every dial resolves and checks again, so whichever
// request sees the private answer is refused before connecting; requests
// that reuse the target's already checked connection (robots.txt, scripts)
// stay on the address that was checked.
func TestFetchDNSRebinding(t *testing.T) {
	f := newFarm(t, "rebind.test")
	// Same port as the farm's HTTPS server: a dial that slipped through
	// would land here.
	internal, _ := listenOn127002(t, port(t, f.https))
	f.handle("rebind.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `<script src="/app.js"></script>`)
	}))
	f.resolver.sequence("rebind.test", []string{"127.0.0.1"}, []string{"127.0.0.2"})
	var lister ScriptLister = func(body []byte, base *url.URL) []string { return []string{"/app.js"} }
	c := f.client(func(o *Options) { o.ScriptLister = lister })
	r := c.Fetch(context.Background(), "rebind.test")
	if r.Status != model.StatusOK {
		t.Fatalf("first answer is allowed: %s %v", r.Status, r.Err)
	}
	r = c.Fetch(context.Background(), "rebind.test")
	if r.Status != model.StatusBlockedPrivate {
		t.Errorf("second fetch after rebinding: %s %v", r.Status, r.Err)
	}
	if n := internal.n.Load(); n != 0 {
		t.Fatalf("rebinding reached 127.0.0.2: %d connections", n)
	}
}

func TestFetchAllowlistPrefix(t *testing.T) {
	c, err := New(Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]bool{
		"127.0.0.1": true, "::ffff:127.0.0.1": true, "127.0.0.2": false,
		"169.254.169.254": false, "10.0.0.1": false, "8.8.8.8": true,
	} {
		if got := c.policy.Permits(netip.MustParseAddr(ip)); got != want {
			t.Errorf("permits(%s) = %v, want %v", ip, got, want)
		}
	}
}

// TestDialerControl checks the last line of defence on its own: the
// dialer's Control hook refuses a forbidden socket address even when asked
// to dial it directly.
func TestDialerControl(t *testing.T) {
	internal, iport := listenOn127002(t, 0)
	c, err := New(Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.dialer.DialContext(context.Background(), "tcp", fmt.Sprintf("127.0.0.2:%d", iport))
	if !errors.Is(err, ErrBlockedPrivate) {
		t.Fatalf("dial 127.0.0.2: %v, want ErrBlockedPrivate", err)
	}
	if internal.n.Load() != 0 {
		t.Fatal("the connection was made")
	}
}

// TestFetchRedirectToLoopback is the case as stated: a site that is
// allowed (here served on 127.0.0.2, the only allowed prefix) redirects to
// 127.0.0.1, which is not allowed without --allow-private.
func TestFetchRedirectToLoopback(t *testing.T) {
	loop := &countingListener{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	loop.Listener = l
	inner := &http.Server{Handler: text("loopback secret"), ErrorLog: quietLog}
	go inner.Serve(loop)
	defer inner.Close()

	ol, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	target := fmt.Sprintf("http://127.0.0.1:%d/admin", l.Addr().(*net.TCPAddr).Port)
	outer := &http.Server{Handler: http.RedirectHandler(target, http.StatusFound), ErrorLog: quietLog}
	go outer.Serve(ol)
	defer outer.Close()

	res := newMapResolver()
	res.set("site.test", "127.0.0.2")
	c, err := New(Options{
		Resolver:   res,
		Allow:      []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")},
		PortMap:    map[int]int{80: ol.Addr().(*net.TCPAddr).Port, 443: closedPort(t)},
		LazyRobots: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Fetch(context.Background(), "site.test")
	if r.Status != model.StatusBlockedPrivate || r.Observation.URL != target {
		t.Fatalf("status %s url %s err %v; want blocked-private at %s", r.Status, r.Observation.URL, r.Err, target)
	}
	if n := loop.n.Load(); n != 0 {
		t.Fatalf("the loopback server accepted %d connections", n)
	}
}
