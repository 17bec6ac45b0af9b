package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
	"golang.org/x/time/rate"

	"github.com/aicensus/aicensus/internal/limit"
	"github.com/aicensus/aicensus/internal/model"
)

// Client fetches targets politely and safely. Build it with New; it is safe
// for concurrent use by any number of goroutines, and its memory does not
// grow with the number of targets fetched (limiter entries live only while
// in use; the robots.txt cache is bounded). Call Close when done.
type Client struct {
	opts      Options
	policy    AddrPolicy
	roots     *x509.CertPool
	dialer    net.Dialer
	transport *http.Transport
	rt        http.RoundTripper
	perHost   *limit.Keyed
	perIP     *limit.Keyed
	robots    *robotsCache
	bodies    *bodyReader
}

// Response is the outcome of fetching one target. Exactly one Response is
// returned per Fetch, whatever happens.
type Response struct {
	// Observation is what was seen: final URL, status code, lowercase
	// headers, decoded body (at most MaxBodyBytes), TLS issuer, fetched
	// scripts and robots.txt. For a failure it holds whatever was
	// received (for http-error, the 4xx/5xx page).
	Observation model.Observation
	// Status is one of the documented statuses (see docs/fetch.md).
	Status model.Status
	// Err is nil for StatusOK; otherwise the cause, matching this
	// package's sentinels and error types with errors.Is/As.
	Err error
	// Redirects lists the URLs that answered with a redirect, first
	// request first; Observation.URL is where the chain ended.
	Redirects []string
	// Attempts lists each starting URL tried (https, http, www), in order.
	Attempts []Attempt
}

// Attempt is one starting URL of the fallback sequence and how it ended.
type Attempt struct {
	URL        string
	Status     model.Status
	HTTPStatus int
	Err        error
}

