package dns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/aicensus/aicensus/internal/model"
)

const (
	openaiTXT    = "openai-domain-verification=dv-AbCdEfGhIjKlMnOpQrStUvWx"
	anthropicTXT = "anthropic-domain-verification-pkgrxp=9SX6zKqW3eR5tY7uI9oP1aS2d"
)

var testZone = `
example.test. 300 IN TXT "` + openaiTXT + `"
example.test. 300 IN TXT "` + anthropicTXT + `"
example.test. 300 IN TXT "v=spf1 " "include:_spf.example.test ~all"
example.test. 300 IN MX 10 MX1.Example.Test.
example.test. 300 IN A 192.0.2.1
chat.example.test. 60 IN A 192.0.2.2
www.example.test. 300 IN CNAME edge.cdn.test.
edge.cdn.test. 300 IN CNAME origin.cdn.test.
origin.cdn.test. 300 IN A 192.0.2.3
origin.cdn.test. 300 IN AAAA 2001:db8::3
noaddr.test. 300 IN TXT "openai-domain-verification=dv-AbCdEfGhIjKlMnOpQrStUvWx"
split.test. 300 IN TXT "openai-domain-verification=" "dv-AbCdEfGhIjKlMnOpQrStUvWx"
escaped.test. 300 IN TXT "quote\"back\\slash\001end"
short.test. 1 IN A 192.0.2.9
`

var testSpecial = map[string]behaviour{
	"timeout.test":   drop,
	"servfail.test":  servfail,
	"refused.test":   refused,
	"tc.test":        truncate,
	"tcfail.test":    truncateAll,
	"malformed.test": malformed,
	"slow.test":      slow,
}

func TestTXTFormats(t *testing.T) {
	srv := newTestServer(t, testZone, testSpecial)
	r := newTestResolver(t, Config{}, srv.addr)
	ctx := context.Background()

	a, err := r.Query(ctx, "Example.TEST.", mdns.TypeTXT)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.DNSRecord{
		{Name: "example.test", Type: "TXT", Value: openaiTXT},
		{Name: "example.test", Type: "TXT", Value: anthropicTXT},
		{Name: "example.test", Type: "TXT", Value: "v=spf1 include:_spf.example.test ~all"},
	}
	if !slices.Equal(sortRecords(a.Records), sortRecords(want)) {
		t.Fatalf("TXT records\n got %v\nwant %v", a.Records, want)
	}
	openai := regexp.MustCompile(`^openai-domain-verification=dv-[A-Za-z0-9]{24}$`)
	anthropic := regexp.MustCompile(`^anthropic-domain-verification-[a-z0-9]{6}=[A-Za-z0-9]{25}$`)
	var sawO, sawA bool
	for _, rec := range a.Records {
		sawO = sawO || openai.MatchString(rec.Value)
		sawA = sawA || anthropic.MatchString(rec.Value)
	}
	if !sawO || !sawA {
		t.Errorf("verification formats not matched (openai %v, anthropic %v) in %v", sawO, sawA, a.Records)
	}

	tests := []struct{ name, want string }{
		{"split.test", openaiTXT},
		{"escaped.test", "quote\"back\\slash\x01end"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := r.Query(ctx, tc.name, mdns.TypeTXT)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Records) != 1 || a.Records[0].Value != tc.want {
				t.Fatalf("got %q, want one record %q", a.Records, tc.want)
			}
		})
	}
}

func TestStatuses(t *testing.T) {
	srv := newTestServer(t, testZone, testSpecial)
	r := newTestResolver(t, Config{Timeout: 100 * time.Millisecond, Attempts: 2}, srv.addr)
	tests := []struct {
		host     string
		status   model.Status
		sentinel error
	}{
		{"example.test", model.StatusOK, nil},
		{"nope.test", model.StatusDNSNXDomain, ErrNXDomain},
		{"servfail.test", model.StatusDNSServfail, ErrServfail},
		{"refused.test", model.StatusDNSServfail, ErrServfail},
		{"timeout.test", model.StatusDNSTimeout, ErrTimeout},
		{"noaddr.test", model.StatusDNSNoAddress, ErrNoAddress},
		{"tc.test", model.StatusDNSNXDomain, ErrNXDomain}, // TCP works and says the name does not exist
		{"tcfail.test", model.StatusDNSError, ErrMalformed},
		{"malformed.test", model.StatusDNSError, ErrMalformed},
		{"bad..name", model.StatusDNSError, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			addrs, err := r.LookupAddrs(context.Background(), tc.host)
			if got := StatusOf(err); got != tc.status {
				t.Fatalf("status %q (err %v), want %q", got, err, tc.status)
			}
			if tc.sentinel == nil {
				if len(addrs) == 0 {
					t.Fatal("no addresses")
				}
				return
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.sentinel)
			}
			var de *Error
			if !errors.As(err, &de) || de.Status != tc.status {
				t.Errorf("not an *Error with status %q: %#v", tc.status, err)
			}
		})
	}
	if n := srv.count("tc.test", mdns.TypeA, "tcp"); n != 1 {
		t.Errorf("tc.test A over tcp asked %d times, want 1", n)
	}
	if n := srv.count("timeout.test", mdns.TypeA, "udp"); n != 2 {
		t.Errorf("timeout.test A asked %d times, want 2 (attempts)", n)
	}
}

