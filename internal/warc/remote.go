package warc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// httpReader streams a remote file and, when the connection drops before
// the end, resumes with a Range request from the offset already read.
// If-Range (the strong ETag, or Last-Modified) makes sure the resumed bytes
// belong to the same version of the file.
type httpReader struct {
	ctx       context.Context
	client    *http.Client
	url       string
	pos       int64 // source offset of the next byte Read returns
	size      int64 // total size when known, else -1
	validator string
	body      io.ReadCloser
	retries   int // budget per stall, refilled by progress
	budget    int
	resumes   int // Range requests that resumed a dropped read
	lastErr   error

	idle     time.Duration // a request that moves no byte for this long is dropped
	cancel   context.CancelFunc
	watchdog *time.Timer
}

var (
	errChanged  = errors.New("remote file changed while reading it")
	errBadRange = errors.New("server answered another range")
)

// statusError is an HTTP answer other than the one asked for.
type statusError struct {
	code   int
	status string
}

func (e *statusError) Error() string { return "HTTP " + e.status }

func openHTTP(ctx context.Context, client *http.Client, url string, offset int64, retries int, idle time.Duration) (*httpReader, error) {
	h := &httpReader{ctx: ctx, client: client, url: url, pos: offset, size: -1, retries: retries, budget: retries, idle: idle}
	err := h.connect()
	for err != nil && retryable(ctx, err) && h.budget > 0 {
		h.budget--
		if werr := h.wait(); werr != nil {
			return nil, werr
		}
		err = h.connect()
	}
	if err != nil {
		h.stop()
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	h.budget = h.retries
	return h, nil
}

// start begins an attempt: a request context that the watchdog cancels
// when the attempt stalls for h.idle.
func (h *httpReader) start() context.Context {
	h.stop()
	ctx, cancel := context.WithCancel(h.ctx)
	h.cancel = cancel
	h.watchdog = time.AfterFunc(h.idle, cancel)
	return ctx
}

// stop ends the current attempt.
func (h *httpReader) stop() {
	if h.watchdog != nil {
		h.watchdog.Stop()
		h.cancel()
		h.watchdog, h.cancel = nil, nil
	}
}

// connect issues the GET (with Range when resuming) and sets h.body.
func (h *httpReader) connect() error {
	req, err := http.NewRequestWithContext(h.start(), http.MethodGet, h.url, nil)
	if err != nil {
		return err
	}
	// Ask for the bytes as stored: a transparently decoded body would make
	// offsets meaningless.
	req.Header.Set("Accept-Encoding", "identity")
	if h.pos > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", h.pos))
		if h.validator != "" {
			req.Header.Set("If-Range", h.validator)
		}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != h.pos {
			resp.Body.Close()
			return fmt.Errorf("%w: %q for offset %d", errBadRange, resp.Header.Get("Content-Range"), h.pos)
		}
		h.size = total
	case http.StatusOK:
		if h.pos > 0 {
			if h.validator != "" && validator(resp.Header) != h.validator {
				resp.Body.Close()
				return errChanged
			}
			// The server ignores Range: skip what was already read.
			if _, err := io.CopyN(io.Discard, resp.Body, h.pos); err != nil {
				resp.Body.Close()
				return fmt.Errorf("skip %d bytes: %w", h.pos, err)
			}
		}
		h.size = resp.ContentLength // the whole file, also when Range was ignored
	case http.StatusRequestedRangeNotSatisfiable:
		resp.Body.Close()
		if _, total, ok := parseContentRange(resp.Header.Get("Content-Range")); ok && total == h.pos {
			h.size = total
			h.body = io.NopCloser(strings.NewReader(""))
			return nil
		}
		return &statusError{code: resp.StatusCode, status: resp.Status}
	default:
		resp.Body.Close()
		return &statusError{code: resp.StatusCode, status: resp.Status}
	}
	if h.validator == "" {
		h.validator = validator(resp.Header)
	}
	h.body = resp.Body
	return nil
}

// Read implements io.Reader; a dropped connection is resumed transparently.
func (h *httpReader) Read(p []byte) (int, error) {
	for {
		if h.body == nil {
			if err := h.resume(); err != nil {
				return 0, err
			}
		}
		n, err := h.body.Read(p)
		h.pos += int64(n)
		if n > 0 {
			h.budget = h.retries
			h.watchdog.Reset(h.idle)
		}
		if err == nil {
			return n, nil
		}
		if err == io.EOF && (h.size < 0 || h.pos >= h.size) {
			return n, io.EOF
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if cerr := h.ctx.Err(); cerr != nil {
			return n, cerr
		}
		h.lastErr = err // dropped, or stalled and cancelled by the watchdog
		h.body.Close()
		h.body = nil
		h.stop()
		if n > 0 {
			return n, nil
		}
	}
}

// resume reconnects at h.pos after a dropped read, within the budget.
func (h *httpReader) resume() error {
	for {
		if h.budget <= 0 {
			return fmt.Errorf("read %s at offset %d: gave up after %d retries: %w", h.url, h.pos, h.retries, h.lastErr)
		}
		h.budget--
		if err := h.wait(); err != nil {
			return err
		}
		err := h.connect()
		if err == nil {
			h.resumes++
			return nil
		}
		if !retryable(h.ctx, err) {
			return fmt.Errorf("resume %s at offset %d: %w", h.url, h.pos, err)
		}
		h.lastErr = err
	}
}

// wait sleeps before a retry: 100 ms, doubling per consecutive failure,
// at most 5 s; it returns early with the context's error.
func (h *httpReader) wait() error {
	d := 100 * time.Millisecond << min(h.retries-h.budget-1, 6)
	d = min(max(d, 100*time.Millisecond), 5*time.Second)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-h.ctx.Done():
		return h.ctx.Err()
	case <-t.C:
		return nil
	}
}

// Close implements io.Closer.
func (h *httpReader) Close() error {
	defer h.stop()
	if h.body == nil {
		return nil
	}
	err := h.body.Close()
	h.body = nil
	return err
}

func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, errChanged) || errors.Is(err, errBadRange) {
		return false
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.code >= 500 || se.code == http.StatusTooManyRequests || se.code == http.StatusRequestTimeout
	}
	return true // network errors
}

// validator returns the value for If-Range: a strong ETag, else Last-Modified.
func validator(h http.Header) string {
	if et := h.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
		return et
	}
	return h.Get("Last-Modified")
}

// parseContentRange parses "bytes start-end/total" and "bytes */total".
// total is -1 when given as "*".
func parseContentRange(s string) (start, total int64, ok bool) {
	s, found := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		t, err := strconv.ParseInt(tot, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total = t
	}
	if rng == "*" {
		return 0, total, true
	}
	first, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return start, total, true
}
