package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

func TestPublicAddr(t *testing.T) {
	tests := map[string]bool{
		"8.8.8.8":                  true,
		"1.1.1.1":                  true,
		"93.184.215.14":            true,
		"2606:4700:4700::1111":     true,
		"::ffff:8.8.8.8":           true, // mapped public
		"64:ff9b::808:808":         true, // NAT64 of 8.8.8.8
		"2002:808:808::1":          true, // 6to4 of 8.8.8.8
		"0.0.0.0":                  false,
		"0.1.2.3":                  false,
		"10.0.0.1":                 false,
		"100.64.0.1":               false, // CGNAT
		"100.127.255.254":          false,
		"127.0.0.1":                false,
		"127.0.0.2":                false,
		"169.254.169.254":          false, // cloud metadata
		"172.16.0.1":               false,
		"172.31.255.255":           false,
		"192.0.0.8":                false,
		"192.0.2.1":                false, // TEST-NET-1
		"192.88.99.1":              false,
		"192.168.1.1":              false,
		"198.18.0.1":               false,
		"198.51.100.1":             false,
		"203.0.113.1":              false,
		"224.0.0.1":                false,
		"239.255.255.250":          false,
		"240.0.0.1":                false,
		"255.255.255.255":          false,
		"::":                       false,
		"::1":                      false,
		"::127.0.0.1":              false, // IPv4-compatible
		"::ffff:127.0.0.1":         false, // mapped loopback
		"::ffff:169.254.169.254":   false,
		"::ffff:10.0.0.1":          false,
		"64:ff9b::7f00:1":          false, // NAT64 of 127.0.0.1
		"64:ff9b::a9fe:a9fe":       false, // NAT64 of 169.254.169.254
		"64:ff9b:1::1":             false, // local-use NAT64
		"2002:7f00:1::1":           false, // 6to4 of 127.0.0.1
		"2002:a00:1::1":            false, // 6to4 of 10.0.0.1
		"2001::1":                  false, // Teredo
		"2001:db8::1":              false,
		"3fff::1":                  false,
		"100::1":                   false,
		"fc00::1":                  false,
		"fd12:3456::1":             false,
		"fe80::1":                  false,
		"fe80::1%eth0":             false,
		"fec0::1":                  false,
		"ff02::1":                  false,
		"5f00::1":                  false,
		"2001:4860:4860::8888":     true,
		"2a00:1450:4001:80b::200e": true,
	}
	for s, want := range tests {
		if got := PublicAddr(netip.MustParseAddr(s)); got != want {
			t.Errorf("PublicAddr(%s) = %v, want %v", s, got, want)
		}
	}
	if PublicAddr(netip.Addr{}) {
		t.Error("PublicAddr(zero) = true")
	}
}

func TestStatusOf(t *testing.T) {
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	tests := []struct {
		name string
		err  error
		want model.Status
	}{
		{"nil", nil, model.StatusOK},
		{"invalid", fmt.Errorf("x: %w", ErrInvalidHost), model.StatusInvalidInput},
		{"dns", &DNSError{Status: model.StatusDNSServfail, Err: errors.New("x")}, model.StatusDNSServfail},
		{"blocked", &BlockedError{Host: "x"}, model.StatusBlockedPrivate},
		{"robots", fmt.Errorf("x: %w", ErrRobotsDisallowed), model.StatusRobotsDisallowed},
		{"redirects", &url.Error{Op: "Get", URL: "u", Err: fmt.Errorf("x: %w", ErrTooManyRedirects)}, model.StatusTooManyRedirects},
		{"loop", &url.Error{Op: "Get", URL: "u", Err: ErrRedirectLoop}, model.StatusTooManyRedirects},
		{"too large", fmt.Errorf("read body: %w", ErrBodyTooLarge), model.StatusBodyTooLarge},
		{"refused", &ConnectError{Err: opErr(syscall.ECONNREFUSED)}, model.StatusConnectRefused},
		{"reset at connect", &ConnectError{Err: opErr(syscall.ECONNRESET)}, model.StatusConnectRefused},
		{"connect timeout", &ConnectError{Err: context.DeadlineExceeded}, model.StatusConnectTimeout},
		{"connect other", &ConnectError{Err: opErr(syscall.EHOSTUNREACH)}, model.StatusConnectError},
		{"tls wrapped", &TLSError{Err: errors.New("handshake")}, model.StatusTLSError},
		{"cert verify", &url.Error{Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}, model.StatusTLSError},
		{"record header", tls.RecordHeaderError{Msg: "x"}, model.StatusTLSError},
		{"deadline", &url.Error{Err: context.DeadlineExceeded}, model.StatusTimeout},
		{"os deadline", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), model.StatusTimeout},
		{"rate", ErrRateDeadline, model.StatusTimeout},
		{"reset mid body", fmt.Errorf("read body: %w", opErr(syscall.ECONNRESET)), model.StatusConnectionReset},
		{"truncated", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), model.StatusConnectionReset},
		{"decode", &DecodeError{Encoding: "gzip", Err: io.ErrUnexpectedEOF}, model.StatusHTTPError},
		{"http status", &HTTPStatusError{Code: 500}, model.StatusHTTPError},
		{"other", errors.New("malformed HTTP response"), model.StatusHTTPError},
	}
	for _, tt := range tests {
		if got := StatusOf(tt.err); got != tt.want {
			t.Errorf("%s: StatusOf(%v) = %s, want %s", tt.name, tt.err, got, tt.want)
		}
		if !StatusOf(tt.err).Valid() {
			t.Errorf("%s: invalid status", tt.name)
		}
	}
}

