package testfarm

import (
	"context"
	"net"
	"regexp"
	"slices"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	aidns "github.com/aicensus/aicensus/internal/dns"
	"github.com/aicensus/aicensus/internal/model"
)

// exchange asks the farm's DNS server one question with a plain miekg
// client over network ("udp" or "tcp").
func exchange(t *testing.T, f *Farm, network, name string, qtype uint16) (*mdns.Msg, error) {
	t.Helper()
	c := &mdns.Client{Net: network, Timeout: 300 * time.Millisecond}
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	m.SetEdns0(1232, false)
	r, _, err := c.Exchange(m, f.DNSAddr())
	return r, err
}

// queryTXT returns the joined TXT values of name (over TCP when truncated).
func queryTXT(t *testing.T, f *Farm, name string) []string {
	t.Helper()
	r, err := exchange(t, f, "udp", name, mdns.TypeTXT)
	if err == nil && r.Truncated {
		r, err = exchange(t, f, "tcp", name, mdns.TypeTXT)
	}
	if err != nil {
		t.Fatalf("TXT %s: %v", name, err)
	}
	var out []string
	for _, rr := range r.Answer {
		if txt, ok := rr.(*mdns.TXT); ok {
			out = append(out, aidns.JoinTXT(txt.Txt))
		}
	}
	return out
}

