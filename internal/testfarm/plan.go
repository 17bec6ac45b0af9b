package testfarm

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/aicensus/aicensus/internal/model"
)

// vhost is one name the HTTP and HTTPS servers answer for.
type vhost struct {
	name   string
	kind   Kind
	page   *page       // base page; nil for whole app pages and most faults
	embed  *embed      // snippet inserted before </body>, or the whole page
	script *scriptSpec // served at scriptPath and linked after <head>
	tls    tlsMode
	robots string // robots.txt body
}

// dnsFault is how the DNS server misbehaves for one name.
type dnsFault int

const (
	dnsNormal      dnsFault = iota
	dnsDrop                 // never answer
	dnsServfail             // SERVFAIL
	dnsTruncate             // TC over UDP, answers over TCP
	dnsTruncateAll          // TC over UDP, TCP connection closed
)

// zoneEntry holds the records of one existing name. A name without an
// entry does not exist (NXDOMAIN).
type zoneEntry struct {
	a     bool       // A 127.0.0.1
	txt   [][]string // TXT records, each a list of character-strings
	cname string     // CNAME target (then no other data)
	mx    []string   // MX exchanges, preference 10, 20, ...
	fault dnsFault
}

// txtKind says which verification records a site publishes.
type txtKind int

const (
	txtNone txtKind = iota
	txtOpenAI
	txtAnthropic
	txtBoth
	txtOpenAISplit // the OpenAI record split into two character-strings
)

// siteSpec is what one site host gets.
type siteSpec struct {
	kind    Kind
	embed   *embed
	script  *scriptSpec
	txt     txtKind
	mx      bool
	spf     bool
	longSPF bool // an SPF record longer than 255 bytes, split
}

const defaultRobots = "User-agent: *\nAllow: /\n"

// plan builds the hosts, the zone and the ground truth. It is
// deterministic in (Seed, Hosts, NoFaults, the corpus).
type plan struct {
	cfg    Config
	pages  []*page
	embeds []*embed
	rng    *rand.Rand
	vhosts map[string]*vhost
	zone   map[string]*zoneEntry
	truth  []HostTruth
}

func newPlan(cfg Config, pages []*page, embeds []*embed) *plan {
	p := &plan{
		cfg:    cfg,
		pages:  pages,
		embeds: embeds,
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x616963656e737573)),
		vhosts: make(map[string]*vhost, cfg.Hosts+64),
		zone:   make(map[string]*zoneEntry, cfg.Hosts*2+64),
	}
	specs := p.coverage()
	for i := range cfg.Hosts {
		var s siteSpec
		if i < len(specs) {
			s = specs[i]
		} else {
			s = p.randomSpec()
		}
		p.addSite(i+1, s)
	}
	if !cfg.NoFaults {
		for _, k := range FaultKinds() {
			p.addFault(k)
		}
	}
	for i := range p.truth {
		p.truth[i].DNS = p.records(p.truth[i].Host)
	}
	return p
}

// coverage lists the first site hosts so that a farm of about 25 hosts
// already shows every embed, app, script and DNS record shape once.
func (p *plan) coverage() []siteSpec {
	var out []siteSpec
	firstApp := true
	for _, e := range p.embeds {
		s := siteSpec{kind: KindEmbed, embed: e}
		if e.whole {
			s.kind = KindApp
			if firstApp {
				s.txt, firstApp = txtOpenAI, false // on the apex of chat.<site>
			}
		}
		out = append(out, s)
	}
	out[0].mx = true
	for i := range scripts {
		out = append(out, siteSpec{kind: KindScript, script: &scripts[i]})
	}
	return append(out,
		siteSpec{kind: KindPlain, txt: txtOpenAI, spf: true},
		siteSpec{kind: KindPlain, txt: txtAnthropic, mx: true},
		siteSpec{kind: KindPlain, txt: txtOpenAISplit, longSPF: true},
		siteSpec{kind: KindDNSOnly, txt: txtBoth},
		siteSpec{kind: KindCNAME, embed: p.inserts()[0]},
		siteSpec{kind: KindPlain},
	)
}

// inserts are the embeds placed into pages; apps are served whole.
func (p *plan) inserts() []*embed {
	return slices.DeleteFunc(slices.Clone(p.embeds), func(e *embed) bool { return e.whole })
}

func (p *plan) apps() []*embed {
	return slices.DeleteFunc(slices.Clone(p.embeds), func(e *embed) bool { return !e.whole })
}