func TestTruncatedFallsBackToTCP(t *testing.T) {
	zone := testZone + "tc.test. 300 IN TXT \"" + openaiTXT + "\"\ntc.test. 300 IN A 192.0.2.7\n"
	srv := newTestServer(t, zone, testSpecial)
	r := newTestResolver(t, Config{}, srv.addr)
	a, err := r.Query(context.Background(), "tc.test", mdns.TypeTXT)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Records) != 1 || a.Records[0].Value != openaiTXT {
		t.Fatalf("got %v", a.Records)
	}
	if srv.count("tc.test", mdns.TypeTXT, "udp") != 1 || srv.count("tc.test", mdns.TypeTXT, "tcp") != 1 {
		t.Errorf("want one udp and one tcp exchange")
	}
	_, err = r.Query(context.Background(), "tcfail.test", mdns.TypeTXT)
	if !errors.Is(err, errTruncated) || StatusOf(err) != model.StatusDNSError {
		t.Fatalf("tcfail: %v, want truncated dns-error", err)
	}
}

func TestCNAMEChainAndHost(t *testing.T) {
	srv := newTestServer(t, testZone, testSpecial)
	r := newTestResolver(t, Config{}, srv.addr)
	h := r.LookupHost(context.Background(), "WWW.example.test.")
	if h.Status != model.StatusOK || h.Err != nil {
		t.Fatalf("status %q err %v", h.Status, h.Err)
	}
	wantAddrs := []netip.Addr{netip.MustParseAddr("192.0.2.3"), netip.MustParseAddr("2001:db8::3")}
	if !slices.Equal(h.Addrs, wantAddrs) {
		t.Errorf("addrs %v, want %v", h.Addrs, wantAddrs)
	}
	if h.Name != "www.example.test" || h.Domain != "example.test" {
		t.Errorf("name %q domain %q", h.Name, h.Domain)
	}
	want := sortRecords([]model.DNSRecord{
		{Name: "edge.cdn.test", Type: "CNAME", Value: "origin.cdn.test"},
		{Name: "example.test", Type: "MX", Value: "mx1.example.test"},
		{Name: "example.test", Type: "TXT", Value: anthropicTXT},
		{Name: "example.test", Type: "TXT", Value: openaiTXT},
		{Name: "example.test", Type: "TXT", Value: "v=spf1 include:_spf.example.test ~all"},
		{Name: "www.example.test", Type: "CNAME", Value: "edge.cdn.test"},
	})
	if !slices.Equal(h.Records, want) {
		t.Errorf("records\n got %v\nwant %v", h.Records, want)
	}

	h = r.LookupHost(context.Background(), "noaddr.test")
	if h.Status != model.StatusDNSNoAddress || len(h.Records) != 1 || h.Records[0].Value != openaiTXT {
		t.Errorf("noaddr.test: status %q records %v", h.Status, h.Records)
	}
	h = r.LookupHost(context.Background(), "192.0.2.44")
	if h.Status != model.StatusOK || len(h.Addrs) != 1 || h.Addrs[0] != netip.MustParseAddr("192.0.2.44") {
		t.Errorf("ip literal: %+v", h)
	}
}

// TestRecordTypes: a resolver told which record types its catalog needs
// asks only those (besides addresses, and the CNAME chain they follow).
func TestRecordTypes(t *testing.T) {
	srv := newTestServer(t, testZone, testSpecial)
	r := newTestResolver(t, Config{RecordTypes: []string{"TXT"}}, srv.addr)
	h := r.LookupHost(context.Background(), "www.example.test")
	for _, rec := range h.Records {
		if rec.Type == "MX" || rec.Type == "NS" {
			t.Errorf("asked for TXT only, got %v", rec)
		}
	}
	var txt int
	for _, rec := range h.Records {
		if rec.Type == "TXT" {
			txt++
		}
	}
	if txt != 3 {
		t.Errorf("got %d TXT records of the apex, want 3: %v", txt, h.Records)
	}
	host, domain := recordTypes([]string{"txt", "SOA", "A", "bogus"})
	if len(host) != 1 || len(domain) != 2 {
		t.Errorf("recordTypes: host %v domain %v", host, domain)
	}
}

