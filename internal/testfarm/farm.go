package testfarm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
	"golang.org/x/sync/errgroup"
)

// Farm is a loopback internet: HTTP and HTTPS servers answering for every
// farm host by Host header and SNI, a DNS server for the farm's names, a
// test CA, and the ground truth of what a scan must find.
//
// Build it with New, start it with Start, stop it with Close. After New,
// every method is safe for concurrent use; port and address accessors are
// meaningful after Start.
type Farm struct {
	cfg    Config
	pages  []*page
	embeds []*embed
	plan   *plan
	ca     *authority
	dir    string
	ownDir bool

	clientOnce sync.Once
	client     *http.Client

	bombOnce  sync.Once
	bombBytes []byte
	bombErr   error

	mu        sync.Mutex
	started   bool
	done      chan struct{} // closed when the farm stops
	stopOnce  sync.Once
	group     errgroup.Group
	httpPort  int
	httpsPort int
	dnsAddr   string
}

// New loads the pages and embeds, plans the hosts and the ground truth,
// creates the CA and writes its PEM to Config.Dir. It does not listen. It
// fails with an error wrapping ErrNoData when the shared data is missing.
func New(cfg Config) (*Farm, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	pages, err := loadPages(cfg.CorpusDir, cfg.MaxPages)
	if err != nil {
		return nil, err
	}
	embeds, err := loadEmbeds(cfg.EmbedsDir)
	if err != nil {
		return nil, err
	}
	ca, err := newAuthority()
	if err != nil {
		return nil, fmt.Errorf("testfarm: %w", err)
	}
	f := &Farm{cfg: cfg, pages: pages, embeds: embeds, ca: ca, dir: cfg.Dir, done: make(chan struct{})}
	f.plan = newPlan(cfg, pages, embeds)
	if f.dir == "" {
		if f.dir, err = os.MkdirTemp("", "aicensus-testfarm-"); err != nil {
			return nil, fmt.Errorf("testfarm dir: %w", err)
		}
		f.ownDir = true
	} else if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return nil, fmt.Errorf("testfarm dir: %w", err)
	}
	if err := os.WriteFile(f.CAFile(), ca.pem, 0o644); err != nil {
		return nil, fmt.Errorf("testfarm: write ca: %w", err)
	}
	return f, nil
}

// Start listens on 127.0.0.1 (HTTP, HTTPS and DNS over UDP and TCP on
// random ports) and serves in the background until ctx ends or Close is
// called. It returns once every server accepts connections.
func (f *Farm) Start(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started {
		return errors.New("testfarm: already started")
	}
	f.started = true
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("testfarm listen http: %w", err)
	}
	httpsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("testfarm listen https: %w", err)
	}
	pc, dnsLn, err := listenUDPTCP()
	if err != nil {
		httpLn.Close()
		httpsLn.Close()
		return fmt.Errorf("testfarm listen dns: %w", err)
	}
	f.httpPort = httpLn.Addr().(*net.TCPAddr).Port
	f.httpsPort = httpsLn.Addr().(*net.TCPAddr).Port
	f.dnsAddr = pc.LocalAddr().String()

	quiet := log.New(io.Discard, "", 0)
	httpSrv := &http.Server{Handler: f, ReadHeaderTimeout: 30 * time.Second, ErrorLog: quiet}
	httpsSrv := &http.Server{
		Handler:           f,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          quiet,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){}, // HTTP/1.1 only
		TLSConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			NextProtos:         []string{"http/1.1"},
			GetCertificate:     f.getCertificate,
			GetConfigForClient: f.configForClient,
		},
	}
	udp := &mdns.Server{PacketConn: pc, Handler: f}
	tcp := &mdns.Server{Listener: dnsLn, Handler: f}
	f.group.Go(func() error { return ignoreClosed(httpSrv.Serve(httpLn)) })
	f.group.Go(func() error { return ignoreClosed(httpsSrv.ServeTLS(httpsLn, "", "")) })
	for _, s := range []*mdns.Server{udp, tcp} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		f.group.Go(func() error { return s.ActivateAndServe() })
		<-started
	}
	f.group.Go(func() error {
		select {
		case <-ctx.Done():
			f.stop()
		case <-f.done:
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return errors.Join(httpSrv.Close(), httpsSrv.Close(), udp.ShutdownContext(sctx), tcp.ShutdownContext(sctx))
	})
	return nil
}