func (p *plan) randomSpec() siteSpec {
	r := p.rng
	var s siteSpec
	switch n := r.IntN(100); {
	case n < 40:
		s.kind = KindPlain
	case n < 72:
		ins := p.inserts()
		s.kind, s.embed = KindEmbed, ins[r.IntN(len(ins))]
	case n < 78:
		apps := p.apps()
		s.kind, s.embed = KindApp, apps[r.IntN(len(apps))]
	case n < 86:
		s.kind, s.script = KindScript, &scripts[r.IntN(len(scripts))]
	case n < 94:
		ins := p.inserts()
		s.kind, s.embed = KindCNAME, ins[r.IntN(len(ins))]
	case n < 96:
		s.kind = KindDNSOnly
	default:
		s.kind = KindPlain
	}
	switch n := r.IntN(100); {
	case n < 5:
		s.txt = txtOpenAI
	case n < 9:
		s.txt = txtAnthropic
	case n < 11:
		s.txt = txtBoth
	case n < 12:
		s.txt = txtOpenAISplit
	}
	if s.kind == KindDNSOnly && s.txt == txtNone {
		s.txt = txtKind(1 + r.IntN(4))
	}
	s.mx = r.IntN(100) < 40
	s.spf = r.IntN(100) < 30
	s.longSPF = r.IntN(100) < 3
	return s
}

// entry returns the zone entry of name, creating it (the name exists).
func (p *plan) entry(name string) *zoneEntry {
	e := p.zone[name]
	if e == nil {
		e = &zoneEntry{}
		p.zone[name] = e
	}
	return e
}

// addSite adds site number i.
func (p *plan) addSite(i int, s siteSpec) {
	apex := fmt.Sprintf("site%05d.test", i)
	host := apex
	switch s.kind {
	case KindApp:
		host = "chat." + apex
	case KindCNAME:
		host = "www." + apex
	}
	t := HostTruth{Host: host, Kind: s.kind, Status: model.StatusOK, URL: "https://" + host + "/", HTTPStatus: 200}
	z := p.entry(apex)
	switch s.kind {
	case KindDNSOnly:
		t.Status, t.URL, t.HTTPStatus = p.cfg.Expect.DNSOnly, "", 0
	case KindApp:
		p.entry(host).a = true
	case KindCNAME:
		p.entry(host).cname = "edge." + apex
		p.entry("edge." + apex).cname = "origin." + apex
		p.entry("origin." + apex).a = true
	default:
		z.a = true
	}
	p.addTXT(&t, apex, s)
	if s.mx {
		z.mx = []string{"mx1.mail." + apex, "mx2.mail." + apex}
	}
	if s.kind != KindDNSOnly {
		v := &vhost{name: host, kind: s.kind, embed: s.embed, script: s.script, robots: defaultRobots}
		if s.embed == nil || !s.embed.whole {
			v.page = p.pickPage(s.script != nil)
		}
		p.vhosts[host] = v
		t.addServed(v)
	}
	t.normalise()
	p.truth = append(p.truth, t)
}

// addTXT publishes the site's TXT records on its apex and records the DNS
// technologies in the truth.
func (p *plan) addTXT(t *HostTruth, apex string, s siteSpec) {
	z := p.entry(apex)
	add := func(tech string, parts ...string) {
		z.txt = append(z.txt, parts)
		t.addTech(tech, "", Evidence{Where: "dns TXT " + apex, Text: strings.Join(parts, "")})
	}
	openai := "openai-domain-verification=dv-" + p.token(24, alnum)
	anthropic := "anthropic-domain-verification-" + p.token(6, lowerAlnum) + "=" + p.token(25, alnum)
	switch s.txt {
	case txtOpenAI:
		add("OpenAI", openai)
	case txtAnthropic:
		add("Anthropic", anthropic)
	case txtBoth:
		add("OpenAI", openai)
		add("Anthropic", anthropic)
	case txtOpenAISplit:
		add("OpenAI", openai[:len("openai-domain-verification=")], openai[len("openai-domain-verification="):])
	}
	if s.spf {
		z.txt = append(z.txt, []string{"v=spf1 include:_spf.mail." + apex + " -all"})
	}
	if s.longSPF {
		var b strings.Builder
		b.WriteString("v=spf1")
		for n := 1; b.Len() < 400; n++ {
			fmt.Fprintf(&b, " ip4:198.51.100.%d", n)
		}
		b.WriteString(" -all")
		z.txt = append(z.txt, chunk(b.String(), 255))
	}
}

