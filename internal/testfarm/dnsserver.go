package testfarm

import (
	"net"
	"strings"

	mdns "github.com/miekg/dns"
)

const zoneTTL = 300

// soa is put in the authority section of negative answers, so resolvers
// can cache them (RFC 2308); its minimum is 60 s.
var soa = &mdns.SOA{
	Hdr:     mdns.RR_Header{Name: "test.", Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: 60},
	Ns:      "ns.farm.test.",
	Mbox:    "hostmaster.farm.test.",
	Serial:  1,
	Refresh: 3600,
	Retry:   600,
	Expire:  86400,
	Minttl:  60,
}

// ServeDNS answers like a recursive resolver for the farm's names: records
// of the zone with CNAMEs followed, NXDOMAIN for names outside it, and the
// configured misbehaviour for the DNS fault hosts. It implements
// miekg/dns.Handler and is safe for concurrent use.
func (f *Farm) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	m := new(mdns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = true
	if len(req.Question) != 1 {
		m.Rcode = mdns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	_, tcp := w.LocalAddr().(*net.TCPAddr)
	q := req.Question[0]
	name := strings.TrimSuffix(strings.ToLower(q.Name), ".")
	if e := f.plan.zone[name]; e != nil {
		switch e.fault {
		case dnsDrop:
			return
		case dnsServfail:
			m.Rcode = mdns.RcodeServerFailure
			_ = w.WriteMsg(m)
			return
		case dnsTruncate, dnsTruncateAll:
			if !tcp {
				m.Truncated = true
				_ = w.WriteMsg(m)
				return
			}
			if e.fault == dnsTruncateAll {
				_ = w.Close()
				return
			}
		}
	}
	f.answer(m, name, q.Qtype)
	size := mdns.MaxMsgSize
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(1232, false)
		if !tcp {
			size = int(opt.UDPSize())
		}
	} else if !tcp {
		size = mdns.MinMsgSize
	}
	m.Truncate(size)
	_ = w.WriteMsg(m)
}

// answer fills m from the zone, following CNAMEs inside it.
func (f *Farm) answer(m *mdns.Msg, name string, qtype uint16) {
	for hops := 0; hops < 8; hops++ {
		e := f.plan.zone[name]
		if e == nil || e.fault == dnsDrop || e.fault == dnsServfail || e.fault == dnsTruncateAll {
			if hops == 0 {
				m.Rcode = mdns.RcodeNameError
			}
			break
		}
		hdr := func(t uint16) mdns.RR_Header {
			return mdns.RR_Header{Name: mdns.Fqdn(name), Rrtype: t, Class: mdns.ClassINET, Ttl: zoneTTL}
		}
		if e.cname != "" && qtype != mdns.TypeCNAME {
			m.Answer = append(m.Answer, &mdns.CNAME{Hdr: hdr(mdns.TypeCNAME), Target: mdns.Fqdn(e.cname)})
			name = e.cname
			continue
		}
		switch qtype {
		case mdns.TypeA:
			if e.a {
				m.Answer = append(m.Answer, &mdns.A{Hdr: hdr(mdns.TypeA), A: net.IPv4(127, 0, 0, 1)})
			}
		case mdns.TypeTXT:
			for _, parts := range e.txt {
				m.Answer = append(m.Answer, &mdns.TXT{Hdr: hdr(mdns.TypeTXT), Txt: parts})
			}
		case mdns.TypeCNAME:
			if e.cname != "" {
				m.Answer = append(m.Answer, &mdns.CNAME{Hdr: hdr(mdns.TypeCNAME), Target: mdns.Fqdn(e.cname)})
			}
		case mdns.TypeMX:
			for i, mx := range e.mx {
				m.Answer = append(m.Answer, &mdns.MX{Hdr: hdr(mdns.TypeMX), Preference: uint16(10 * (i + 1)), Mx: mdns.Fqdn(mx)})
			}
		}
		break
	}
	if len(m.Answer) == 0 {
		m.Ns = append(m.Ns, mdns.Copy(soa))
	}
}