func (f *Farm) stop() { f.stopOnce.Do(func() { close(f.done) }) }

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// listenUDPTCP binds UDP and TCP on one free port of 127.0.0.1.
func listenUDPTCP() (net.PacketConn, net.Listener, error) {
	var last error
	for range 100 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		last = err
		pc.Close()
	}
	return nil, nil, last
}

// Close stops the servers, waits for them and removes the temporary
// directory (when Config.Dir was empty). It is safe to call more than once
// and without Start.
func (f *Farm) Close() error {
	f.stop()
	f.HTTPClient().CloseIdleConnections()
	err := f.group.Wait()
	if f.ownDir {
		err = errors.Join(err, os.RemoveAll(f.dir))
	}
	return err
}

// Done is closed when the farm stops serving.
func (f *Farm) Done() <-chan struct{} { return f.done }

// HTTPPort is the farm's stand-in for port 80 (plain HTTP).
func (f *Farm) HTTPPort() int { return f.httpPort }

// HTTPSPort is the farm's stand-in for port 443 (HTTPS, HTTP/1.1).
func (f *Farm) HTTPSPort() int { return f.httpsPort }

// DNSAddr is the DNS server, "127.0.0.1:port", UDP and TCP.
func (f *Farm) DNSAddr() string { return f.dnsAddr }

// PortMap maps the logical ports 80 and 443 to the farm's ports.
func (f *Farm) PortMap() map[int]int { return map[int]int{80: f.httpPort, 443: f.httpsPort} }

// CAPEM returns the test CA certificate in PEM form.
func (f *Farm) CAPEM() []byte { return slices.Clone(f.ca.pem) }

// CAFile is the path of the CA PEM file (for --ca-cert).
func (f *Farm) CAFile() string { return filepath.Join(f.dir, "ca.pem") }

// CertPool returns a pool holding only the test CA.
func (f *Farm) CertPool() *x509.CertPool { return f.ca.pool.Clone() }

// Dir is the directory holding ca.pem.
func (f *Farm) Dir() string { return f.dir }

// Truth returns the ground truth, site hosts first then fault hosts, in
// the order of Domains. The caller owns the returned slice.
func (f *Farm) Truth() []HostTruth {
	out := make([]HostTruth, len(f.plan.truth))
	for i, t := range f.plan.truth {
		t.Technologies = slices.Clone(t.Technologies)
		t.Redirects = slices.Clone(t.Redirects)
		t.DNS = slices.Clone(t.DNS)
		out[i] = t
	}
	return out
}

// Domains returns the input list: the Host of every truth entry, in order.
func (f *Farm) Domains() []string {
	out := make([]string, len(f.plan.truth))
	for i, t := range f.plan.truth {
		out[i] = t.Host
	}
	return out
}

// HostsOf returns the input hosts of kind k, in order.
func (f *Farm) HostsOf(k Kind) []string {
	var out []string
	for _, t := range f.plan.truth {
		if t.Kind == k {
			out = append(out, t.Host)
		}
	}
	return out
}

// Page returns the bytes the farm serves as the page of a served name
// (its homepage, or /final for the redirect chain), and false for names
// that serve no page.
func (f *Farm) Page(host string) ([]byte, bool) {
	v := f.plan.vhosts[strings.ToLower(host)]
	if v == nil || (v.page == nil && v.embed == nil) {
		return nil, false
	}
	var out []byte
	for _, p := range v.parts() {
		out = append(out, p...)
	}
	return out, true
}

// DialContext dials like a browser on a machine whose hosts file points
// every name to 127.0.0.1 and whose ports 80 and 443 are the farm's: any
// host name goes to 127.0.0.1, port 80 and 443 to HTTPPort and HTTPSPort.
// IP literals are dialled as given. It ignores the farm's DNS.
func (f *Farm) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	switch port {
	case "80":
		port = strconv.Itoa(f.httpPort)
	case "443":
		port = strconv.Itoa(f.httpsPort)
	}
	if net.ParseIP(host) == nil {
		host = "127.0.0.1"
	}
	var d net.Dialer
	return d.DialContext(ctx, network, net.JoinHostPort(host, port))
}