// addServed records the technologies a served vhost shows.
func (t *HostTruth) addServed(v *vhost) {
	if e := v.embed; e != nil {
		t.addTech(e.tech, e.version, Evidence{Where: "page", Text: e.marker})
		if e.header[0] != "" {
			t.addTech(e.tech, "", Evidence{Where: "header " + e.header[0], Text: e.header[1]})
		}
	}
	if s := v.script; s != nil && v.kind != KindRobots {
		t.addTech(s.tech, "", Evidence{Where: "script " + scriptPath, Text: s.marker})
	}
}

// normalise makes Technologies non-nil so JSON shows [].
func (t *HostTruth) normalise() {
	if t.Technologies == nil {
		t.Technologies = []Tech{}
	}
}

// pickPage chooses a base page; withHead demands a <head> tag to link a
// script after.
func (p *plan) pickPage(withHead bool) *page {
	start := p.rng.IntN(len(p.pages))
	for i := range p.pages {
		pg := p.pages[(start+i)%len(p.pages)]
		if !withHead || pg.headEnd >= 0 {
			return pg
		}
	}
	return p.pages[start]
}

// fixedPage picks a page for a fault host from its name only, so fault
// hosts do not change with Hosts or Seed.
func (p *plan) fixedPage(k Kind) *page {
	h := fnv.New32a()
	h.Write([]byte(k))
	for i := range p.pages {
		pg := p.pages[(int(h.Sum32())+i)%len(p.pages)]
		if pg.headEnd >= 0 {
			return pg
		}
	}
	return p.pages[0]
}

func (p *plan) embedFile(file string) *embed {
	for _, e := range p.embeds {
		if e.file == file {
			return e
		}
	}
	panic("testfarm: no embed " + file) // embedSpecs and this file disagree: a bug
}

const (
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
)

func (p *plan) token(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[p.rng.IntN(len(alphabet))]
	}
	return string(b)
}

func chunk(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// registrable is the eTLD+1 of a farm name.
func registrable(host string) string {
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return d
}

// records computes what a resolver asking TXT, CNAME and MX of host and
// of its registrable domain, NS of the domain and A of host (for the CNAME
// chain) gets from the farm, in aicensus's DNSRecord form.
func (p *plan) records(host string) []model.DNSRecord {
	var out []model.DNSRecord
	names := []string{host}
	if apex := registrable(host); apex != host {
		names = append(names, apex)
	}
	for _, n := range names {
		out = append(out, p.follow(n, "TXT")...)
		out = append(out, p.follow(n, "CNAME")...)
		out = append(out, p.follow(n, "MX")...)
	}
	out = append(out, p.follow(host, "A")...)
	out = slices.DeleteFunc(out, func(r model.DNSRecord) bool { return r.Type == "A" })
	slices.SortFunc(out, func(a, b model.DNSRecord) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Value, b.Value))
	})
	if len(out) == 0 {
		return nil // as JSON round-trips it (omitempty)
	}
	return slices.Compact(out)
}

// follow answers one question from the zone like the farm's DNS server,
// CNAMEs followed; names whose DNS fails (other than truncation with a
// working TCP) give nothing.
func (p *plan) follow(name, qtype string) []model.DNSRecord {
	var out []model.DNSRecord
	for range 8 {
		e := p.zone[name]
		if e == nil || (e.fault != dnsNormal && e.fault != dnsTruncate) {
			return out
		}
		if e.cname != "" && qtype != "CNAME" {
			out = append(out, model.DNSRecord{Name: name, Type: "CNAME", Value: e.cname})
			name = e.cname
			continue
		}
		switch qtype {
		case "A":
			if e.a {
				out = append(out, model.DNSRecord{Name: name, Type: "A", Value: "127.0.0.1"})
			}
		case "TXT":
			for _, parts := range e.txt {
				out = append(out, model.DNSRecord{Name: name, Type: "TXT", Value: strings.Join(parts, "")})
			}
		case "CNAME":
			if e.cname != "" {
				out = append(out, model.DNSRecord{Name: name, Type: "CNAME", Value: e.cname})
			}
		case "MX":
			for _, mx := range e.mx {
				out = append(out, model.DNSRecord{Name: name, Type: "MX", Value: mx})
			}
		}
		return out
	}
	return out
}
