package hf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Fetcher walks paginated /api/models responses. The zero value is usable:
// http.DefaultClient, 5 retries, 1 s initial backoff, 10,000 pages at most,
// 64 MiB per page. A Fetcher is safe for concurrent use if its Client is.
type Fetcher struct {
	Client     *http.Client
	MaxRetries int           // retries per page after the first try; <0 means none
	Backoff    time.Duration // first wait; doubles per retry, capped at 1 min
	MaxPages   int
	MaxBytes   int64
	UserAgent  string
}

// ErrHTTPStatus is wrapped by errors for a non-retryable HTTP status or for
// a retryable one that persisted past MaxRetries.
var ErrHTTPStatus = errors.New("unexpected HTTP status")

// Fetch GETs start and every page its Link: rel="next" header points to, in
// order, calling page with each body. Status 429 and 5xx and transport errors
// are retried with exponential backoff (Retry-After in seconds is honoured
// when longer); other non-200 statuses stop the walk. A page callback error
// stops the walk and is returned. Relative next links are resolved against
// the page URL. It returns the number of pages read.
func (f *Fetcher) Fetch(ctx context.Context, start string, page func(u string, body []byte) error) (int, error) {
	next := start
	n := 0
	for next != "" {
		if max := f.maxPages(); n >= max {
			return n, fmt.Errorf("fetch %s: stopped after %d pages", start, max)
		}
		body, link, err := f.get(ctx, next)
		if err != nil {
			return n, err
		}
		n++
		if err := page(next, body); err != nil {
			return n, err
		}
		if link == "" {
			break
		}
		base, err := url.Parse(next)
		if err != nil {
			return n, fmt.Errorf("fetch %s: %w", next, err)
		}
		ref, err := url.Parse(link)
		if err != nil {
			return n, fmt.Errorf("fetch %s: bad next link %q: %w", next, link, err)
		}
		next = base.ResolveReference(ref).String()
	}
	return n, nil
}

func (f *Fetcher) maxPages() int {
	if f.MaxPages > 0 {
		return f.MaxPages
	}
	return 10000
}

// get fetches one page with retries; it returns the body and the next link.
func (f *Fetcher) get(ctx context.Context, u string) ([]byte, string, error) {
	retries := f.MaxRetries
	if retries == 0 {
		retries = 5
	}
	wait := f.Backoff
	if wait <= 0 {
		wait = time.Second
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		body, link, retryAfter, err := f.try(ctx, u)
		if err == nil {
			return body, link, nil
		}
		lastErr = err
		if retryAfter < 0 || attempt >= retries || ctx.Err() != nil {
			break
		}
		d := max(wait, retryAfter)
		select {
		case <-ctx.Done():
			return nil, "", ctx.Err()
		case <-time.After(d):
		}
		wait = min(2*wait, time.Minute)
	}
	return nil, "", fmt.Errorf("fetch %s: %w", u, lastErr)
}

// try makes one request. retryAfter is < 0 when the failure is permanent,
// else the server's requested delay (0 when it gave none).
func (f *Fetcher) try(ctx context.Context, u string) (body []byte, link string, retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", -1, err
	}
	req.Header.Set("Accept", "application/json")
	if f.UserAgent != "" {
		req.Header.Set("User-Agent", f.UserAgent)
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", 0, err
	}
	defer resp.Body.Close()
	limit := f.MaxBytes
	if limit <= 0 {
		limit = 64 << 20
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		err := fmt.Errorf("%w %d", ErrHTTPStatus, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return nil, "", retryAfterOf(resp.Header.Get("Retry-After")), err
		}
		return nil, "", -1, err
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(resp.Body, limit+1)); err != nil {
		return nil, "", 0, err
	}
	if int64(buf.Len()) > limit {
		return nil, "", -1, fmt.Errorf("page larger than %d bytes", limit)
	}
	return buf.Bytes(), NextLink(strings.Join(resp.Header.Values("Link"), ", ")), 0, nil
}

func retryAfterOf(v string) time.Duration {
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return min(time.Duration(s)*time.Second, 5*time.Minute)
	}
	return 0
}
