package scan

import (
	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/dns"
	"github.com/aicensus/aicensus/internal/fetch"
	"github.com/aicensus/aicensus/internal/probe"
)

// StaticProber is the DNS resolver, HTTP client and prober a live scan
// answers its domains with, built the same way wherever the scan runs
// (scan.Live and cluster workers), so the same input gives the same
// results on one machine and on many.
type StaticProber struct {
	*probe.Prober
	// Resolver is the prober's resolver (the browser proxy resolves with
	// it too).
	Resolver *dns.Resolver
	// Fetch is the fetch.Options the client was built with, resolver set.
	Fetch  fetch.Options
	client *fetch.Client
}

// NewStaticProber builds the resolver from dc (asking, when
// dc.RecordTypes is nil, only the record types det can match), the HTTP
// client from fo (resolving with that resolver and listing scripts with
// detect.ScriptSources unless fo names a lister) and the prober from po.
// Close releases them.
func NewStaticProber(det *detect.Detector, dc dns.Config, fo fetch.Options, po probe.Options) (*StaticProber, error) {
	if dc.RecordTypes == nil {
		dc.RecordTypes = det.DNSTypes() // ask only what the catalog can match
	}
	res, err := dns.New(dc)
	if err != nil {
		return nil, err
	}
	fo.Resolver, fo.DNSStatus = res, dns.StatusOf
	if fo.ScriptLister == nil {
		fo.ScriptLister = detect.ScriptSources
	}
	client, err := fetch.New(fo)
	if err != nil {
		res.Close()
		return nil, err
	}
	return &StaticProber{Prober: probe.New(res, client, po), Resolver: res, Fetch: fo, client: client}, nil
}

// Close releases the client and the resolver.
func (p *StaticProber) Close() {
	p.client.Close()
	p.Resolver.Close()
}