func TestNetDNSStatus(t *testing.T) {
	tests := []struct {
		err  error
		want model.Status
	}{
		{&net.DNSError{IsNotFound: true}, model.StatusDNSNXDomain},
		{&net.DNSError{IsTimeout: true}, model.StatusDNSTimeout},
		{&net.DNSError{IsTemporary: true}, model.StatusDNSServfail},
		{&net.DNSError{}, model.StatusDNSError},
		{context.DeadlineExceeded, model.StatusDNSTimeout},
		{ErrNoAddress, model.StatusDNSNoAddress},
	}
	for _, tt := range tests {
		if got := netDNSStatus(tt.err); got != tt.want {
			t.Errorf("netDNSStatus(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

// TestDNSStatusHook checks that a custom DNSStatus (the way internal/dns is
// wired) decides the status of resolver errors.
func TestDNSStatusHook(t *testing.T) {
	errServfail := errors.New("servfail from upstream")
	c, err := New(Options{
		Resolver: resolverFunc(func(context.Context, string) ([]netip.Addr, error) {
			return nil, fmt.Errorf("lookup: %w", errServfail)
		}),
		DNSStatus: func(err error) model.Status {
			if errors.Is(err, errServfail) {
				return model.StatusDNSServfail
			}
			return model.StatusDNSError
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Fetch(context.Background(), "example.test")
	if r.Status != model.StatusDNSServfail || !errors.Is(r.Err, errServfail) {
		t.Fatalf("status %s err %v", r.Status, r.Err)
	}
}

type resolverFunc func(context.Context, string) ([]netip.Addr, error)

func (f resolverFunc) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	return f(ctx, host)
}

func TestRobotsCacheBounded(t *testing.T) {
	c := newRobotsCache(10 << 10)
	body := make([]byte, 1<<10)
	for i := range 100 {
		c.put(fmt.Sprintf("https://h%d.test", i), &robotsRules{body: body, fetched: time.Now()})
	}
	if n := c.len(); n > 10 || c.bytes > 10<<10 {
		t.Fatalf("%d entries, %d bytes: the cache is not bounded", n, c.bytes)
	}
	if c.get("https://h99.test") == nil || c.get("https://h0.test") != nil {
		t.Error("want the most recent entries kept and the oldest evicted")
	}
	c.put("https://old.test", &robotsRules{fetched: time.Now().Add(-25 * time.Hour)})
	if c.get("https://old.test") != nil {
		t.Error("an entry older than 24h was reused")
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.v, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCandidates(t *testing.T) {
	tests := []struct {
		host string
		want []string
	}{
		{"example.com", []string{"https://example.com/", "http://example.com/", "https://www.example.com/", "http://www.example.com/"}},
		{"www.example.com", []string{"https://www.example.com/", "http://www.example.com/"}},
		{"192.0.2.1", []string{"https://192.0.2.1/", "http://192.0.2.1/"}},
		{"2001:db8::1", []string{"https://[2001:db8::1]/", "http://[2001:db8::1]/"}},
	}
	for _, tt := range tests {
		urlHost, err := checkHost(tt.host)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range candidates(urlHost, tt.host) {
			got = append(got, c.url)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("candidates(%s) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	if _, err := New(Options{ExtraRootsPEM: []byte("not pem")}); err == nil {
		t.Error("ExtraRootsPEM without a certificate accepted")
	}
	if _, err := New(Options{PortMap: map[int]int{443: 0}}); err == nil {
		t.Error("port 0 accepted")
	}
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := c.Options()
	d := DefaultOptions()
	if o.MaxRedirects != 5 || o.MaxBodyBytes != 2<<20 || o.RobotsAgent != "aicensus" || o.UserAgent != d.UserAgent || o.Burst != 1 {
		t.Errorf("defaults not applied: %+v", o)
	}
}

// readBody reads with a fresh bodyReader (tests and benchmarks).
func readBody(r io.Reader, enc string, limit int64) ([]byte, error) {
	return newBodyReader().read(r, enc, limit)
}

// TestBodyRecycle: a body read into a recycled buffer is exactly the new
// body (no byte of the old one shows), buffers come in their size class,
// and buffers of other sizes are not taken back.
func TestBodyRecycle(t *testing.T) {
	b := newBodyReader()
	for round := range 20 {
		n := 1 + (round*7919)%(300<<10)
		want := bytes.Repeat([]byte{byte('a' + round%26)}, n)
		got, err := b.read(bytes.NewReader(want), "", 1<<20)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("round %d: %d bytes, %v", round, len(got), err)
		}
		if k := bufClass(n); cap(got) != minBuf<<k {
			t.Fatalf("round %d: cap %d for %d bytes, want class %d", round, cap(got), n, minBuf<<k)
		}
		b.put(got)
	}
	if bufClass(minBuf<<bufClasses) != -1 {
		t.Error("a body above the largest class has a class")
	}
	b.put(make([]byte, 10, 1000)) // not a class size: ignored
	if got := b.get(10); cap(got) != minBuf {
		t.Errorf("get(10) has cap %d, want %d", cap(got), minBuf)
	}
}
