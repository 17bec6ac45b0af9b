package dns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
	"golang.org/x/sync/singleflight"

	"github.com/aicensus/aicensus/internal/model"
)

// Resolver answers DNS questions through recursive resolvers. Create it with
// New and release it with Close. All methods are safe for concurrent use.
type Resolver struct {
	cfg     Config
	servers []*server
	next    atomic.Uint32 // rotation over servers
	cache   *cache        // nil when disabled
	flights singleflight.Group
	tcp     *mdns.Client
	udp     *mdns.Client

	hostTypes, domainTypes []uint16 // LookupHost's questions (Config.RecordTypes)
}

// Answer is the outcome of one successful question (NOERROR). Its slices
// belong to the caller.
type Answer struct {
	Name    string            // the question name, canonical
	Type    uint16            // the question type (miekg/dns TypeX constants)
	Records []model.DNSRecord // the answer section (CNAME chain included), converted
	Addrs   []netip.Addr      // addresses in the answer, for A and AAAA questions
	Cached  bool              // served from the cache
}

// New builds a Resolver. With no Config.Servers it reads the system
// resolvers and fails with an error wrapping ErrNoServers when there are none.
func New(cfg Config) (*Resolver, error) {
	cfg = cfg.withDefaults()
	addrs := cfg.Servers
	if len(addrs) == 0 {
		sys, err := SystemServers(cfg.ResolvConf)
		if err != nil {
			return nil, err
		}
		addrs = sys
	}
	r := &Resolver{
		cfg: cfg,
		udp: &mdns.Client{Net: "udp", Timeout: cfg.Timeout, UDPSize: cfg.UDPSize},
		tcp: &mdns.Client{Net: "tcp", Timeout: cfg.Timeout},
	}
	r.hostTypes, r.domainTypes = recordTypes(cfg.RecordTypes)
	for _, a := range addrs {
		addr, err := ParseServer(a)
		if err != nil {
			return nil, fmt.Errorf("new resolver: %w", err)
		}
		r.servers = append(r.servers, newServer(addr, cfg.IdleConns))
	}
	if cfg.CacheSize > 0 {
		c, err := newCache(cfg.CacheSize, cfg.Now)
		if err != nil {
			return nil, fmt.Errorf("new resolver cache: %w", err)
		}
		r.cache = c
	}
	return r, nil
}

// Servers returns the resolver addresses in use, "ip:port".
func (r *Resolver) Servers() []string {
	out := make([]string, len(r.servers))
	for i, s := range r.servers {
		out[i] = s.addr
	}
	return out
}

// Close releases pooled sockets and the cache. Lookups must not be started
// after Close; it is safe to call more than once.
func (r *Resolver) Close() error {
	for _, s := range r.servers {
		s.close()
	}
	r.cache.close()
	return nil
}

// Query asks one question. NXDOMAIN, SERVFAIL/REFUSED, timeouts and
// malformed or unrepairable truncated replies come back as *Error with the
// matching status; NOERROR without data is an Answer with no records.
func (r *Resolver) Query(ctx context.Context, name string, qtype uint16) (Answer, error) {
	name = canonical(name)
	e := r.lookup(ctx, name, qtype)
	if e.status != model.StatusOK {
		return Answer{}, &Error{Name: name, Type: typeString(qtype), Status: e.status, Err: e.err}
	}
	return Answer{
		Name:    name,
		Type:    qtype,
		Records: slices.Clone(e.records),
		Addrs:   slices.Clone(e.addrs),
		Cached:  e.cached,
	}, nil
}

// result is an entry as seen by one caller.
type result struct {
	*entry
	cached bool
}

