package render

import (
	"context"
	"fmt"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/pipeline"
)

// Prober adds a browser's view to another prober's observation: after the
// static probe of a host answered, its final URL is rendered in the pool
// and the globals, live DOM, requests and serialised document go into
// Observation.Rendered, so that one detection labels static and rendered
// evidence.
//
// Status: a render that timed out still evaluated the page as it was then,
// so the result stays ok and its Error says so; a crashed tab or a failed
// render gives render-crash or render-error (static evidence is kept). It
// is safe for concurrent use.
type Prober struct {
	inner pipeline.Prober
	pool  *Pool
}

var _ pipeline.Prober = (*Prober)(nil)

// NewProber renders, in pool, every host inner fetched successfully.
func NewProber(inner pipeline.Prober, pool *Pool) *Prober { return &Prober{inner: inner, pool: pool} }

// Probe implements pipeline.Prober.
func (p *Prober) Probe(ctx context.Context, host string) pipeline.Fetched {
	f := p.inner.Probe(ctx, host)
	if f.Status != model.StatusOK || f.Obs.URL == "" || ctx.Err() != nil {
		return f
	}
	page := p.pool.Render(ctx, f.Obs.URL)
	if ctx.Err() != nil {
		return f // the scan is stopping: the pipeline drops this result
	}
	f.Obs.Rendered = page.Rendered
	switch page.Status {
	case model.StatusOK:
	case model.StatusRenderTimeout:
		f.Err = fmt.Errorf("render: %w (evidence from the page as it was after %s)", page.Err, page.Duration.Round(1e6))
	default:
		f.Status, f.Err = page.Status, fmt.Errorf("render %s: %w", f.Obs.URL, page.Err)
	}
	return f
}
