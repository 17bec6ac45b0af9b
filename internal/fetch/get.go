package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

// getOptions shapes one GET.
type getOptions struct {
	limit       int64          // body cap (decoded and wire)
	accept      string         // Accept header
	referer     string         // Referer header, if any
	jar         http.CookieJar // per-target cookies
	checkRobots bool           // check robots.txt for the URL and every redirect
	retry       bool           // retry transient failures
}

// getResult is one GET with its redirects.
type getResult struct {
	url       string         // the last URL requested
	redirects []string       // URLs that answered with a redirect
	resp      *http.Response // the last response (body consumed and closed); nil if none
	body      []byte         // decoded body, at most limit bytes
	err       error
	status    model.Status // set by callers that classify
}

// getRetrying is get with retries on transient failures (see retryDelay).
func (c *Client) getRetrying(ctx context.Context, rawURL string, o getOptions) getResult {
	for attempt := 0; ; attempt++ {
		res := c.get(ctx, rawURL, o)
		if !o.retry || attempt >= c.opts.Retries {
			return res
		}
		wait, ok := c.retryDelay(res, attempt)
		if !ok || !sleep(ctx, wait) {
			return res
		}
	}
}

// retryDelay says whether res is worth retrying and after how long: connect
// timeouts, response timeouts and connection resets back off exponentially
// with jitter; 429 and 503 wait for Retry-After too, unless it asks for more
// than MaxRetryAfter. Nothing else is retried (refused, DNS, TLS, 4xx, ...).
func (c *Client) retryDelay(res getResult, attempt int) (time.Duration, bool) {
	backoff := c.opts.RetryBackoff << attempt
	backoff += rand.N(backoff/2 + 1)
	if res.err == nil && res.resp != nil {
		code := res.resp.StatusCode
		if code != http.StatusTooManyRequests && code != http.StatusServiceUnavailable {
			return 0, false
		}
		after, ok := retryAfter(res.resp.Header.Get("Retry-After"), time.Now())
		if ok && after > c.opts.MaxRetryAfter {
			return 0, false
		}
		return max(backoff, after), true
	}
	switch StatusOf(res.err) {
	case model.StatusConnectTimeout, model.StatusTimeout, model.StatusConnectionReset:
		if errors.Is(res.err, ErrRateDeadline) {
			return 0, false
		}
		return backoff, true
	}
	return 0, false
}

// retryAfter parses a Retry-After value: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// sleep waits d, or returns false at once if ctx would end first.
func sleep(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// get performs one GET of rawURL, following redirects, within
// RequestTimeout, and reads the body under o.limit.
func (c *Client) get(ctx context.Context, rawURL string, o getOptions) getResult {
	res := getResult{url: rawURL}
	rctx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
	defer cancel()
	rctx, st := withState(rctx)
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, rawURL, nil)
	if err != nil {
		res.err = fmt.Errorf("request %s: %w: %v", rawURL, ErrInvalidHost, err)
		return res
	}
	c.setHeaders(req, o)
	if o.checkRobots && !c.robotsFor(rctx, req.URL).allows(robotsPath(req.URL), c.opts.RobotsAgent) {
		res.err = fmt.Errorf("GET %s: %w", rawURL, ErrRobotsDisallowed)
		return res
	}
	hc := &http.Client{
		Transport: c.roundTripper(ctx),
		Jar:       o.jar,
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			// Finish the redirect response now rather than after this
			// returns (net/http's order): that frees its host and IP
			// slots before a robots.txt check needs them.
			if prev := next.Response; prev != nil {
				io.CopyN(io.Discard, prev.Body, 4<<10)
				prev.Body.Close()
			}
			res.redirects = res.redirects[:0]
			for _, v := range via {
				res.redirects = append(res.redirects, v.URL.String())
			}
			res.url = next.URL.String()
			return c.checkRedirect(next, via, o)
		},
	}
	resp, err := hc.Do(req)
	if err != nil {
		res.err = explain(err, st)
		if resp != nil {
			res.resp = resp // the last redirect, body already closed
		}
		return res
	}
	defer resp.Body.Close()
	res.resp = resp
	res.url = resp.Request.URL.String()
	res.body, err = c.bodies.read(resp.Body, resp.Header.Get("Content-Encoding"), o.limit)
	if err == nil && rctx.Err() != nil {
		// Cancelling a TLS request sends close_notify; a server that
		// answers it by ending a chunked body fast enough makes the body
		// look complete. A body that ends after the deadline is cut.
		err = context.Cause(rctx)
	}
	if err != nil {
		res.err = explain(fmt.Errorf("GET %s: %w", res.url, err), st)
	}
	return res
}

// checkRedirect enforces the redirect rules: http(s) only, at most
// MaxRedirects, no URL twice, robots.txt when asked.
func (c *Client) checkRedirect(next *http.Request, via []*http.Request, o getOptions) error {
	u := next.URL
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("redirect to %s: %w", u.Redacted(), ErrBadRedirect)
	}
	for _, v := range via {
		if v.URL.String() == u.String() {
			return fmt.Errorf("redirect to %s: %w", u, ErrRedirectLoop)
		}
	}
	if len(via) > c.opts.MaxRedirects {
		return fmt.Errorf("stopped after %d redirects: %w", c.opts.MaxRedirects, ErrTooManyRedirects)
	}
	if o.checkRobots && !c.robotsFor(next.Context(), u).allows(robotsPath(u), c.opts.RobotsAgent) {
		return fmt.Errorf("redirect to %s: %w", u, ErrRobotsDisallowed)
	}
	return nil
}

func (c *Client) setHeaders(req *http.Request, o getOptions) {
	h := req.Header
	h.Set("User-Agent", c.opts.UserAgent)
	h.Set("Accept", o.accept)
	h.Set("Accept-Encoding", acceptEncoding)
	h.Set("Accept-Language", "en;q=0.9, *;q=0.5")
	if o.referer != "" {
		h.Set("Referer", o.referer)
	}
}

// explain attaches the request's phase to a bare context error, so that a
// deadline while resolving is a DNS timeout, while connecting a connect
// timeout, and during the handshake a TLS failure. Errors that already say
// where they happened are returned as they are.
func explain(err error, st *reqState) error {
	var (
		dnsErr  *DNSError
		connErr *ConnectError
		tlsErr  *TLSError
	)
	if !isTimeout(err) || errors.As(err, &dnsErr) || errors.As(err, &connErr) || errors.As(err, &tlsErr) ||
		errors.Is(err, ErrBlockedPrivate) || errors.Is(err, ErrRateDeadline) {
		return err
	}
	host := st.dialHost()
	switch st.current() {
	case phaseDNS:
		return &DNSError{Host: host, Status: model.StatusDNSTimeout, Err: err}
	case phaseConnect:
		return &ConnectError{Addr: host, Err: err}
	case phaseTLS:
		return &TLSError{Host: host, Err: err}
	}
	return err
}
