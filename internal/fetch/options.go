package fetch

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

// Resolver looks up the addresses of a host name. Every dial resolves
// through it and dials only the addresses it returns that pass the address
// policy. internal/dns's Resolver satisfies it; NetResolver adapts a
// *net.Resolver. Implementations must be safe for concurrent use.
type Resolver interface {
	LookupAddrs(ctx context.Context, host string) ([]netip.Addr, error)
}

// NetResolver adapts a *net.Resolver (nil: net.DefaultResolver) to Resolver.
type NetResolver struct{ Resolver *net.Resolver }

// LookupAddrs returns the IPv4 and IPv6 addresses of host.
func (r NetResolver) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	res := r.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	return res.LookupNetIP(ctx, "ip", host)
}

// ScriptLister returns the src values of the scripts a page links, in
// document order, as written (relative or absolute). base is the page's
// final URL. The detector owns HTML parsing, so the caller supplies this. It
// must not keep body and must be safe for concurrent use.
type ScriptLister func(body []byte, base *url.URL) []string

// DefaultUserAgent names aicensus, its version (from the build info, "dev"
// in a development build) and where to learn about it. Its product token
// ("aicensus") is what robots.txt groups are matched against.
func DefaultUserAgent() string {
	return "aicensus/" + version() + " (+https://github.com/aicensus/aicensus)"
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return strings.TrimPrefix(bi.Main.Version, "v")
	}
	return "dev"
}

// DefaultCDNs returns the public CDN hosts whose scripts are fetched after
// the page's same-site scripts: sites serve their own bundles (and widget
// loaders) from them. An entry starting with "." matches any subdomain.
func DefaultCDNs() []string {
	return []string{
		"cdn.jsdelivr.net", "fastly.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com",
		"ajax.googleapis.com", "code.jquery.com", "cdn.skypack.dev", "esm.sh", "ga.jspm.io",
		".cloudfront.net", ".akamaihd.net", ".azureedge.net", ".b-cdn.net", ".netlify.app",
		".vercel.app", ".pages.dev", ".workers.dev", ".webflow.io", ".website-files.com",
		".squarespace-cdn.com", ".wixstatic.com", ".shopify.com", ".shopifycdn.com",
		".firebaseapp.com", ".web.app", ".storage.googleapis.com",
	}
}

// Options configures a Client. Every default lives in DefaultOptions; New
// replaces zero numeric fields and nil fields with those defaults, so the
// zero Options is usable. Retries < 0 disables retries; Rate 0 means no
// global rate limit.
type Options struct {
	// UserAgent is sent with every request (default DefaultUserAgent()).
	UserAgent string
	// RobotsAgent is the product token matched against robots.txt
	// User-agent lines (default: UserAgent up to the first "/").
	RobotsAgent string

	// ConnectTimeout bounds one TCP connect (default 10s).
	ConnectTimeout time.Duration
	// TLSTimeout bounds one TLS handshake (default 10s).
	TLSTimeout time.Duration
	// RequestTimeout bounds one HTTP request with its redirects, from
	// sending it to the end of the body (default 20s).
	RequestTimeout time.Duration
	// TargetTimeout bounds a whole Fetch: fallbacks, retries, robots.txt
	// and scripts (default 60s).
	TargetTimeout time.Duration

	// MaxRedirects is the longest redirect chain followed (default 5).
	MaxRedirects int
	// MaxBodyBytes caps the decoded page body and the bytes read off the
	// wire for it (default 2 MiB). A larger body gives body-too-large.
	MaxBodyBytes int64

	// ScriptLister finds linked scripts in a page; nil fetches no scripts.
	ScriptLister ScriptLister
	// MaxScripts is how many linked scripts are fetched per target
	// (default 5).
	MaxScripts int
	// ScriptBudget caps the decoded bytes of all scripts of one target
	// (default 1 MiB); the script that crosses it is kept truncated.
	ScriptBudget int64
	// CDNs are the hosts whose scripts are fetched after same-site ones
	// (default DefaultCDNs(); "." prefix matches subdomains).
	CDNs []string

	// PerHost caps concurrent requests to one host name (default 2;
	// negative: unlimited).
	PerHost int
	// PerIP caps concurrent connections to one IP address (default 8;
	// negative: unlimited).
	PerIP int
	// Rate caps requests per second over the whole Client (0: no cap).
	Rate float64
	// Burst is the rate limiter's burst (default: Rate rounded up, at
	// least 1).
	Burst int

	// Retries is how many times a transient failure (connect timeout,
	// response timeout, connection reset, 429 or 503) is retried
	// (default 2; negative: never).
	Retries int
	// RetryBackoff is the first retry's delay, doubled each time, with
	// jitter (default 500ms).
	RetryBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After honoured; a 429/503 asking
	// for longer is not retried (default 10s).
	MaxRetryAfter time.Duration

	// AllowPrivate disables the address policy: private, loopback,
	// link-local, multicast and reserved addresses may be dialed.
	AllowPrivate bool
	// Allow lists prefixes that may be dialed even though the policy
	// blocks them (tests allow exactly 127.0.0.1/32 for a loopback farm).
	Allow []netip.Prefix
	// ExtraRootsPEM holds PEM certificates trusted in addition to the
	// system roots (--ca-cert).
	ExtraRootsPEM []byte
	// PortMap redirects dials to a port to another port (80 and 443 to a
	// test farm's ports). URLs, Host headers and TLS names are unchanged.
	PortMap map[int]int

	// Resolver resolves host names (default NetResolver{}).
	Resolver Resolver
	// DNSStatus maps an error from Resolver to a dns-* status (default:
	// understands *net.DNSError and context deadlines). Set it to
	// dns.StatusOf when Resolver is internal/dns.
	DNSStatus func(error) model.Status

	// LazyRobots fetches robots.txt only when a script path must be
	// checked. By default it is fetched for every target that answered,
	// and its body is kept in Observation.Robots.
	LazyRobots bool
	// StrictRobots also checks the home page (and each redirect target)
	// against robots.txt; a disallowed page gives robots-disallowed.
	StrictRobots bool
	// RobotsMaxBytes caps a robots.txt body (default 512 KiB); the rest
	// is ignored.
	RobotsMaxBytes int64
	// RobotsTimeout bounds one robots.txt fetch (default 10s).
	RobotsTimeout time.Duration
	// RobotsCacheBytes caps the robots.txt bodies kept in the Client's
	// cache (default 16 MiB); least recently used entries go first.
	RobotsCacheBytes int64
}

