// Package probe looks at one live host the way a passive scanner can: its
// DNS records (internal/dns) and its home page with a few linked scripts
// (internal/fetch), combined into one observation and one status.
package probe

import (
	"context"

	"golang.org/x/time/rate"

	"github.com/aicensus/aicensus/internal/dns"
	"github.com/aicensus/aicensus/internal/fetch"
	"github.com/aicensus/aicensus/internal/limit"
	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/pipeline"
)

// Options are the politeness limits applied before a site is fetched.
// Waiting for them does not count against the fetch's timeouts, so a busy
// shared IP address or a low rate never turns into a timeout status.
type Options struct {
	// PerIP caps sites fetched at the same time from one IP address (the
	// first address of the host); 0 or less: no cap.
	PerIP int
	// SitesPerSecond caps how many sites start per second; 0: no cap.
	SitesPerSecond float64
}

// Prober probes live hosts. It is safe for concurrent use.
type Prober struct {
	dns   *dns.Resolver
	fetch *fetch.Client
	perIP *limit.Keyed
	rate  *rate.Limiter
}

var _ pipeline.Prober = (*Prober)(nil)

// New returns a Prober using r for DNS records and c (which should resolve
// through the same r) for HTTP.
func New(r *dns.Resolver, c *fetch.Client, opts Options) *Prober {
	p := &Prober{dns: r, fetch: c, perIP: limit.NewKeyed(opts.PerIP)}
	if opts.SitesPerSecond > 0 {
		p.rate = rate.NewLimiter(rate.Limit(opts.SitesPerSecond), max(1, int(opts.SitesPerSecond)))
	}
	return p
}

// Probe looks up host's DNS records, then fetches its home page. When the
// name cannot resolve at all (NXDOMAIN, SERVFAIL, timeout, malformed
// answers) there is nothing to fetch (not even www.: names below an
// NXDOMAIN do not exist) and the DNS status is the result; otherwise the
// fetch decides the status (its www. fallback covers names without
// addresses). DNS records are part of the observation either way, so
// verification records count even for hosts without a website.
func (p *Prober) Probe(ctx context.Context, host string) pipeline.Fetched {
	h := p.dns.LookupHost(ctx, host)
	switch h.Status {
	case model.StatusDNSNXDomain, model.StatusDNSServfail, model.StatusDNSTimeout, model.StatusDNSError:
		return pipeline.Fetched{
			Obs:    model.Observation{Host: host, DNS: h.Records},
			Status: h.Status,
			Err:    h.Err,
		}
	}
	if len(h.Addrs) > 0 {
		release, err := p.perIP.Acquire(ctx, h.Addrs[0].String())
		if err != nil {
			return cancelled(host, err)
		}
		defer release()
	}
	if p.rate != nil {
		if err := p.rate.Wait(ctx); err != nil {
			return cancelled(host, err)
		}
	}
	resp := p.fetch.Fetch(ctx, host)
	obs := resp.Observation
	obs.Host = host
	obs.DNS = h.Records
	return pipeline.Fetched{Obs: obs, Status: resp.Status, Err: resp.Err, Redirects: resp.Redirects,
		Release: func() { p.fetch.Recycle(&obs) }}
}

// cancelled is the outcome when the scan stopped while waiting; the
// pipeline drops it (the scan's context is done), so it is never stored.
func cancelled(host string, err error) pipeline.Fetched {
	return pipeline.Fetched{Obs: model.Observation{Host: host}, Status: model.StatusInternalError, Err: err}
}