// New builds a Client from opts (zero fields take DefaultOptions values).
// It fails only on unusable options: ExtraRootsPEM without a certificate, or
// a PortMap entry outside 1..65535.
func New(opts Options) (*Client, error) {
	o := opts.withDefaults()
	for from, to := range o.PortMap {
		if from < 1 || from > 65535 || to < 1 || to > 65535 {
			return nil, fmt.Errorf("port map %d -> %d: ports must be 1..65535", from, to)
		}
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if len(o.ExtraRootsPEM) > 0 && !roots.AppendCertsFromPEM(o.ExtraRootsPEM) {
		return nil, fmt.Errorf("extra root CAs: no PEM certificate found")
	}
	c := &Client{
		opts:    o,
		policy:  AddrPolicy{AllowAll: o.AllowPrivate, Allow: o.Allow},
		roots:   roots,
		perHost: limit.NewKeyed(o.PerHost),
		perIP:   limit.NewKeyed(o.PerIP),
		robots:  newRobotsCache(o.RobotsCacheBytes),
		bodies:  newBodyReader(),
	}
	c.dialer = net.Dialer{Timeout: o.ConnectTimeout, Control: c.controlAddr}
	c.transport = &http.Transport{
		Proxy:                  nil, // a proxy would be dialed instead of the checked address
		DialContext:            c.dialPlain,
		DialTLSContext:         c.dialTLS,
		DisableKeepAlives:      true, // outside a session (see session): one connection per request
		DisableCompression:     true, // readBody decodes, under the caps
		MaxResponseHeaderBytes: 256 << 10,
		TLSNextProto:           map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	var lim *rate.Limiter
	if o.Rate > 0 {
		lim = rate.NewLimiter(rate.Limit(o.Rate), o.Burst)
	}
	c.rt = &politeTransport{base: c.transport, rate: lim, hosts: c.perHost}
	return c, nil
}

// Recycle hands back the page and script bodies of an observation this
// client returned, so later fetches reuse their memory. The caller must not
// use those bodies afterwards (robots.txt bodies, which the client caches,
// are not taken back). Safe for concurrent use.
func (c *Client) Recycle(obs *model.Observation) {
	c.bodies.put(obs.Body)
	for _, s := range obs.Scripts {
		c.bodies.put(s.Body)
	}
}

// sessionKey carries a target's own round tripper in its context.
type sessionKey struct{}

// session gives one Fetch its own connection pool: the page, robots.txt,
// redirects and same-site scripts of a target reuse connections (one TLS
// handshake instead of up to seven), and every connection is closed when
// the target is done, so nothing idles across targets and per-IP slots are
// held only while a target is being fetched.
func (c *Client) session(ctx context.Context) (context.Context, func()) {
	tr := c.transport.Clone()
	tr.DisableKeepAlives = false
	tr.MaxIdleConnsPerHost = 1
	tr.IdleConnTimeout = 5 * time.Second
	rt := &politeTransport{base: tr, rate: c.rt.(*politeTransport).rate, hosts: c.perHost}
	return context.WithValue(ctx, sessionKey{}, http.RoundTripper(rt)), tr.CloseIdleConnections
}

// roundTripper returns the session's round tripper, or the shared one.
func (c *Client) roundTripper(ctx context.Context) http.RoundTripper {
	if rt, ok := ctx.Value(sessionKey{}).(http.RoundTripper); ok {
		return rt
	}
	return c.rt
}

// Options returns the options in effect, defaults applied.
func (c *Client) Options() Options { return c.opts }

// Close releases idle resources. Fetches in flight are not interrupted.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// Fetch fetches one target host (lowercase, no scheme or port, as
// input.Normalize produces; IP literals are accepted). It never panics and
// always returns a Response with a Status.
//
// Fallback rule: try https://host/, http://host/, https://www.host/ and
// http://www.host/ in turn, moving on only when the previous URL failed
// before any HTTP answer (DNS, blocked address, connect, TLS) or answered
// 4xx/5xx. A host that answered at all is not retried on its other scheme;
// a host that does not exist is not retried as www; a host that already
// starts with "www." (or an IP literal) has no www fallback; a URL that
// answered with a redirect ends the sequence whatever failed after it. The
// first 2xx/3xx answer wins. Otherwise the attempt that got furthest is the
// Response: an HTTP answer (a redirect included) beats TLS, TLS beats
// connect, connect beats a blocked address, which beats DNS; ties go to the
// earlier attempt.
//
// After a page that answered, robots.txt (unless LazyRobots) and, for an
// ok page, up to MaxScripts linked scripts are fetched, all within
// TargetTimeout.
func (c *Client) Fetch(ctx context.Context, host string) Response {
	out := Response{Observation: model.Observation{Host: host, Time: time.Now()}}
	urlHost, err := checkHost(host)
	if err != nil {
		out.Status, out.Err = model.StatusInvalidInput, err
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.TargetTimeout)
	defer cancel()
	ctx, endSession := c.session(ctx)
	defer endSession()
	jar, err := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	if err != nil {
		out.Status, out.Err = model.StatusInternalError, err
		return out
	}
	page := c.fetchPage(ctx, urlHost, host, jar, &out)
	c.fill(&out, page)
	if page.resp == nil {
		return out
	}
	final, err := url.Parse(page.url)
	if err != nil {
		return out
	}
	if !c.opts.LazyRobots {
		out.Observation.Robots = c.robotsFor(ctx, final).body
	}
	if out.Status == model.StatusOK && c.opts.ScriptLister != nil {
		out.Observation.Scripts = c.fetchScripts(ctx, final, page.body, jar)
	}
	if c.opts.LazyRobots {
		// Scripts may have needed the page's robots.txt anyway.
		if r := c.robots.get(final.Scheme + "://" + final.Host); r != nil {
			out.Observation.Robots = r.body
		}
	}
	return out
}

// candidate is one starting URL of the fallback sequence.
type candidate struct {
	url  string
	host string
	www  bool
}

func candidates(urlHost, host string) []candidate {
	out := []candidate{
		{url: "https://" + urlHost + "/", host: host},
		{url: "http://" + urlHost + "/", host: host},
	}
	if _, err := netip.ParseAddr(host); err == nil || strings.HasPrefix(host, "www.") {
		return out
	}
	return append(out,
		candidate{url: "https://www." + host + "/", host: "www." + host, www: true},
		candidate{url: "http://www." + host + "/", host: "www." + host, www: true})
}

// fetchPage runs the fallback sequence and returns the result to report.
func (c *Client) fetchPage(ctx context.Context, urlHost, host string, jar http.CookieJar, out *Response) getResult {
	var best getResult
	done := map[string]bool{} // hosts not to try again on another scheme
	noWWW := false
	for _, cand := range candidates(urlHost, host) {
		if ctx.Err() != nil && len(out.Attempts) > 0 {
			break
		}
		if done[cand.host] || (cand.www && noWWW) {
			continue
		}
		res := c.getRetrying(ctx, cand.url, getOptions{
			limit: c.opts.MaxBodyBytes, jar: jar, checkRobots: c.opts.StrictRobots, retry: true,
			accept: "text/html,application/xhtml+xml,*/*;q=0.8",
		})
		if res.err == nil && res.resp.StatusCode >= 400 {
			res.err = &HTTPStatusError{URL: res.url, Code: res.resp.StatusCode}
		}
		res.status = StatusOf(res.err)
		a := Attempt{URL: cand.url, Status: res.status, Err: res.err}
		if res.resp != nil {
			a.HTTPStatus = res.resp.StatusCode
		}
		out.Attempts = append(out.Attempts, a)
		if len(out.Attempts) == 1 || reach(res) > reach(best) {
			best = res
		}
		if res.status == model.StatusOK {
			return res
		}
		next, sameHostAgain, www := fallback(res)
		if len(res.redirects) > 0 {
			// The server answered (with a redirect) before the failure:
			// that is its answer, whatever failed further on.
			next = false
		}
		if !next {
			break
		}
		done[cand.host] = !sameHostAgain
		noWWW = noWWW || (!cand.www && !www)
	}
	return best
}

// reach ranks how far an attempt got (see progress); an attempt that
// received a redirect got at least as far as an HTTP answer.
func reach(res getResult) int {
	r := progress(res.status)
	if len(res.redirects) > 0 {
		r = max(r, progress(model.StatusHTTPError))
	}
	return r
}

// fallback says whether a failed attempt lets the sequence go on, whether
// the same host may be tried on its other scheme, and whether the www host
// may be tried.
func fallback(res getResult) (next, sameHostAgain, www bool) {
	switch res.status {
	case model.StatusDNSNoAddress:
		return true, false, true
	case model.StatusDNSNXDomain, model.StatusDNSServfail, model.StatusDNSTimeout, model.StatusDNSError:
		return true, false, false
	case model.StatusBlockedPrivate:
		return true, false, true
	case model.StatusConnectRefused, model.StatusConnectTimeout, model.StatusConnectError, model.StatusTLSError:
		return true, true, true
	case model.StatusHTTPError:
		if _, ok := res.err.(*HTTPStatusError); ok {
			return true, false, true
		}
	}
	return false, false, false
}

// fill copies a page result into the Response.
func (c *Client) fill(out *Response, res getResult) {
	out.Status, out.Err = res.status, res.err
	out.Redirects = res.redirects
	obs := &out.Observation
	obs.URL = res.url
	obs.Body = res.body
	if res.resp == nil {
		return
	}
	obs.StatusCode = res.resp.StatusCode
	obs.Headers = make(map[string][]string, len(res.resp.Header))
	for k, v := range res.resp.Header {
		obs.Headers[strings.ToLower(k)] = v
	}
	if t := res.resp.TLS; t != nil && len(t.PeerCertificates) > 0 {
		iss := t.PeerCertificates[0].Issuer
		obs.CertIssuer = iss.CommonName
		if len(iss.Organization) > 0 {
			obs.CertIssuer = iss.Organization[0]
		}
	}
}

// checkHost validates a target host and returns its URL form (IPv6 in
// brackets).
func checkHost(host string) (string, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Is6() && !ip.Is4In6() {
			return "[" + ip.String() + "]", nil
		}
		return ip.Unmap().String(), nil
	}
	if host == "" || len(host) > 253 || strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") {
		return "", fmt.Errorf("host %q: %w", host, ErrInvalidHost)
	}
	for i := 0; i < len(host); i++ {
		ch := host[i]
		if !('a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' || ch == '-' || ch == '.' || ch == '_') {
			return "", fmt.Errorf("host %q: %w", host, ErrInvalidHost)
		}
	}
	return host, nil
}

// registrable returns the registrable domain of host, or host itself.
func registrable(host string) string {
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
}