func TestDNSAnswers(t *testing.T) {
	f := startFarm(t, testConfig(40))
	site := f.HostsOf(KindPlain)[0]
	cname := f.HostsOf(KindCNAME)[0]
	tests := []struct {
		name    string
		network string
		qname   string
		qtype   uint16
		rcode   int
		tc      bool
		answers int
		err     bool
	}{
		{"A of a site", "udp", site, mdns.TypeA, mdns.RcodeSuccess, false, 1, false},
		{"A over tcp", "tcp", site, mdns.TypeA, mdns.RcodeSuccess, false, 1, false},
		{"no AAAA", "udp", site, mdns.TypeAAAA, mdns.RcodeSuccess, false, 0, false},
		{"CNAME chain to A", "udp", cname, mdns.TypeA, mdns.RcodeSuccess, false, 3, false},
		{"CNAME question", "udp", cname, mdns.TypeCNAME, mdns.RcodeSuccess, false, 1, false},
		{"unknown name", "udp", "nowhere.test", mdns.TypeA, mdns.RcodeNameError, false, 0, false},
		{"nxdomain fault", "udp", FaultHost(KindNXDomain), mdns.TypeTXT, mdns.RcodeNameError, false, 0, false},
		{"servfail", "udp", FaultHost(KindServfail), mdns.TypeA, mdns.RcodeServerFailure, false, 0, false},
		{"timeout udp", "udp", FaultHost(KindDNSTimeout), mdns.TypeA, 0, false, 0, true},
		{"timeout tcp", "tcp", FaultHost(KindDNSTimeout), mdns.TypeA, 0, false, 0, true},
		{"truncated udp", "udp", FaultHost(KindTruncatedTCPOK), mdns.TypeA, mdns.RcodeSuccess, true, 0, false},
		{"truncated then tcp", "tcp", FaultHost(KindTruncatedTCPOK), mdns.TypeA, mdns.RcodeSuccess, false, 1, false},
		{"truncated, tcp fails: udp", "udp", FaultHost(KindTruncatedTCPFail), mdns.TypeA, mdns.RcodeSuccess, true, 0, false},
		{"truncated, tcp fails: tcp", "tcp", FaultHost(KindTruncatedTCPFail), mdns.TypeA, 0, false, 0, true},
		{"www-only bare name", "udp", FaultHost(KindWWWOnly), mdns.TypeA, mdns.RcodeSuccess, false, 0, false},
		{"www-only www", "udp", "www." + FaultHost(KindWWWOnly), mdns.TypeA, mdns.RcodeSuccess, false, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := exchange(t, f, tc.network, tc.qname, tc.qtype)
			if tc.err {
				if err == nil {
					t.Fatalf("got an answer %v, want an error", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Rcode != tc.rcode || r.Truncated != tc.tc || len(r.Answer) != tc.answers {
				t.Fatalf("rcode %d tc %v answers %d; want %d %v %d\n%v", r.Rcode, r.Truncated, len(r.Answer), tc.rcode, tc.tc, tc.answers, r)
			}
			for _, rr := range r.Answer {
				if a, ok := rr.(*mdns.A); ok && !a.A.Equal(net.IPv4(127, 0, 0, 1)) {
					t.Errorf("A %v, want 127.0.0.1", a.A)
				}
			}
			if tc.answers == 0 && !tc.tc && tc.rcode != mdns.RcodeServerFailure && (len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != mdns.TypeSOA) {
				t.Errorf("negative answer without SOA: %v", r.Ns)
			}
		})
	}
}

func TestDNSVerificationFormats(t *testing.T) {
	f := startFarm(t, testConfig(40))
	openai := regexp.MustCompile(`^openai-domain-verification=dv-[A-Za-z0-9]{24}$`)
	anthropic := regexp.MustCompile(`^anthropic-domain-verification-[a-z0-9]{6}=[A-Za-z0-9]{25}$`)
	var nO, nA, split int
	for _, h := range f.Truth() {
		for _, tech := range h.Technologies {
			for _, ev := range tech.Evidence {
				if !txtRecord.MatchString(ev.Where) {
					continue
				}
				re := map[string]*regexp.Regexp{"OpenAI": openai, "Anthropic": anthropic}[tech.Name]
				if re == nil || !re.MatchString(ev.Text) {
					t.Errorf("%s: %s TXT %q has the wrong format", h.Host, tech.Name, ev.Text)
				}
			}
		}
	}
	for _, h := range f.Truth() {
		for _, name := range []string{h.Host, registrable(h.Host)} {
			if f.plan.zone[name] == nil || f.plan.zone[name].fault != dnsNormal {
				continue
			}
			for _, parts := range f.plan.zone[name].txt {
				v := parts[0]
				if len(parts) > 1 {
					split++
					v = parts[0] + parts[1]
				}
				if openai.MatchString(v) {
					nO++
				}
				if anthropic.MatchString(v) {
					nA++
				}
			}
		}
	}
	if nO == 0 || nA == 0 || split < 2 {
		t.Errorf("openai %d, anthropic %d, split records %d; want some of each", nO, nA, split)
	}
}

// TestResolverAgainstFarm resolves every farm host with internal/dns and
// compares the outcome with the truth: the DNS part of a scan.
func TestResolverAgainstFarm(t *testing.T) {
	f := startFarm(t, testConfig(120))
	r, err := aidns.New(aidns.Config{Servers: []string{f.DNSAddr()}, Timeout: 200 * time.Millisecond, Attempts: 2, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dnsStatus := map[Kind]model.Status{
		KindDNSOnly:          model.StatusDNSNoAddress,
		KindWWWOnly:          model.StatusDNSNoAddress,
		KindDNSTimeout:       model.StatusDNSTimeout,
		KindNXDomain:         model.StatusDNSNXDomain,
		KindServfail:         model.StatusDNSServfail,
		KindTruncatedTCPFail: model.StatusDNSError,
	}
	for _, h := range f.Truth() {
		t.Run(h.Host, func(t *testing.T) {
			got := r.LookupHost(context.Background(), h.Host)
			want, ok := dnsStatus[h.Kind]
			if !ok {
				want = model.StatusOK
			}
			if got.Status != want {
				t.Errorf("status %s (%v), want %s", got.Status, got.Err, want)
			}
			if !slices.Equal(got.Records, h.DNS) {
				t.Errorf("records\n got %v\nwant %v", got.Records, h.DNS)
			}
		})
	}
}
