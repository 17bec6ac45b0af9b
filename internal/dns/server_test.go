package dns

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// behaviour is how the test server treats one name.
type behaviour int

const (
	normal      behaviour = iota
	drop                  // never answer (UDP and TCP)
	servfail              // rcode SERVFAIL
	refused               // rcode REFUSED
	truncate              // TC over UDP, full answer over TCP
	truncateAll           // TC over UDP, TCP connection closed
	malformed             // garbage bytes
	slow                  // answer after a delay
)

// testServer is a real miekg/dns server on 127.0.0.1 (UDP and TCP on one
// port) serving a small zone with per-name misbehaviour.
type testServer struct {
	addr    string
	zone    map[string][]mdns.RR // fqdn -> records
	special map[string]behaviour // fqdn -> behaviour
	delay   time.Duration
	queries atomic.Int64
	mu      sync.Mutex
	perName map[string]int // "name/TYPE/net" -> count
}

func newTestServer(t testing.TB, zone string, special map[string]behaviour) *testServer {
	t.Helper()
	s := &testServer{zone: map[string][]mdns.RR{}, special: map[string]behaviour{}, perName: map[string]int{}, delay: 200 * time.Millisecond}
	for line := range strings.SplitSeq(zone, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		rr, err := mdns.NewRR(line)
		if err != nil {
			t.Fatalf("zone line %q: %v", line, err)
		}
		name := strings.ToLower(rr.Header().Name)
		s.zone[name] = append(s.zone[name], rr)
	}
	for n, b := range special {
		s.special[mdns.Fqdn(n)] = b
	}
	pc, ln := listenBoth(t)
	s.addr = pc.LocalAddr().String()
	udp := &mdns.Server{PacketConn: pc, Handler: s}
	tcp := &mdns.Server{Listener: ln, Handler: s}
	var wg sync.WaitGroup
	for _, srv := range []*mdns.Server{udp, tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		wg.Go(func() { _ = srv.ActivateAndServe() })
		<-started
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = udp.ShutdownContext(ctx)
		_ = tcp.ShutdownContext(ctx)
		wg.Wait()
	})
	return s
}

// listenBoth binds UDP and TCP on the same free port of 127.0.0.1.
func listenBoth(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 50 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
	}
	t.Fatal("no free port for udp and tcp")
	return nil, nil
}

func (s *testServer) count(name string, qtype uint16, network string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perName[mdns.Fqdn(name)+"/"+mdns.TypeToString[qtype]+"/"+network]
}

func (s *testServer) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	s.queries.Add(1)
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	network := "udp"
	if _, ok := w.LocalAddr().(*net.TCPAddr); ok {
		network = "tcp"
	}
	s.mu.Lock()
	s.perName[name+"/"+mdns.TypeToString[q.Qtype]+"/"+network]++
	s.mu.Unlock()

	m := new(mdns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = true
	switch s.special[name] {
	case drop:
		return
	case servfail:
		m.Rcode = mdns.RcodeServerFailure
	case refused:
		m.Rcode = mdns.RcodeRefused
	case malformed:
		b, _ := m.Pack()
		b[7] = 1 // one answer: an A record whose rdata is cut short
		b = append(b, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0)
		_, _ = w.Write(b)
		return
	case truncate, truncateAll:
		if network == "udp" {
			m.Truncated = true
			_ = w.WriteMsg(m)
			return
		}
		if s.special[name] == truncateAll {
			_ = w.Close()
			return
		}
		s.answer(m, name, q.Qtype)
	case slow:
		time.Sleep(s.delay)
		s.answer(m, name, q.Qtype)
	default:
		s.answer(m, name, q.Qtype)
	}
	_ = w.WriteMsg(m)
}

// answer fills m like a recursive resolver would: the records of the type,
// following CNAMEs inside the zone; NXDOMAIN or no-data with an SOA.
func (s *testServer) answer(m *mdns.Msg, name string, qtype uint16) {
	for hops := 0; hops < 8; hops++ {
		rrs, ok := s.zone[name]
		if !ok {
			if hops == 0 {
				m.Rcode = mdns.RcodeNameError
			}
			break
		}
		var next string
		for _, rr := range rrs {
			switch {
			case rr.Header().Rrtype == qtype:
				m.Answer = append(m.Answer, mdns.Copy(rr))
			case rr.Header().Rrtype == mdns.TypeCNAME && qtype != mdns.TypeCNAME:
				m.Answer = append(m.Answer, mdns.Copy(rr))
				next = strings.ToLower(rr.(*mdns.CNAME).Target)
			}
		}
		if next == "" {
			break
		}
		name = next
	}
	if len(m.Answer) == 0 {
		soa, _ := mdns.NewRR("test. 300 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 5")
		m.Ns = append(m.Ns, soa)
	}
}

// newTestResolver returns a resolver for the given servers with short
// timeouts, closed at the end of the test.
func newTestResolver(t testing.TB, cfg Config, servers ...string) *Resolver {
	t.Helper()
	cfg.Servers = servers
	if cfg.Timeout == 0 {
		cfg.Timeout = 300 * time.Millisecond
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 5 * time.Millisecond
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// fakeClock is a settable clock for cache expiry tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
