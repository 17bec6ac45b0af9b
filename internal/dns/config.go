package dns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	mdns "github.com/miekg/dns"
)

// DefaultResolvConf is where SystemServers looks when given "".
const DefaultResolvConf = "/etc/resolv.conf"

// ErrNoServers is returned by New and SystemServers when no resolver
// address is configured and the system has none.
var ErrNoServers = errors.New("no DNS resolvers configured: pass --resolver ADDR or add a nameserver to /etc/resolv.conf")

// Config configures a Resolver. The zero value is usable: system resolvers,
// 2 s per attempt, 3 attempts, a 100,000-entry cache.
type Config struct {
	// Servers are resolver addresses, "ip" or "ip:port" (port 53 by
	// default; IPv6 as "[ip]:port"). Queries rotate across them. Empty means
	// the nameservers of ResolvConf.
	Servers []string
	// ResolvConf is the resolv.conf read when Servers is empty
	// (DefaultResolvConf when "").
	ResolvConf string
	// Timeout bounds one attempt (one server, one exchange). Default 2 s.
	Timeout time.Duration
	// Attempts is how many exchanges a query may make, across servers,
	// before giving up on timeouts and network errors. Default 3.
	Attempts int
	// Backoff is the pause after the first failed attempt; it doubles after
	// each further one. Default 100 ms.
	Backoff time.Duration
	// CacheSize bounds the number of cached answers. 0 means 100,000;
	// a negative value disables caching.
	CacheSize int
	// MinTTL and MaxTTL clamp the time a positive answer stays cached.
	// Defaults 30 s and 30 min.
	MinTTL, MaxTTL time.Duration
	// NegativeTTL caps how long NXDOMAIN, no-data and SERVFAIL answers
	// stay cached (the SOA minimum applies when smaller). Default 60 s.
	NegativeTTL time.Duration
	// IdleConns is how many idle UDP sockets are kept per server for reuse.
	// Default 64.
	IdleConns int
	// UDPSize is the EDNS0 payload size advertised. Default 1232.
	UDPSize uint16
	// RecordTypes are the record types LookupHost asks besides addresses
	// ("TXT", "CNAME", "MX", "NS", "SOA"). Nil means TXT, CNAME, MX and
	// NS; a scanner asks only what its catalog has patterns for.
	RecordTypes []string
	// Now is the clock for cache expiry; nil means time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.Attempts <= 0 {
		c.Attempts = 3
	}
	if c.Backoff <= 0 {
		c.Backoff = 100 * time.Millisecond
	}
	if c.CacheSize == 0 {
		c.CacheSize = 100_000
	}
	if c.MinTTL <= 0 {
		c.MinTTL = 30 * time.Second
	}
	if c.MaxTTL <= 0 {
		c.MaxTTL = 30 * time.Minute
	}
	if c.MaxTTL < c.MinTTL {
		c.MaxTTL = c.MinTTL
	}
	if c.NegativeTTL <= 0 {
		c.NegativeTTL = time.Minute
	}
	if c.IdleConns <= 0 {
		c.IdleConns = 64
	}
	if c.UDPSize < mdns.MinMsgSize {
		c.UDPSize = 1232
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// ParseServer normalises a resolver address to "ip:port", adding port 53
// when none is given. Host names are rejected: a resolver must be an IP.
func ParseServer(s string) (string, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return "", fmt.Errorf("resolver %q: port 0", s)
		}
		return ap.String(), nil
	}
	if a, err := netip.ParseAddr(trimBrackets(s)); err == nil {
		return netip.AddrPortFrom(a.Unmap(), 53).String(), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("resolver %q: want ip or ip:port", s)
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return "", fmt.Errorf("resolver %q: %q is not an IP address", s, host)
	}
	return "", fmt.Errorf("resolver %q: bad port %q", s, port)
}

func trimBrackets(s string) string {
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		return s[1 : len(s)-1]
	}
	return s
}

// SystemServers returns the nameservers of a resolv.conf file as "ip:port"
// ("" reads DefaultResolvConf). It returns an error wrapping ErrNoServers
// when the file lists none.
func SystemServers(path string) ([]string, error) {
	if path == "" {
		path = DefaultResolvConf
	}
	cc, err := mdns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("read resolvers %s: %w: %w", path, ErrNoServers, err)
	}
	port := cc.Port
	if port == "" {
		port = "53"
	}
	var out []string
	for _, s := range cc.Servers {
		addr, err := ParseServer(net.JoinHostPort(s, port))
		if err != nil {
			continue
		}
		out = append(out, addr)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read resolvers %s: %w", path, ErrNoServers)
	}
	return out, nil
}
