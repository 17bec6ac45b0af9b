package warc

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/aicensus/aicensus/internal/model"
)

// ParseDNS parses the block of a dns: response record (Content-Type
// text/dns, as Heritrix writes it): an optional first line with the
// 14-digit fetch time, then resource records in zone-file syntax, one a
// line, e.g. "www.archive.org.\t589\tIN\tA\t207.241.229.39". Lines that do
// not parse are skipped; the error names the first of them (and wraps
// nothing else), so callers may use the records even when err != nil.
//
// Names are lowercased without the trailing dot; Value is the address for
// A/AAAA, the target name for CNAME, MX (exchange), NS and SOA (primary
// name server), the strings joined for TXT, and the rdata text otherwise.
func ParseDNS(block []byte) ([]model.DNSRecord, error) {
	var out []model.DNSRecord
	var bad []error
	for i, raw := range bytes.Split(block, []byte("\n")) {
		line := strings.TrimSpace(string(raw))
		if line == "" || line[0] == ';' || (i == 0 && isDigits(line)) {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil || rr == nil {
			if err == nil {
				err = errors.New("no record")
			}
			bad = append(bad, fmt.Errorf("line %d: %w", i+1, err))
			continue
		}
		out = append(out, dnsRecord(rr))
	}
	if len(bad) > 0 {
		return out, fmt.Errorf("%d unparsable dns lines, first %w", len(bad), bad[0])
	}
	return out, nil
}

func dnsRecord(rr dns.RR) model.DNSRecord {
	h := rr.Header()
	name := func(s string) string { return strings.TrimSuffix(strings.ToLower(s), ".") }
	rec := model.DNSRecord{Name: name(h.Name), Type: dns.TypeToString[h.Rrtype]}
	switch v := rr.(type) {
	case *dns.A:
		rec.Value = v.A.String()
	case *dns.AAAA:
		rec.Value = v.AAAA.String()
	case *dns.CNAME:
		rec.Value = name(v.Target)
	case *dns.MX:
		rec.Value = name(v.Mx)
	case *dns.NS:
		rec.Value = name(v.Ns)
	case *dns.SOA:
		rec.Value = name(v.Ns)
	case *dns.TXT:
		rec.Value = strings.Join(v.Txt, "")
	default:
		rec.Value = strings.TrimSpace(strings.TrimPrefix(rr.String(), h.String()))
	}
	if rec.Type == "" {
		rec.Type = fmt.Sprintf("TYPE%d", h.Rrtype)
	}
	return rec
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
