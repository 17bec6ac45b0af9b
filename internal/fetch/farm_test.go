package fetch

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"
)

// This file holds the test fixtures: a resolver backed by a map (a real
// Resolver implementation, not a mock of the Client), a certificate
// authority made at test time, and a small loopback farm of virtual hosts
// served over HTTP and HTTPS on 127.0.0.1.

// mapResolver answers from a table; unknown names do not exist. An entry
// with several answers returns them in turn (the last one repeats), which is
// how a rebinding DNS server behaves.
type mapResolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	calls   map[string]int
}

func newMapResolver() *mapResolver {
	return &mapResolver{answers: map[string][][]netip.Addr{}, calls: map[string]int{}}
}

// set makes host answer with addrs on every lookup.
func (r *mapResolver) set(host string, addrs ...string) { r.sequence(host, addrs) }

// sequence makes host answer with the given answers in turn.
func (r *mapResolver) sequence(host string, answers ...[]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var seq [][]netip.Addr
	for _, a := range answers {
		var addrs []netip.Addr
		for _, s := range a {
			addrs = append(addrs, netip.MustParseAddr(s))
		}
		seq = append(seq, addrs)
	}
	r.answers[host] = seq
}

func (r *mapResolver) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seq, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	n := r.calls[host]
	r.calls[host]++
	return seq[min(n, len(seq)-1)], nil
}

// testCA is a certificate authority created for one test run.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "aicensus test CA", Organization: []string{"aicensus test farm"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf issues a server certificate for names, valid from notBefore to
// notAfter. A nil ca makes it self-signed.
func leaf(t testing.TB, ca *testCA, names []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// farm serves virtual hosts on 127.0.0.1 over HTTP and HTTPS. Handlers
// are chosen by the Host header; unknown hosts get 404.
type farm struct {
	t        testing.TB
	ca       *testCA
	resolver *mapResolver
	mu       sync.Mutex
	hosts    map[string]http.Handler
	http     *httptest.Server
	https    *httptest.Server
}

// newFarm starts a farm whose HTTPS certificate covers names (and is
// signed by a fresh CA the client will trust).
func newFarm(t testing.TB, names ...string) *farm {
	t.Helper()
	f := &farm{t: t, ca: newTestCA(t), resolver: newMapResolver(), hosts: map[string]http.Handler{}}
	h := http.HandlerFunc(f.serve)
	f.http = httptest.NewUnstartedServer(h)
	f.http.Config.ErrorLog = quietLog
	f.http.Start()
	t.Cleanup(f.http.Close)
	f.https = httptest.NewUnstartedServer(h)
	f.https.Config.ErrorLog = quietLog
	cert := leaf(t, f.ca, append(names, "farm.test"), time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	f.https.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	f.https.StartTLS()
	t.Cleanup(f.https.Close)
	return f
}

func (f *farm) serve(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	f.mu.Lock()
	h := f.hosts[host]
	f.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h.ServeHTTP(w, r)
}

// handle serves host (resolving to 127.0.0.1) with h.
func (f *farm) handle(host string, h http.Handler) {
	f.mu.Lock()
	f.hosts[host] = h
	f.mu.Unlock()
	f.resolver.set(host, "127.0.0.1")
}

func port(t testing.TB, s *httptest.Server) int {
	t.Helper()
	_, p, err := net.SplitHostPort(s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

// options returns Client options for the farm: its resolver, CA and port
// map, 127.0.0.1/32 allowed, short timeouts and backoff.
func (f *farm) options() Options {
	return Options{
		Resolver:       f.resolver,
		ExtraRootsPEM:  f.ca.pem,
		PortMap:        map[int]int{80: port(f.t, f.http), 443: port(f.t, f.https)},
		Allow:          []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		ConnectTimeout: 2 * time.Second,
		TLSTimeout:     2 * time.Second,
		RequestTimeout: 5 * time.Second,
		TargetTimeout:  10 * time.Second,
		RetryBackoff:   time.Millisecond,
	}
}

// client builds a Client for the farm, with edit applied to its options.
func (f *farm) client(edit func(*Options)) *Client {
	f.t.Helper()
	o := f.options()
	if edit != nil {
		edit(&o)
	}
	c, err := New(o)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(c.Close)
	return c
}

// quietLog drops the servers' own complaints (handshake failures are what
// several tests provoke).
var quietLog = log.New(io.Discard, "", 0)

// closedPort returns a loopback port with nothing listening.
func closedPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return p
}
