package render

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/fetch"
)

// mapResolver answers from a table; other names do not exist.
type mapResolver map[string][]netip.Addr

func (m mapResolver) LookupAddrs(_ context.Context, host string) ([]netip.Addr, error) {
	if a, ok := m[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func newTestProxy(t *testing.T, o Options) *proxy {
	t.Helper()
	if o.Resolver == nil {
		o.Resolver = mapResolver{}
	}
	p, err := startProxy(&o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	return p
}

// connect sends CONNECT target through the proxy and returns the status
// code and, on 200, the tunnel.
func connect(t *testing.T, p *proxy, target string) (int, net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", p.addr())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		t.Fatalf("CONNECT %s: %v", target, err)
	}
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return resp.StatusCode, nil
	}
	t.Cleanup(func() { c.Close() })
	return resp.StatusCode, &bufConn{Conn: c, r: br}
}

// bufConn reads what the response reader already buffered first.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// TestProxyPolicy: the proxy dials only permitted addresses, whatever the
// name, the literal form or the scheme; refused destinations never see a
// connection and are recorded.
func TestProxyPolicy(t *testing.T) {
	port, accepted := listen127002(t)
	ps := strconv.Itoa(port)
	res := mapResolver{
		"rebind.test": addrs("127.0.0.2"),
		"mixed.test":  addrs("10.0.0.1", "169.254.169.254"),
		"meta.test":   addrs("169.254.169.254"),
		"ok.test":     addrs("127.0.0.2"),
	}
	p := newTestProxy(t, Options{Resolver: res, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	refused := []string{
		"127.0.0.2:" + ps,
		"[::ffff:127.0.0.2]:" + ps, // IPv4-mapped
		"rebind.test:" + ps,
		"mixed.test:443",
		"meta.test:80",
		"169.254.169.254:80",
		"[::1]:" + ps,
		"[fd00::1]:443",
	}
	for _, target := range refused {
		t.Run("connect "+target, func(t *testing.T) {
			code, _ := connect(t, p, target)
			if code != http.StatusForbidden {
				t.Errorf("CONNECT %s: status %d, want 403", target, code)
			}
			scheme := "https"
			if strings.HasSuffix(target, ":80") {
				scheme = "http"
			}
			u := scheme + "://" + target + "/"
			if strings.HasSuffix(target, ":443") || strings.HasSuffix(target, ":80") {
				u = scheme + "://" + strings.TrimSuffix(strings.TrimSuffix(target, ":443"), ":80") + "/"
			}
			if !p.wasBlocked(u) {
				t.Errorf("%s not recorded as blocked", u)
			}
		})
	}
	// Plain http through the proxy: refused with 403 and the marker header.
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: p.addr()})}, Timeout: 5 * time.Second}
	resp, err := client.Get("http://127.0.0.2:" + ps + "/secret")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Aicensus-Blocked") == "" {
		t.Errorf("GET via proxy: %d %v, want 403 with X-Aicensus-Blocked", resp.StatusCode, resp.Header)
	}
	if n := accepted(); n != 0 {
		t.Fatalf("the 127.0.0.2 listener accepted %d connections", n)
	}
	if p.wasBlocked("https://ok.test/") || p.wasBlocked("http://127.0.0.2:1/") {
		t.Error("destinations never requested are reported blocked")
	}
}

// TestProxyAllow: Allow and AllowPrivate let the same requests through,
// CONNECT tunnels carry bytes both ways, and PortMap moves ports.
func TestProxyAllow(t *testing.T) {
	port, accepted := listen127002(t)
	ps := strconv.Itoa(port)
	for _, o := range []Options{
		{AllowPrivate: true},
		{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, PortMap: map[int]int{443: port}},
	} {
		o.Resolver = mapResolver{"ok.test": addrs("127.0.0.2")}
		p := newTestProxy(t, o)
		target := "ok.test:" + ps
		if o.PortMap != nil {
			target = "ok.test:443"
		}
		code, c := connect(t, p, target)
		if code != http.StatusOK {
			t.Fatalf("%+v: CONNECT %s: %d", o, target, code)
		}
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: ok.test\r\n\r\n")
		b, _ := io.ReadAll(c)
		if !strings.HasSuffix(string(b), "ok") {
			t.Errorf("tunnel read %q", b)
		}
		client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: p.addr()})}, Timeout: 5 * time.Second}
		resp, err := client.Get("http://127.0.0.2:" + ps + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "ok" {
			t.Errorf("GET via proxy: %d %q", resp.StatusCode, body)
		}
	}
	if accepted() < 6 {
		t.Errorf("listener accepted %d connections, want 6", accepted())
	}
}

// TestProxyErrors: unknown names and refused ports give 502, bad targets
// 400, and the dial errors classify like internal/fetch's.
func TestProxyErrors(t *testing.T) {
	p := newTestProxy(t, Options{AllowPrivate: true})
	if code, _ := connect(t, p, "nxdomain.test:443"); code != http.StatusBadGateway {
		t.Errorf("unknown name: %d, want 502", code)
	}
	if code, _ := connect(t, p, "bad:port"); code == http.StatusOK {
		t.Errorf("bad port: %d, want a refusal", code)
	}
	_, err := p.dial(context.Background(), "tcp", "meta.test:80")
	if err == nil || errors.Is(err, fetch.ErrBlockedPrivate) {
		t.Errorf("unknown name: %v", err)
	}
	blocked := newTestProxy(t, Options{})
	_, err = blocked.dial(context.Background(), "tcp", "10.1.2.3:80")
	var be *fetch.BlockedError
	if !errors.As(err, &be) || !errors.Is(err, fetch.ErrBlockedPrivate) {
		t.Errorf("private literal: %v, want *fetch.BlockedError", err)
	}
	if fetch.StatusOf(err) != "blocked-private" {
		t.Errorf("StatusOf(%v) = %s", err, fetch.StatusOf(err))
	}
}

func TestSplitHostPort(t *testing.T) {
	for _, c := range []struct {
		in   string
		host string
		port int
		ok   bool
	}{
		{"Example.COM.:443", "example.com", 443, true},
		{"[::1]:80", "::1", 80, true},
		{"a:0", "", 0, false},
		{"a:65536", "", 0, false},
		{":80", "", 0, false},
		{"noport", "", 0, false},
	} {
		h, p, err := splitHostPort(c.in)
		if (err == nil) != c.ok || h != c.host || p != c.port {
			t.Errorf("splitHostPort(%q) = %q %d %v", c.in, h, p, err)
		}
	}
}
