package render

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aicensus/aicensus/internal/fetch"
)

// proxy is the browser's only way to the network: Chromium is started with
// --proxy-server pointing at it (and <-loopback> so that loopback URLs are
// proxied too). Every CONNECT tunnel (https, wss) and every plain http
// request is dialed by the proxy itself: the host is resolved through the
// Resolver, addresses the policy forbids are dropped, and only checked
// addresses are dialed (the dialer's Control hook checks the socket address
// once more). A DNS answer that changes between lookups cannot get past it:
// what is checked is what is dialed. The browser itself resolves nothing.
type proxy struct {
	resolver fetch.Resolver
	policy   fetch.AddrPolicy
	portMap  map[int]int
	dialer   net.Dialer
	rp       *httputil.ReverseProxy
	srv      *http.Server
	ln       net.Listener
	done     chan struct{}

	mu      sync.Mutex
	blocked map[string]bool // "host:port" refused by the policy
	tunnels map[net.Conn]bool
}

// maxBlockedKeys bounds the memory of refused destinations; the record is
// reset when full (it only labels requests of pages in flight).
const maxBlockedKeys = 4096

// connectTimeout bounds one dial of the proxy.
const connectTimeout = 10 * time.Second

// startProxy listens on 127.0.0.1 and serves until close.
func startProxy(o *Options) (*proxy, error) {
	p := &proxy{
		resolver: o.Resolver,
		policy:   fetch.AddrPolicy{AllowAll: o.AllowPrivate, Allow: o.Allow},
		portMap:  o.PortMap,
		blocked:  map[string]bool{},
		tunnels:  map[net.Conn]bool{},
		done:     make(chan struct{}),
	}
	p.dialer = net.Dialer{Timeout: connectTimeout, Control: p.control}
	quiet := log.New(io.Discard, "", 0)
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL = r.In.URL
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           p.dial,
			DisableCompression:    true,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       30 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
		},
		ErrorLog:     quiet,
		ErrorHandler: p.fail,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("render proxy listen: %w", err)
	}
	p.ln = ln
	p.srv = &http.Server{Handler: p, ErrorLog: quiet, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		defer close(p.done)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

// addr is the proxy's "127.0.0.1:port".
func (p *proxy) addr() string { return p.ln.Addr().String() }

// close stops the proxy and every open tunnel.
func (p *proxy) close() {
	_ = p.srv.Close()
	p.mu.Lock()
	for c := range p.tunnels {
		c.Close()
	}
	p.mu.Unlock()
	p.rp.Transport.(*http.Transport).CloseIdleConnections()
	<-p.done
}

// ServeHTTP tunnels CONNECT requests and forwards absolute-URL requests.
func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.tunnel(w, r)
		return
	}
	if !r.URL.IsAbs() || (r.URL.Scheme != "http" && r.URL.Scheme != "ws") {
		http.Error(w, "aicensus render proxy: absolute http URL required", http.StatusBadRequest)
		return
	}
	p.rp.ServeHTTP(w, r)
}

// tunnel dials r.Host and splices the two connections.
func (p *proxy) tunnel(w http.ResponseWriter, r *http.Request) {
	up, err := p.dial(r.Context(), "tcp", r.Host)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		http.Error(w, "aicensus render proxy: cannot hijack", http.StatusInternalServerError)
		return
	}
	down, buf, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	if !p.track(down, up) {
		return
	}
	defer p.untrack(down, up)
	if _, err := io.WriteString(down, "HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Bytes the browser sent after the CONNECT head are in buf.
		if n := buf.Reader.Buffered(); n > 0 {
			b, _ := buf.Reader.Peek(n)
			if _, err := up.Write(b); err != nil {
				return
			}
		}
		_, _ = io.Copy(up, down)
		if tc, ok := up.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	_, _ = io.Copy(down, up)
	down.Close()
	<-done
}

// track registers an open tunnel so that close can end it; false when the
// proxy is already closed (both connections are then closed).
func (p *proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		for _, c := range conns {
			c.Close()
		}
		return false
	default:
	}
	for _, c := range conns {
		p.tunnels[c] = true
	}
	return true
}

func (p *proxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		c.Close()
		delete(p.tunnels, c)
	}
}

// fail answers a request the proxy could not complete: 403 with
// X-Aicensus-Blocked for a destination the policy refuses, 502 otherwise.
func (p *proxy) fail(w http.ResponseWriter, _ *http.Request, err error) {
	if errors.Is(err, fetch.ErrBlockedPrivate) {
		w.Header().Set("X-Aicensus-Blocked", "private-address")
		http.Error(w, "aicensus render proxy: "+err.Error(), http.StatusForbidden)
		return
	}
	http.Error(w, "aicensus render proxy: "+err.Error(), http.StatusBadGateway)
}

// maxDialAddrs is how many permitted addresses one dial tries.
const maxDialAddrs = 3

// dial resolves addr's host, keeps the addresses the policy permits and
// connects to the first that answers. A destination without a permitted
// address is recorded (wasBlocked) and fails with *fetch.BlockedError.
func (p *proxy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := splitHostPort(addr)
	if err != nil {
		return nil, err
	}
	addrs, err := p.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	permitted := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if p.policy.Permits(a) {
			permitted = append(permitted, a.Unmap().WithZone(""))
		}
	}
	if len(permitted) == 0 {
		p.noteBlocked(host, port)
		return nil, &fetch.BlockedError{Host: host, Addrs: addrs}
	}
	if to, ok := p.portMap[port]; ok {
		port = to
	}
	// IPv4 first: many scanning hosts have no IPv6 route.
	slices.SortStableFunc(permitted, func(a, b netip.Addr) int { return cmp.Compare(a.BitLen(), b.BitLen()) })
	var last error
	for _, ip := range permitted[:min(len(permitted), maxDialAddrs)] {
		conn, err := p.dialer.DialContext(ctx, network, netip.AddrPortFrom(ip, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, &fetch.ConnectError{Addr: net.JoinHostPort(host, strconv.Itoa(port)), Err: last}
}

// resolve returns host's addresses: the literal itself for an IP, the
// Resolver's answer otherwise.
func (p *proxy) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	addrs, err := p.resolver.LookupAddrs(ctx, host)
	if err == nil && len(addrs) == 0 {
		err = fetch.ErrNoAddress
	}
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	return addrs, nil
}

// control is the dialer's last check, on the socket address itself.
func (p *proxy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !p.policy.Permits(ap.Addr()) {
		return &fetch.BlockedError{Host: address, Addrs: []netip.Addr{ap.Addr()}}
	}
	return nil
}

// splitHostPort parses "host:port" as the browser sends it (IPv6 literals
// in brackets), lowercasing the host.
func splitHostPort(addr string) (string, int, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("proxy target %q: %w", addr, fetch.ErrInvalidHost)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port <= 0 || port > 65535 || host == "" {
		return "", 0, fmt.Errorf("proxy target %q: bad port or host: %w", addr, fetch.ErrInvalidHost)
	}
	return strings.ToLower(strings.TrimSuffix(host, ".")), port, nil
}

// hostPortKey is the key of the blocked record.
func hostPortKey(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func (p *proxy) noteBlocked(host string, port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.blocked) >= maxBlockedKeys {
		clear(p.blocked)
	}
	p.blocked[hostPortKey(host, port)] = true
}

// wasBlocked reports whether the proxy refused the destination of rawURL
// (its host and port, default ports filled in).
func (p *proxy) wasBlocked(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return false
	}
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https", "wss":
			port = "443"
		default:
			port = "80"
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.blocked[hostPortKey(strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), n)]
}