// DefaultOptions returns every default in one place.
func DefaultOptions() Options {
	return Options{
		UserAgent:        DefaultUserAgent(),
		ConnectTimeout:   10 * time.Second,
		TLSTimeout:       10 * time.Second,
		RequestTimeout:   20 * time.Second,
		TargetTimeout:    60 * time.Second,
		MaxRedirects:     5,
		MaxBodyBytes:     2 << 20,
		MaxScripts:       5,
		ScriptBudget:     1 << 20,
		CDNs:             DefaultCDNs(),
		PerHost:          2,
		PerIP:            8,
		Retries:          2,
		RetryBackoff:     500 * time.Millisecond,
		MaxRetryAfter:    10 * time.Second,
		Resolver:         NetResolver{},
		DNSStatus:        netDNSStatus,
		RobotsMaxBytes:   512 << 10,
		RobotsTimeout:    10 * time.Second,
		RobotsCacheBytes: 16 << 20,
	}
}

// withDefaults fills zero fields from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	setZero(&o.UserAgent, d.UserAgent)
	setZero(&o.ConnectTimeout, d.ConnectTimeout)
	setZero(&o.TLSTimeout, d.TLSTimeout)
	setZero(&o.RequestTimeout, d.RequestTimeout)
	setZero(&o.TargetTimeout, d.TargetTimeout)
	setZero(&o.MaxRedirects, d.MaxRedirects)
	setZero(&o.MaxBodyBytes, d.MaxBodyBytes)
	setZero(&o.MaxScripts, d.MaxScripts)
	setZero(&o.ScriptBudget, d.ScriptBudget)
	setZero(&o.PerHost, d.PerHost)
	setZero(&o.PerIP, d.PerIP)
	setZero(&o.Retries, d.Retries)
	setZero(&o.RetryBackoff, d.RetryBackoff)
	setZero(&o.MaxRetryAfter, d.MaxRetryAfter)
	setZero(&o.RobotsMaxBytes, d.RobotsMaxBytes)
	setZero(&o.RobotsTimeout, d.RobotsTimeout)
	setZero(&o.RobotsCacheBytes, d.RobotsCacheBytes)
	if o.CDNs == nil {
		o.CDNs = d.CDNs
	}
	if o.Resolver == nil {
		o.Resolver = d.Resolver
	}
	if o.DNSStatus == nil {
		o.DNSStatus = d.DNSStatus
	}
	if o.RobotsAgent == "" {
		o.RobotsAgent, _, _ = strings.Cut(o.UserAgent, "/")
		o.RobotsAgent = strings.TrimSpace(o.RobotsAgent)
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Burst <= 0 {
		o.Burst = max(1, int(o.Rate+0.999))
	}
	return o
}

func setZero[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}