func TestCache(t *testing.T) {
	srv := newTestServer(t, testZone, testSpecial)
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	r := newTestResolver(t, Config{Now: clock.Now, MinTTL: 10 * time.Second, MaxTTL: 100 * time.Second, NegativeTTL: 3 * time.Second}, srv.addr)
	ctx := context.Background()
	ask := func(name string, qtype uint16) (Answer, error) {
		t.Helper()
		return r.Query(ctx, name, qtype)
	}

	steps := []struct {
		name       string
		host       string
		advance    time.Duration
		wantCached bool
		wantAsked  int // server exchanges for host/A so far
	}{
		{"first asks", "example.test", 0, false, 1},
		{"second hits", "example.test", 0, true, 1},
		{"TTL 300 capped at 100s, still fresh", "example.test", 99 * time.Second, true, 1},
		{"expired after cap", "example.test", 2 * time.Second, false, 2},
		{"TTL 1 floored to 10s: first", "short.test", 0, false, 1},
		{"floored entry fresh at 9s", "short.test", 9 * time.Second, true, 1},
		{"floored entry expired at 11s", "short.test", 2 * time.Second, false, 2},
	}
	for _, s := range steps {
		clock.Add(s.advance)
		a, err := ask(s.host, mdns.TypeA)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if a.Cached != s.wantCached {
			t.Errorf("%s: cached %v, want %v", s.name, a.Cached, s.wantCached)
		}
		if n := srv.count(s.host, mdns.TypeA, "udp"); n != s.wantAsked {
			t.Errorf("%s: server asked %d times, want %d", s.name, n, s.wantAsked)
		}
	}

	// Negative answers: SOA minimum 5 s, capped by NegativeTTL 3 s.
	for i, adv := range []time.Duration{0, 2 * time.Second, 2 * time.Second} {
		clock.Add(adv)
		_, err := ask("nope.test", mdns.TypeA)
		if !errors.Is(err, ErrNXDomain) {
			t.Fatalf("nxdomain: %v", err)
		}
		want := []int{1, 1, 2}[i]
		if n := srv.count("nope.test", mdns.TypeA, "udp"); n != want {
			t.Errorf("negative step %d: asked %d, want %d", i, n, want)
		}
	}
	// Timeouts are not cached.
	r2 := newTestResolver(t, Config{Timeout: 50 * time.Millisecond, Attempts: 1}, srv.addr)
	for range 2 {
		_, _ = r2.Query(ctx, "timeout.test", mdns.TypeTXT)
	}
	if n := srv.count("timeout.test", mdns.TypeTXT, "udp"); n != 2 {
		t.Errorf("timeout asked %d times, want 2 (not cached)", n)
	}
}

func TestCacheDisabledAndMutationSafe(t *testing.T) {
	srv := newTestServer(t, testZone, testSpecial)
	r := newTestResolver(t, Config{CacheSize: -1}, srv.addr)
	for range 3 {
		a, err := r.Query(context.Background(), "example.test", mdns.TypeTXT)
		if err != nil || a.Cached {
			t.Fatalf("err %v cached %v", err, a.Cached)
		}
	}
	if n := srv.count("example.test", mdns.TypeTXT, "udp"); n != 3 {
		t.Errorf("asked %d, want 3", n)
	}
	rc := newTestResolver(t, Config{}, srv.addr)
	a, _ := rc.Query(context.Background(), "example.test", mdns.TypeTXT)
	a.Records[0].Value = "changed"
	b, _ := rc.Query(context.Background(), "example.test", mdns.TypeTXT)
	if !b.Cached || b.Records[0].Value == "changed" {
		t.Errorf("cache shared its slice with the caller: %v", b.Records)
	}
}

func TestRotationAndRetry(t *testing.T) {
	good := newTestServer(t, testZone, nil)
	dead := newTestServer(t, testZone, map[string]behaviour{"example.test": drop, "servfail.test": drop})
	sf := newTestServer(t, testZone, map[string]behaviour{"example.test": servfail})
	r := newTestResolver(t, Config{Timeout: 100 * time.Millisecond, Attempts: 3, CacheSize: -1}, dead.addr, good.addr)
	for i := range 6 {
		if _, err := r.Query(context.Background(), "example.test", mdns.TypeA); err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
	}
	if good.count("example.test", mdns.TypeA, "udp") != 6 {
		t.Errorf("good server answered %d, want 6", good.count("example.test", mdns.TypeA, "udp"))
	}
	if n := dead.count("example.test", mdns.TypeA, "udp"); n == 0 || n == 6 {
		t.Errorf("dead server asked %d times: no rotation", n)
	}
	// SERVFAIL from one server moves on to the next.
	r2 := newTestResolver(t, Config{CacheSize: -1}, sf.addr, good.addr)
	for i := range 4 {
		if _, err := r2.Query(context.Background(), "example.test", mdns.TypeTXT); err != nil {
			t.Fatalf("query %d after servfail: %v", i, err)
		}
	}
	if sf.count("example.test", mdns.TypeTXT, "udp") == 0 {
		t.Error("servfail server never asked")
	}
}

