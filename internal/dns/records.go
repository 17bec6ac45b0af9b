package dns

import (
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"

	"github.com/aicensus/aicensus/internal/model"
)

// Records converts resource records to model.DNSRecords: owner names and
// targets lowercase without the trailing dot, the character-strings of one
// TXT record joined without separator (as Wappalyzer does) and unescaped to
// their wire bytes, MX and NS as the target host. Types other than TXT,
// CNAME, MX, NS, A and AAAA are skipped. The input is not modified.
func Records(rrs []mdns.RR) []model.DNSRecord {
	var out []model.DNSRecord
	for _, rr := range rrs {
		if rec, ok := Record(rr); ok {
			out = append(out, rec)
		}
	}
	return out
}

// Record converts one resource record; ok is false for types aicensus does
// not use and for nil.
func Record(rr mdns.RR) (rec model.DNSRecord, ok bool) {
	if rr == nil {
		return rec, false
	}
	rec.Name = canonical(rr.Header().Name)
	switch v := rr.(type) {
	case *mdns.TXT:
		rec.Type, rec.Value = "TXT", JoinTXT(v.Txt)
	case *mdns.CNAME:
		rec.Type, rec.Value = "CNAME", canonical(v.Target)
	case *mdns.MX:
		rec.Type, rec.Value = "MX", canonical(v.Mx)
	case *mdns.NS:
		rec.Type, rec.Value = "NS", canonical(v.Ns)
	case *mdns.A:
		a, okA := netip.AddrFromSlice(v.A.To4())
		if !okA {
			return rec, false
		}
		rec.Type, rec.Value = "A", a.String()
	case *mdns.AAAA:
		a, okA := netip.AddrFromSlice(v.AAAA.To16())
		if !okA {
			return rec, false
		}
		rec.Type, rec.Value = "AAAA", a.String()
	default:
		return rec, false
	}
	return rec, true
}

// JoinTXT joins the character-strings of one TXT record without separator,
// undoing miekg/dns's presentation escapes (\" \\ and \DDD) so the value is
// the record's bytes. A long verification token split into 255-byte chunks
// comes back whole.
func JoinTXT(parts []string) string {
	n, escaped := 0, false
	for _, p := range parts {
		n += len(p)
		escaped = escaped || strings.IndexByte(p, '\\') >= 0
	}
	if !escaped {
		return strings.Join(parts, "")
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range parts {
		unescapeInto(&b, p)
	}
	return b.String()
}

// unescapeInto appends s to b with \X and \DDD escapes undone. A backslash
// that starts no valid escape is kept as is.
func unescapeInto(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if d, ok := decimalEscape(s[i+1:]); ok {
			b.WriteByte(d)
			i += 3
			continue
		}
		if n := s[i+1]; n < '0' || n > '9' {
			b.WriteByte(n)
			i++
			continue
		}
		b.WriteByte(c)
	}
}

// decimalEscape decodes the DDD of a \DDD escape at the start of s.
func decimalEscape(s string) (byte, bool) {
	if len(s) < 3 {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[:3]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v > 255 {
		return 0, false
	}
	return byte(v), true
}

// canonical lowercases a domain name and drops the trailing root dot.
func canonical(name string) string {
	name = strings.ToLower(name)
	if len(name) > 1 {
		name = strings.TrimSuffix(name, ".")
	}
	return name
}

// addrsOf extracts the addresses of A and AAAA records.
func addrsOf(rrs []mdns.RR) []netip.Addr {
	var out []netip.Addr
	for _, rr := range rrs {
		switch v := rr.(type) {
		case *mdns.A:
			if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
				out = append(out, a)
			}
		case *mdns.AAAA:
			if a, ok := netip.AddrFromSlice(v.AAAA.To16()); ok {
				out = append(out, a)
			}
		}
	}
	return out
}
