package fetch

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// keyedLimiter caps concurrent holders per key (host name or IP). Entries
// exist only while held or waited for, so its size follows concurrency, not
// the number of keys ever seen. A limit <= 0 means unlimited.
type keyedLimiter struct {
	limit int
	mu    sync.Mutex
	slots map[string]*keySlot
}

type keySlot struct {
	sem  chan struct{}
	refs int // holders plus waiters
}

func newKeyedLimiter(limit int) *keyedLimiter {
	return &keyedLimiter{limit: limit, slots: make(map[string]*keySlot)}
}

// acquire waits for a slot for key. It returns a release function that must
// be called exactly once, or ctx's error.
func (l *keyedLimiter) acquire(ctx context.Context, key string) (func(), error) {
	if l.limit <= 0 {
		return func() {}, nil
	}
	l.mu.Lock()
	s := l.slots[key]
	if s == nil {
		s = &keySlot{sem: make(chan struct{}, l.limit)}
		l.slots[key] = s
	}
	s.refs++
	l.mu.Unlock()
	select {
	case s.sem <- struct{}{}:
		return sync.OnceFunc(func() {
			<-s.sem
			l.unref(key, s)
		}), nil
	case <-ctx.Done():
		l.unref(key, s)
		return nil, context.Cause(ctx)
	}
}

func (l *keyedLimiter) unref(key string, s *keySlot) {
	l.mu.Lock()
	s.refs--
	if s.refs == 0 {
		delete(l.slots, key)
	}
	l.mu.Unlock()
}

// size returns the number of live entries (for tests).
func (l *keyedLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.slots)
}

// waitRate waits for the global rate limiter. When the wait would pass ctx's
// deadline it returns ErrRateDeadline at once instead of sleeping.
func waitRate(ctx context.Context, lim *rate.Limiter) error {
	if lim == nil {
		return nil
	}
	r := lim.Reserve()
	if !r.OK() {
		return fmt.Errorf("rate limit: burst too small")
	}
	d := r.Delay()
	if d == 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		r.Cancel()
		return ErrRateDeadline
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return context.Cause(ctx)
	}
}

// politeTransport applies the global rate and the per-host limit to every
// request, redirects included. The host slot is held until the response
// body is closed.
type politeTransport struct {
	base  http.RoundTripper
	rate  *rate.Limiter
	hosts *keyedLimiter
}

func (t *politeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	stateFrom(ctx).setPhase(phaseQueue)
	if err := waitRate(ctx, t.rate); err != nil {
		return nil, err
	}
	release, err := t.hosts.acquire(ctx, strings.ToLower(req.URL.Hostname()))
	if err != nil {
		return nil, fmt.Errorf("wait for a slot on %s: %w", req.URL.Hostname(), err)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releaseBody calls release once when the body is closed.
type releaseBody struct {
	io.ReadCloser
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// limitedConn releases its per-IP slot when closed.
type limitedConn struct {
	net.Conn
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