func TestContextCancel(t *testing.T) {
	srv := newTestServer(t, testZone, testSpecial)
	r := newTestResolver(t, Config{Timeout: 10 * time.Second, Attempts: 3}, srv.addr)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for srv.count("timeout.test", mdns.TypeA, "udp") == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := r.Query(ctx, "timeout.test", mdns.TypeA)
	if !errors.Is(err, context.Canceled) || StatusOf(err) != model.StatusDNSTimeout {
		t.Fatalf("err %v, want canceled dns-timeout", err)
	}
}

func TestConcurrent(t *testing.T) {
	var zone string
	for i := range 50 {
		zone += fmt.Sprintf("h%d.test. 300 IN A 192.0.2.%d\nh%d.test. 300 IN TXT \"id=%d\"\n", i, i+1, i, i)
	}
	srv := newTestServer(t, zone, map[string]behaviour{"slow.test": slow})
	srv.delay = 50 * time.Millisecond
	for _, size := range []int{-1, 0, 8} {
		t.Run(fmt.Sprintf("cache=%d", size), func(t *testing.T) {
			r := newTestResolver(t, Config{CacheSize: size, Timeout: 2 * time.Second}, srv.addr)
			var wg sync.WaitGroup
			errs := make(chan error, 32)
			for g := range 32 {
				wg.Go(func() {
					for i := range 100 {
						n := (g*7 + i) % 50
						h := r.LookupHost(context.Background(), fmt.Sprintf("h%d.test", n))
						want := netip.AddrFrom4([4]byte{192, 0, 2, byte(n + 1)})
						if h.Status != model.StatusOK || len(h.Addrs) != 1 || h.Addrs[0] != want {
							errs <- fmt.Errorf("h%d: %v %v", n, h.Status, h.Addrs)
							return
						}
						if !slices.Contains(h.Records, model.DNSRecord{Name: h.Name, Type: "TXT", Value: fmt.Sprintf("id=%d", n)}) {
							errs <- fmt.Errorf("h%d: records %v", n, h.Records)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
	// Identical concurrent questions share one exchange.
	r := newTestResolver(t, Config{}, srv.addr)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { _, _ = r.Query(context.Background(), "slow.test", mdns.TypeMX) })
	}
	wg.Wait()
	if n := srv.count("slow.test", mdns.TypeMX, "udp"); n != 1 {
		t.Errorf("20 concurrent identical queries made %d exchanges, want 1", n)
	}
}

func TestParseServerAndSystem(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.1", "127.0.0.1:53"},
		{"127.0.0.1:5353", "127.0.0.1:5353"},
		{"::1", "[::1]:53"},
		{"[::1]", "[::1]:53"},
		{"[2001:db8::1]:54", "[2001:db8::1]:54"},
		{"dns.google", ""},
		{"dns.google:53", ""},
		{"1.2.3.4:0", ""},
		{"1.2.3.4:99999", ""},
		{"", ""},
	}
	for _, tc := range tests {
		got, err := ParseServer(tc.in)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("ParseServer(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(conf, []byte("search example.com\nnameserver 10.0.0.1\nnameserver ::1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := SystemServers(conf)
	if err != nil || !slices.Equal(got, []string{"10.0.0.1:53", "[::1]:53"}) {
		t.Errorf("SystemServers = %v, %v", got, err)
	}
	empty := filepath.Join(dir, "empty.conf")
	if err := os.WriteFile(empty, []byte("search example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := SystemServers(empty); !errors.Is(err, ErrNoServers) {
		t.Errorf("empty resolv.conf: %v, want ErrNoServers", err)
	}
	if _, err := New(Config{ResolvConf: filepath.Join(dir, "missing")}); !errors.Is(err, ErrNoServers) {
		t.Errorf("missing resolv.conf: %v, want ErrNoServers", err)
	}
	if _, err := New(Config{Servers: []string{"not-an-ip"}}); err == nil {
		t.Error("New accepted a host name as resolver")
	}
}

func TestRegistrableDomain(t *testing.T) {
	tests := map[string]string{
		"chat.site00002.test": "site00002.test",
		"site00001.test":      "site00001.test",
		"www.example.co.uk.":  "example.co.uk",
		"a.b.example.com":     "example.com",
		"com":                 "com",
		"127.0.0.1":           "127.0.0.1",
	}
	for in, want := range tests {
		if got := RegistrableDomain(in); got != want {
			t.Errorf("RegistrableDomain(%q) = %q, want %q", in, got, want)
		}
	}
}
