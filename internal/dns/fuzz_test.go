package dns

import (
	"slices"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

// FuzzUnpack feeds arbitrary reply bytes through miekg/dns's parser into
// Records and checks the conversion's contract: canonical names, one record
// per supported RR, and a stable result after re-packing.
func FuzzUnpack(f *testing.F) {
	for _, z := range []string{
		`example.test. 300 IN TXT "` + openaiTXT + `" "more"`,
		`example.test. 300 IN TXT "quote\"back\\slash\001end"`,
		`Www.Example.Test. 300 IN CNAME Edge.CDN.test.`,
		`example.test. 300 IN MX 10 mx1.example.test.`,
		`example.test. 300 IN NS ns1.example.test.`,
		`example.test. 300 IN A 192.0.2.1`,
		`example.test. 300 IN AAAA 2001:db8::1`,
		`example.test. 300 IN SOA ns.test. h.test. 1 2 3 4 5`,
	} {
		m := new(mdns.Msg)
		m.SetQuestion("example.test.", mdns.TypeTXT)
		rr, err := mdns.NewRR(z)
		if err != nil {
			f.Fatal(err)
		}
		m.Answer = append(m.Answer, rr)
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(mdns.Msg)
		if err := m.Unpack(b); err != nil {
			return
		}
		recs := Records(m.Answer)
		supported := 0
		for _, rr := range m.Answer {
			if _, ok := Record(rr); ok {
				supported++
			}
		}
		if len(recs) != supported {
			t.Fatalf("%d records from %d supported RRs", len(recs), supported)
		}
		for _, r := range recs {
			if r.Name != strings.ToLower(r.Name) || (len(r.Name) > 1 && strings.HasSuffix(r.Name, ".")) {
				t.Fatalf("name not canonical: %q", r.Name)
			}
		}
		packed, err := m.Pack()
		if err != nil {
			return
		}
		m2 := new(mdns.Msg)
		if err := m2.Unpack(packed); err != nil {
			// miekg/dns does not round-trip every RR it accepts (an SOA
			// with empty rdata packs to bytes it rejects); not ours.
			return
		}
		if again := Records(m2.Answer); !slices.Equal(recs, again) {
			t.Fatalf("records changed after re-pack:\n%v\n%v", recs, again)
		}
	})
}

// FuzzJoinTXT builds TXT rdata from arbitrary bytes, unpacks it with
// miekg/dns (which escapes quotes, backslashes and unprintable bytes) and
// checks that JoinTXT gives the original bytes back.
func FuzzJoinTXT(f *testing.F) {
	f.Add([]byte(openaiTXT), uint8(27))
	f.Add([]byte("quote\"back\\slash\x01\xffend\\123"), uint8(3))
	f.Add([]byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		if len(data) > 4000 {
			return
		}
		var rdata []byte
		chunk := int(cut)%255 + 1
		for rest := data; len(rest) > 0; {
			n := min(chunk, len(rest))
			rdata = append(rdata, byte(n))
			rdata = append(rdata, rest[:n]...)
			rest = rest[n:]
		}
		if len(rdata) == 0 {
			rdata = []byte{0}
		}
		wire := []byte{0} // root owner name
		wire = append(wire, 0, 16, 0, 1, 0, 0, 0, 60, byte(len(rdata)>>8), byte(len(rdata)))
		wire = append(wire, rdata...)
		rr, _, err := mdns.UnpackRR(wire, 0)
		if err != nil {
			t.Fatalf("unpack built TXT: %v", err)
		}
		txt, ok := rr.(*mdns.TXT)
		if !ok {
			t.Fatalf("got %T", rr)
		}
		if got := JoinTXT(txt.Txt); got != string(data) {
			t.Fatalf("JoinTXT(%q) = %q, want %q", txt.Txt, got, data)
		}
	})
}
