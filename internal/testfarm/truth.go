package testfarm

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aicensus/aicensus/internal/model"
)

// Kind says what a farm host is made to show or how it misbehaves.
type Kind string

// Site kinds: real pages with or without an AI technology.
const (
	KindPlain   Kind = "plain"    // a real page, no AI technology (maybe DNS verification records)
	KindEmbed   Kind = "embed"    // a real page with a vendor embed snippet before </body>
	KindApp     Kind = "app"      // a self-hosted AI app's page template served whole, on chat.<site>
	KindScript  Kind = "script"   // a real page linking /static/app.js, which calls an AI API from the browser
	KindCNAME   Kind = "cname"    // www.<site> reached through a two-hop CNAME chain, with an embed
	KindDNSOnly Kind = "dns-only" // verification TXT records and no address record
)

// Fault kinds: one host each, misbehaving as named.
const (
	KindSlowLoris        Kind = "slow-loris"         // headers, then one body byte every SlowInterval
	KindResetMidBody     Kind = "reset-mid-body"     // TCP reset after part of the body
	KindHugeBody         Kind = "huge-body"          // a 50 MiB body
	KindGzipBomb         Kind = "gzip-bomb"          // ~130 KB of gzip that inflates to BombSize
	KindRedirectLoop     Kind = "redirect-loop"      // / -> /loop -> / ...
	KindRedirectChain    Kind = "redirect-chain"     // three redirects, then a page
	KindRedirectLoopback Kind = "redirect-loopback"  // redirect to http://127.0.0.2:<http port>/
	KindRedirectMetadata Kind = "redirect-metadata"  // redirect to http://169.254.169.254/latest/meta-data/
	KindSelfSigned       Kind = "self-signed"        // self-signed certificate (HTTP redirects to HTTPS)
	KindExpiredCert      Kind = "expired-cert"       // CA-signed certificate that expired (HTTP redirects to HTTPS)
	KindHTTPOnly         Kind = "http-only"          // HTTPS connection reset at the handshake, HTTP serves the page
	KindWWWOnly          Kind = "www-only"           // the bare name has no address; www.<name> serves the page
	KindNotFound         Kind = "not-found"          // homepage answers 404 on HTTPS and HTTP
	KindServerError      Kind = "server-error"       // homepage answers 500 on HTTPS and HTTP
	KindDNSTimeout       Kind = "dns-timeout"        // the DNS server never answers
	KindNXDomain         Kind = "nxdomain"           // the name does not exist
	KindServfail         Kind = "servfail"           // the DNS server answers SERVFAIL
	KindTruncatedTCPOK   Kind = "truncated-tcp-ok"   // UDP answers truncated (TC), TCP answers fully
	KindTruncatedTCPFail Kind = "truncated-tcp-fail" // UDP answers truncated, TCP connections are closed
	KindRobots           Kind = "robots-disallow"    // robots.txt disallows /static/, where the AI script lives
)

// FaultKinds lists every fault kind in the order fault hosts are added.
func FaultKinds() []Kind {
	return []Kind{
		KindSlowLoris, KindResetMidBody, KindHugeBody, KindGzipBomb, KindRedirectLoop,
		KindRedirectChain, KindRedirectLoopback, KindRedirectMetadata, KindSelfSigned,
		KindExpiredCert, KindHTTPOnly, KindWWWOnly, KindNotFound, KindServerError,
		KindDNSTimeout, KindNXDomain, KindServfail, KindTruncatedTCPOK, KindTruncatedTCPFail,
		KindRobots,
	}
}

// FaultHost is the host name of the fault host of kind k ("fault-<kind>.test").
func FaultHost(k Kind) string { return "fault-" + string(k) + ".test" }

// HostTruth is the expected outcome of scanning one farm host. Its JSON form
// is one line of the truth file written by WriteDir.
type HostTruth struct {
	// Host is the input line: a farm name, lowercase.
	Host string `json:"host"`
	Kind Kind   `json:"kind"`
	// Status is the expected result status.
	Status model.Status `json:"status"`
	// URL is the expected final URL, with the logical port (no farm port):
	// https://<host>/ for most sites. Empty when no page is expected.
	URL string `json:"url,omitempty"`
	// HTTPStatus is the status code of the final response, 0 when none.
	HTTPStatus int `json:"http_status,omitempty"`
	// Redirects lists the URLs that answered with a redirect, first
	// request first, for hosts that redirect on the way to a page.
	Redirects []string `json:"redirects,omitempty"`
	// Technologies are the expected AI technologies, sorted by name; empty,
	// never nil, when none is expected.
	Technologies []Tech `json:"technologies"`
	// DNS lists the TXT, CNAME and MX records the farm publishes for Host
	// and its registrable domain (plus the CNAME chain of the address
	// lookup), sorted by name, type and value: what a resolver that asks
	// those questions returns.
	DNS []model.DNSRecord `json:"dns,omitempty"`
}

// Tech is one expected technology and where its evidence is.
type Tech struct {
	// Name is the catalog name ("Botpress", "OpenAI", ...).
	Name string `json:"name"`
	// Version is the expected version; "" means none is asserted.
	Version string `json:"version,omitempty"`
	// Evidence lists where the farm put the technology's traces.
	Evidence []Evidence `json:"evidence"`
}

// Evidence is one trace of a technology the farm serves.
type Evidence struct {
	// Where is "page" (the HTML of URL), "script <path>" (a same-site
	// script), "header <Name>" or "dns TXT <name>".
	Where string `json:"where"`
	// Text is a string that is present verbatim at Where.
	Text string `json:"text"`
}

// Names returns the technology names, sorted.
func (h HostTruth) Names() []string {
	out := make([]string, len(h.Technologies))
	for i, t := range h.Technologies {
		out[i] = t.Name
	}
	return out
}

// Tech returns the expected technology called name.
func (h HostTruth) Tech(name string) (Tech, bool) {
	i := slices.IndexFunc(h.Technologies, func(t Tech) bool { return t.Name == name })
	if i < 0 {
		return Tech{}, false
	}
	return h.Technologies[i], true
}

// addTech adds evidence for a technology, merging with an existing entry
// of the same name, and keeps Technologies sorted.
func (h *HostTruth) addTech(name, version string, ev Evidence) {
	for i := range h.Technologies {
		if h.Technologies[i].Name == name {
			h.Technologies[i].Evidence = append(h.Technologies[i].Evidence, ev)
			if version != "" {
				h.Technologies[i].Version = version
			}
			return
		}
	}
	h.Technologies = append(h.Technologies, Tech{Name: name, Version: version, Evidence: []Evidence{ev}})
	slices.SortFunc(h.Technologies, func(a, b Tech) int { return strings.Compare(a.Name, b.Name) })
}

// WriteTruth writes truth as JSON Lines, one HostTruth per line.
func WriteTruth(w io.Writer, truth []HostTruth) error {
	enc := json.NewEncoder(w)
	for _, h := range truth {
		if err := enc.Encode(h); err != nil {
			return fmt.Errorf("write truth %s: %w", h.Host, err)
		}
	}
	return nil
}

// ReadTruth reads JSON Lines written by WriteTruth.
func ReadTruth(r io.Reader) ([]HostTruth, error) {
	dec := json.NewDecoder(r)
	var out []HostTruth
	for dec.More() {
		var h HostTruth
		if err := dec.Decode(&h); err != nil {
			return out, fmt.Errorf("read truth line %d: %w", len(out)+1, err)
		}
		out = append(out, h)
	}
	return out, nil
}
