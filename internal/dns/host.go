package dns

import (
	"cmp"
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"

	mdns "github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"

	"github.com/aicensus/aicensus/internal/model"
)

// Host is what the resolver learnt about one host name.
type Host struct {
	// Name is the host, lowercase, without trailing dot.
	Name string
	// Domain is its registrable domain (Name itself when it is one, or when
	// the public suffix list cannot say).
	Domain string
	// Addrs are the A then AAAA addresses of Name (after CNAMEs).
	Addrs []netip.Addr
	// Records holds the TXT, CNAME and MX records of Name and of Domain,
	// the NS records of Domain and the CNAME chain of the address lookup,
	// without duplicates, sorted by name, type and value. Record lookups
	// are best effort: their failures do not change Status.
	Records []model.DNSRecord
	// Status is the outcome of the address lookup: StatusOK when Addrs is
	// not empty.
	Status model.Status
	// Err is the *Error behind Status, nil when Status is StatusOK.
	Err error
}

// recordTypes returns the record types asked for the host and for its
// registrable domain (verification records live on the apex): the
// configured RecordTypes, or by default TXT, CNAME and MX for both and NS
// for the domain. NS and SOA are domain records and are asked only there.
func recordTypes(names []string) (host, domain []uint16) {
	if names == nil {
		names = []string{"TXT", "CNAME", "MX", "NS"}
	}
	for _, n := range names {
		t, ok := mdns.StringToType[strings.ToUpper(n)]
		if !ok || t == mdns.TypeA || t == mdns.TypeAAAA {
			continue // addresses are always looked up
		}
		if t != mdns.TypeNS && t != mdns.TypeSOA {
			host = append(host, t)
		}
		domain = append(domain, t)
	}
	return host, domain
}

// LookupHost resolves the addresses and fingerprint records of host; all
// questions run concurrently and answers are cached. It never fails: the
// outcome is Host.Status.
func (r *Resolver) LookupHost(ctx context.Context, host string) Host {
	h := Host{Name: canonical(host)}
	h.Domain = RegistrableDomain(h.Name)
	type question struct {
		name  string
		qtype uint16
	}
	qs := make([]question, 0, 8)
	for _, t := range r.hostTypes {
		qs = append(qs, question{h.Name, t})
	}
	for _, t := range r.domainTypes {
		if h.Domain != h.Name || !slices.Contains(r.hostTypes, t) {
			qs = append(qs, question{h.Domain, t})
		}
	}
	answers := make([]Answer, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Go(func() { answers[i], _ = r.Query(ctx, q.name, q.qtype) })
	}
	var addrErr error
	var chain []model.DNSRecord
	wg.Go(func() { h.Addrs, chain, addrErr = r.lookupAddrs(ctx, h.Name) })
	wg.Wait()

	h.Status, h.Err = StatusOf(addrErr), addrErr
	for _, a := range answers {
		for _, rec := range a.Records {
			if rec.Type != "A" && rec.Type != "AAAA" {
				h.Records = append(h.Records, rec)
			}
		}
	}
	h.Records = sortRecords(append(h.Records, chain...))
	return h
}

// LookupAddrs returns the A and AAAA addresses of host (A first), following
// CNAMEs, from the cache when it can. An IP literal is returned as is. On
// failure the error is an *Error whose Status is dns-nxdomain, dns-timeout,
// dns-servfail, dns-error, or dns-no-address when the name exists without
// addresses. It is meant to be called from an HTTP dialer, so the caller can
// check the addresses before connecting.
func (r *Resolver) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	addrs, _, err := r.lookupAddrs(ctx, host)
	return addrs, err
}

// lookupAddrs also returns the CNAME records met on the way.
func (r *Resolver) lookupAddrs(ctx context.Context, host string) ([]netip.Addr, []model.DNSRecord, error) {
	name := canonical(host)
	if a, err := netip.ParseAddr(trimBrackets(name)); err == nil {
		return []netip.Addr{a.Unmap()}, nil, nil
	}
	var a4, a6 Answer
	var err4, err6 error
	var wg sync.WaitGroup
	wg.Go(func() { a4, err4 = r.Query(ctx, name, mdns.TypeA) })
	wg.Go(func() { a6, err6 = r.Query(ctx, name, mdns.TypeAAAA) })
	wg.Wait()

	var chain []model.DNSRecord
	for _, rec := range slices.Concat(a4.Records, a6.Records) {
		if rec.Type == "CNAME" {
			chain = append(chain, rec)
		}
	}
	addrs := slices.Concat(a4.Addrs, a6.Addrs)
	if len(addrs) > 0 {
		return addrs, chain, nil
	}
	if err4 == nil && err6 == nil {
		return nil, chain, &Error{Name: name, Type: "A/AAAA", Status: model.StatusDNSNoAddress}
	}
	return nil, chain, worse(err4, err6)
}

// worse picks the error that best explains a failed address lookup:
// NXDOMAIN, then timeout, then SERVFAIL, then any other.
func worse(a, b error) error {
	rank := func(err error) int {
		switch StatusOf(err) {
		case model.StatusDNSNXDomain:
			return 0
		case model.StatusDNSTimeout:
			return 1
		case model.StatusDNSServfail:
			return 2
		case model.StatusOK:
			return 4
		}
		return 3
	}
	if rank(b) < rank(a) {
		return b
	}
	return a
}

// RegistrableDomain returns the eTLD+1 of a host by the public suffix list
// (an unlisted TLD such as .test counts as a suffix), or the host itself
// when it has none (a bare suffix, an IP).
func RegistrableDomain(host string) string {
	host = canonical(host)
	if _, err := netip.ParseAddr(trimBrackets(host)); err == nil {
		return host
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return d
}

// sortRecords sorts by name, type and value and drops duplicates.
func sortRecords(recs []model.DNSRecord) []model.DNSRecord {
	slices.SortFunc(recs, func(a, b model.DNSRecord) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Value, b.Value))
	})
	return slices.Compact(recs)
}
