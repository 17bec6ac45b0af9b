// Package probe looks at one live host the way a passive scanner can: its
// DNS records (internal/dns) and its home page with a few linked scripts
// (internal/fetch), combined into one observation and one status.
package probe

import (
	"context"

	"github.com/aicensus/aicensus/internal/dns"
	"github.com/aicensus/aicensus/internal/fetch"
	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/pipeline"
)

// Prober probes live hosts. It is safe for concurrent use.
type Prober struct {
	dns   *dns.Resolver
	fetch *fetch.Client
}

var _ pipeline.Prober = (*Prober)(nil)

// New returns a Prober using r for DNS records and c (which should resolve
// through the same r) for HTTP.
func New(r *dns.Resolver, c *fetch.Client) *Prober { return &Prober{dns: r, fetch: c} }

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
	resp := p.fetch.Fetch(ctx, host)
	obs := resp.Observation
	obs.Host = host
	obs.DNS = h.Records
	return pipeline.Fetched{Obs: obs, Status: resp.Status, Err: resp.Err, Redirects: resp.Redirects}
}