// lookup answers from the cache or runs one shared exchange for the
// question.
func (r *Resolver) lookup(ctx context.Context, name string, qtype uint16) result {
	if _, ok := mdns.IsDomainName(name); !ok || name == "" {
		return result{entry: &entry{status: model.StatusDNSError, err: fmt.Errorf("invalid domain name %q", name)}}
	}
	k := cacheKey{name, qtype}
	if e, ok := r.cache.get(k); ok {
		return result{entry: e, cached: true}
	}
	for {
		v, _, _ := r.flights.Do(name+"/"+strconv.Itoa(int(qtype)), func() (any, error) {
			e := r.resolve(ctx, name, qtype)
			r.cache.put(k, e)
			return e, nil
		})
		e := v.(*entry)
		// A flight led by a caller whose context ended says nothing about
		// ours: ask again while our context is alive.
		if isContextErr(e.err) && ctx.Err() == nil {
			continue
		}
		return result{entry: e}
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// resolve runs the attempts for one question: rotate servers, back off
// after timeouts and network errors, move on after SERVFAIL when another
// server is configured.
func (r *Resolver) resolve(ctx context.Context, name string, qtype uint16) *entry {
	q := new(mdns.Msg)
	q.SetQuestion(mdns.Fqdn(name), qtype)
	q.SetEdns0(r.cfg.UDPSize, false)
	start := int(r.next.Add(1))
	timedOut := false
	var lastErr error
	for attempt := range r.cfg.Attempts {
		if attempt > 0 {
			if err := sleep(ctx, r.cfg.Backoff<<(attempt-1)); err != nil {
				return &entry{status: model.StatusDNSTimeout, err: err}
			}
		}
		srv := r.servers[(start+attempt)%len(r.servers)]
		q.Id = mdns.Id()
		resp, err := r.exchange(ctx, srv, q)
		if ctx.Err() != nil {
			return &entry{status: model.StatusDNSTimeout, err: ctx.Err()}
		}
		switch {
		case err == nil:
			st := rcodeStatus(resp.Rcode)
			if st == model.StatusDNSServfail && len(r.servers) > 1 && attempt+1 < r.cfg.Attempts {
				lastErr = fmt.Errorf("%s: %w", srv.addr, rcodeError(resp.Rcode))
				continue
			}
			return r.fromResponse(resp, qtype, st)
		case errors.Is(err, errTruncated), errors.Is(err, errQuestion), isMalformed(err):
			return &entry{status: model.StatusDNSError, err: fmt.Errorf("%s: %w", srv.addr, err)}
		case isTimeout(err):
			timedOut = true
		}
		lastErr = fmt.Errorf("%s: %w", srv.addr, err)
	}
	if timedOut {
		return &entry{status: model.StatusDNSTimeout, err: lastErr}
	}
	if errors.Is(lastErr, rcodeError(mdns.RcodeServerFailure)) || errors.Is(lastErr, rcodeError(mdns.RcodeRefused)) {
		return &entry{status: model.StatusDNSServfail, err: lastErr, ttl: r.cfg.NegativeTTL}
	}
	return &entry{status: model.StatusDNSError, err: lastErr}
}

// fromResponse turns a reply with status st into an entry with its cache
// lifetime: the smallest answer TTL within [MinTTL, MaxTTL] for data, the
// SOA minimum capped at NegativeTTL for negative answers, nothing for
// other failures.
func (r *Resolver) fromResponse(resp *mdns.Msg, qtype uint16, st model.Status) *entry {
	e := &entry{status: st}
	switch st {
	case model.StatusOK:
		e.records = Records(resp.Answer)
		if qtype == mdns.TypeA || qtype == mdns.TypeAAAA {
			e.addrs = addrsOf(resp.Answer)
		}
		if len(resp.Answer) == 0 {
			e.ttl = r.negativeTTL(resp)
			return e
		}
		e.ttl = r.positiveTTL(resp.Answer)
	case model.StatusDNSNXDomain, model.StatusDNSServfail:
		e.err = rcodeError(resp.Rcode)
		e.ttl = r.negativeTTL(resp)
	default:
		e.err = rcodeError(resp.Rcode)
	}
	return e
}

func (r *Resolver) positiveTTL(rrs []mdns.RR) time.Duration {
	minTTL := uint32(1<<32 - 1)
	for _, rr := range rrs {
		minTTL = min(minTTL, rr.Header().Ttl)
	}
	return min(max(time.Duration(minTTL)*time.Second, r.cfg.MinTTL), r.cfg.MaxTTL)
}

// negativeTTL follows RFC 2308: the smaller of the SOA's TTL and its
// minimum field, here capped at NegativeTTL and at least one second.
func (r *Resolver) negativeTTL(resp *mdns.Msg) time.Duration {
	for _, rr := range resp.Ns {
		if soa, ok := rr.(*mdns.SOA); ok {
			d := time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second
			return min(max(d, time.Second), r.cfg.NegativeTTL)
		}
	}
	return r.cfg.NegativeTTL
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// typeString names a query type ("TXT").
func typeString(qtype uint16) string {
	if s, ok := mdns.TypeToString[qtype]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(qtype))
}
