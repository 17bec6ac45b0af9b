package fetch

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/aicensus/aicensus/internal/limit"
)

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
	hosts *limit.Keyed
}

func (t *politeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	stateFrom(ctx).setPhase(phaseQueue)
	if err := waitRate(ctx, t.rate); err != nil {
		return nil, err
	}
	release, err := t.hosts.Acquire(ctx, strings.ToLower(req.URL.Hostname()))
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