// HTTPClient returns the farm's shared client: it trusts the farm CA, dials
// through DialContext, keeps connections alive, does not decompress and
// does not follow redirects (tests inspect them). Clone its Transport to
// change settings.
func (f *Farm) HTTPClient() *http.Client {
	f.clientOnce.Do(func() {
		f.client = &http.Client{
			Transport: &http.Transport{
				DialContext:         f.DialContext,
				TLSClientConfig:     &tls.Config{RootCAs: f.CertPool()},
				DisableCompression:  true,
				MaxIdleConnsPerHost: 8,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	})
	return f.client
}

// IssueCertificates issues now the certificate of every farm host, which
// the farm otherwise issues at the host's first TLS handshake: a benchmark
// calls it so that its first measured run does not pay for issuing.
func (f *Farm) IssueCertificates() error {
	for name, v := range f.plan.vhosts {
		if _, err := f.ca.certificate(name, v.tls); err != nil {
			return fmt.Errorf("testfarm: certificate for %s: %w", name, err)
		}
	}
	return nil
}

func (f *Farm) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.ToLower(hello.ServerName)
	v := f.plan.vhosts[name]
	if v == nil && isRenderHost(name) {
		return f.ca.certificate(name, tlsNormal) // browser-test stand-ins (loaders.go)
	}
	if v == nil {
		return nil, fmt.Errorf("testfarm: no certificate for %q", name)
	}
	return f.ca.certificate(name, v.tls)
}

func (f *Farm) configForClient(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	if v := f.plan.vhosts[strings.ToLower(hello.ServerName)]; v != nil && v.tls == tlsRefuse {
		return nil, refuseTLS(hello.Conn)
	}
	return nil, nil
}

// ServeHTTP answers for every farm host by its Host header: the page at /,
// robots.txt, the linked script, and the fault behaviours.
func (f *Farm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	v := f.plan.vhosts[strings.ToLower(host)]
	if v == nil && f.serveRender(w, r, strings.ToLower(host)) {
		return // browser-test stand-ins (loaders.go)
	}
	if v == nil {
		http.Error(w, "testfarm: unknown host", http.StatusMisdirectedRequest)
		return
	}
	w.Header().Set("Server", "testfarm")
	if f.serveFault(w, r, v) {
		return
	}
	switch {
	case r.URL.Path == "/robots.txt":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, v.robots)
	case r.URL.Path == scriptPath && v.script != nil:
		w.Header().Set("Content-Type", "application/javascript")
		_, _ = io.WriteString(w, v.script.body)
	case r.URL.Path == "/" && (v.page != nil || v.embed != nil):
		f.writePage(w, v)
	default:
		http.NotFound(w, r)
	}
}

// writePage sends the page of v without copying it: the shared base page
// is written around the inserted snippets.
func (f *Farm) writePage(w http.ResponseWriter, v *vhost) {
	parts := v.parts()
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(n))
	if v.embed != nil && v.embed.header[0] != "" {
		h.Set(v.embed.header[0], v.embed.header[1])
	}
	w.WriteHeader(http.StatusOK)
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return
		}
	}
}

// parts are the slices that make up the page of v, in order.
func (v *vhost) parts() [][]byte {
	if v.embed != nil && v.embed.whole {
		return [][]byte{v.embed.body}
	}
	pg := v.page
	if pg == nil {
		return nil
	}
	var parts [][]byte
	prev := 0
	if v.script != nil {
		at := pg.headEnd
		if at < 0 {
			at = pg.bodyEnd
		}
		parts = append(parts, pg.body[prev:at], scriptTag)
		prev = at
	}
	if v.embed != nil {
		parts = append(parts, pg.body[prev:pg.bodyEnd], v.embed.body)
		prev = pg.bodyEnd
	}
	return append(parts, pg.body[prev:])
}
