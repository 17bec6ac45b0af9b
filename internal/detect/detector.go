package detect

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/net/html/atom"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/matcher"
)

// Options configure a Detector. The zero value is usable.
type Options struct {
	// MinConfidence drops detections whose summed confidence is lower.
	// 0 means DefaultMinConfidence; use -1 to keep every detection.
	MinConfidence int
	// MaxBodyBytes caps the bytes of a body or script examined (0 means
	// DefaultMaxBodyBytes); the rest is ignored.
	MaxBodyBytes int
	// MaxEvidence caps evidence items per detection (0 means 16).
	MaxEvidence int

	// plain disables the literal prefilters: every expression is evaluated
	// over the whole text and every static selector on every element. It
	// defines what the prefilters must reproduce (tests only).
	plain bool
}

// Defaults.
const (
	DefaultMinConfidence = 50
	DefaultMaxBodyBytes  = 16 << 20
)

// Detector evaluates a catalog against observations. It is immutable and
// safe for concurrent use.
type Detector struct {
	cat  *catalog.Catalog
	opts Options

	techIndex map[*catalog.Technology]int

	html, text, css, scripts, scriptSrc, url, robots, certIssuer, csp, xhr *fieldSet
	meta, headers, cookies, dns, jsValues                                  map[string]*fieldSet

	jsLits []jsLit                           // js property paths searched in scripts
	jsLow  []string                          // jsLits' paths, lowercase (group member)
	jsVal  map[*catalog.Pattern]*matcher.Set // value patterns of js rules

	// bodyGroup finds, in one pass over a page, the literals of the html,
	// scripts and css sets and of the static selectors; jsGroup finds js
	// property paths, only inside scripts (inline and fetched).
	bodyGroup, jsGroup *matcher.Group

	// gate, when set, holds literals one of which every page with a
	// page-level match contains (see buildGate).
	gate *matcher.Gate

	domSels      []domSel
	domLits      []string // literal of each domSels entry with one, lowercase
	domLitSel    [][]int  // domLits index -> domSels indexes
	domAlways    []int    // domSels without a usable literal
	domByKey     map[string][]*catalog.Pattern
	domRuleSets  map[*catalog.Pattern]*matcher.Set
	staticJSKeys int

	lowerPool sync.Pool
}

// fieldSet is a compiled matcher Set with the patterns its expressions came
// from.
type fieldSet struct {
	set   *matcher.Set
	pats  []*catalog.Pattern
	plain bool
}

// domSel is one complex selector of the catalog's static subset.
type domSel struct {
	selector
	key  string // the selector group as written in the catalog
	pats []*catalog.Pattern
}

// New compiles cat for detection.
func New(cat *catalog.Catalog, opts Options) (*Detector, error) {
	if opts.MinConfidence == 0 {
		opts.MinConfidence = DefaultMinConfidence
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxEvidence <= 0 {
		opts.MaxEvidence = 16
	}
	d := &Detector{cat: cat, opts: opts, techIndex: map[*catalog.Technology]int{}}
	d.lowerPool.New = func() any { return new([]byte) }
	lists := map[string][]*catalog.Pattern{}
	keyed := map[string]map[string][]*catalog.Pattern{
		catalog.SignalMeta: {}, catalog.SignalHeaders: {}, catalog.SignalCookies: {},
		catalog.SignalDNS: {}, catalog.SignalJS: {},
	}
	var jsPats []*catalog.Pattern
	d.domByKey = map[string][]*catalog.Pattern{}
	for i, t := range cat.Technologies() {
		d.techIndex[t] = i
		for _, p := range t.Patterns {
			switch p.Signal {
			case catalog.SignalMeta, catalog.SignalHeaders, catalog.SignalCookies, catalog.SignalDNS:
				keyed[p.Signal][p.Key] = append(keyed[p.Signal][p.Key], p)
			case catalog.SignalJS:
				keyed[p.Signal][p.Key] = append(keyed[p.Signal][p.Key], p)
				jsPats = append(jsPats, p)
			case catalog.SignalDOM:
				d.domByKey[p.Key] = append(d.domByKey[p.Key], p)
			case catalog.SignalProbe:
				// Active probes are not sent by aicensus; kept in the catalog only.
			default:
				lists[p.Signal] = append(lists[p.Signal], p)
			}
		}
	}
	var errs []error
	build := func(pats []*catalog.Pattern) *fieldSet {
		fs, err := newFieldSet(pats)
		if err != nil {
			errs = append(errs, err)
		}
		fs.plain = opts.plain
		return fs
	}
	// The page automaton (bodyGroup) is the most expensive part to build:
	// build its member sets first, then build it on another core while the
	// other sets compile.
	d.html = build(lists[catalog.SignalHTML])
	d.css = build(lists[catalog.SignalCSS])
	d.scripts = build(lists[catalog.SignalScripts])
	if err := d.buildJSStatic(jsPats); err != nil {
		errs = append(errs, err)
	}
	if err := d.buildDOM(); err != nil {
		errs = append(errs, err)
	}
	var groupErr, jsErr error
	groupDone := make(chan struct{})
	go func() {
		defer close(groupDone)
		d.bodyGroup, groupErr = matcher.NewGroup(d.html.set, d.scripts.set, d.css.set, d.domLits)
	}()
	d.jsGroup, jsErr = matcher.NewGroup(d.jsLow)
	if jsErr != nil {
		errs = append(errs, jsErr)
	}
	d.text = build(lists[catalog.SignalText])
	d.scriptSrc = build(lists[catalog.SignalScriptSrc])
	d.url = build(lists[catalog.SignalURL])
	d.robots = build(lists[catalog.SignalRobots])
	d.certIssuer = build(lists[catalog.SignalCertIssuer])
	d.csp = build(lists[catalog.SignalCSP])
	d.xhr = build(lists[catalog.SignalXHR])
	buildKeyed := func(m map[string][]*catalog.Pattern) map[string]*fieldSet {
		out := make(map[string]*fieldSet, len(m))
		for k, pats := range m {
			out[k] = build(pats)
		}
		return out
	}
	d.meta = buildKeyed(keyed[catalog.SignalMeta])
	d.headers = buildKeyed(keyed[catalog.SignalHeaders])
	d.cookies = buildKeyed(keyed[catalog.SignalCookies])
	d.dns = buildKeyed(keyed[catalog.SignalDNS])
	d.jsValues = buildKeyed(keyed[catalog.SignalJS])
	<-groupDone
	if groupErr != nil {
		errs = append(errs, groupErr)
	}
	if len(errs) == 0 {
		if err := d.buildGate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("detect: compile catalog %s: %w", cat.Version(), err)
	}
	return d, nil
}

// Catalog returns the catalog d was built from.
func (d *Detector) Catalog() *catalog.Catalog { return d.cat }

func newFieldSet(pats []*catalog.Pattern) (*fieldSet, error) {
	exprs := make([]string, len(pats))
	for i, p := range pats {
		exprs[i] = p.Regex
	}
	set, err := matcher.Compile(exprs)
	if err != nil {
		return &fieldSet{}, err
	}
	return &fieldSet{set: set, pats: pats}, nil
}

// scanHits is scan with the literal search done by a Group.
func (fs *fieldSet) scanHits(text, lower []byte, found []matcher.Hit, hit func(p *catalog.Pattern, text []byte, m matcher.Match)) {
	if fs == nil || fs.set == nil || fs.set.Len() == 0 {
		return
	}
	if fs.plain {
		_ = fs.set.ScanPlain(text, func(id int, m matcher.Match) { hit(fs.pats[id], text, m) })
		return
	}
	_ = fs.set.ScanHits(text, lower, found, func(id int, m matcher.Match) { hit(fs.pats[id], text, m) })
}

// scan runs fs over one text (lower may be nil) and calls hit per match.
func (fs *fieldSet) scan(text, lower []byte, hit func(p *catalog.Pattern, text []byte, m matcher.Match)) {
	if fs == nil || fs.set == nil || fs.set.Len() == 0 {
		return
	}
	// Errors come only from regexp2 timeouts on look-around expressions;
	// such an expression simply does not match this text.
	if fs.plain {
		_ = fs.set.ScanPlain(text, func(id int, m matcher.Match) { hit(fs.pats[id], text, m) })
		return
	}
	_ = fs.set.Scan(text, lower, func(id int, m matcher.Match) { hit(fs.pats[id], text, m) })
}

// buildDOM parses every dom selector: those in the static subset get a
// literal prefilter; the others are evaluated only on rendered pages.
func (d *Detector) buildDOM() error {
	d.domRuleSets = map[*catalog.Pattern]*matcher.Set{}
	keys := make([]string, 0, len(d.domByKey))
	for k := range d.domByKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	litIdx := map[string]int{}
	for _, k := range keys {
		pats := d.domByKey[k]
		for _, p := range pats {
			if p.Regex != "" && p.DOMRule != catalog.DOMExists {
				s, err := matcher.Compile([]string{p.Regex})
				if err != nil {
					return err
				}
				d.domRuleSets[p] = s
			}
		}
		group, err := parseSelectorGroup(k)
		if err != nil {
			continue // browser-only selector
		}
		for _, sel := range group {
			lit := sel.literal()
			switch {
			case len(lit) < 4 || commonAttrs[lit] || lit[0] == '<' && atom.Lookup([]byte(lit[1:])) != 0:
				// Selectors of standard tags only are checked on every
				// element of their tag: "<div" would hit on every page.
				// Custom elements ("<df-messenger") are rare literals.
				d.domAlways = append(d.domAlways, len(d.domSels))
			default:
				i, ok := litIdx[lit]
				if !ok {
					i = len(d.domLits)
					litIdx[lit] = i
					d.domLits = append(d.domLits, lit)
					d.domLitSel = append(d.domLitSel, nil)
				}
				d.domLitSel[i] = append(d.domLitSel[i], len(d.domSels))
			}
			d.domSels = append(d.domSels, domSel{selector: sel, key: k, pats: pats})
		}
	}
	return nil
}

// buildGate collects, when that is possible, the literals one of which
// must occur in a page for any page-level signal (html, scripts, css,
// scriptSrc, meta, dom, js, a CSP meta tag) to match: a page without any
// is not tokenized at all. The gate holds every literal of bodyGroup (html,
// scripts, css, dom) as given, so the page group's search starts where
// Gate.From says (TestGateBoundsPageGroup). It is not possible when a page-level pattern has
// no literal (typical of webappanalyzer), when text patterns exist (text
// can be split by markup), or when a literal holds characters HTML
// escapes; then every page takes the full path.
func (d *Detector) buildGate() error {
	if d.text.set != nil && d.text.set.Len() > 0 {
		return nil
	}
	// Raw literals are matched against the bytes as they are (html,
	// scripts, css, js paths). Decoded literals are compared with values
	// the tokenizer unescapes (script src, meta content, attributes): one
	// holding a character HTML commonly escapes could hide behind an
	// entity, so such a literal disables the gate.
	var raw, decoded []string
	for _, fs := range []*fieldSet{d.html, d.scripts, d.css, d.scriptSrc} {
		if fs.set == nil {
			continue
		}
		if fs.set.Always() > 0 {
			return nil
		}
		if fs == d.scriptSrc {
			decoded = append(decoded, fs.set.Literals()...)
		} else {
			raw = append(raw, fs.set.Literals()...)
		}
	}
	for key, fs := range d.meta {
		if fs.set.Always() > 0 {
			raw = append(raw, key) // a presence or literal-free pattern: the tag name must be there
			continue
		}
		decoded = append(decoded, fs.set.Literals()...)
	}
	if len(d.domAlways) > 0 {
		return nil
	}
	decoded = append(decoded, d.domLits...)
	if d.csp.set != nil && d.csp.set.Len() > 0 {
		raw = append(raw, "content-security-policy")
	}
	for _, l := range decoded {
		if strings.ContainsAny(l, "&<>\"'") && !strings.HasPrefix(l, "<") {
			return nil
		}
	}
	var lits []matcher.GateLiteral
	for _, l := range append(raw, decoded...) {
		lits = append(lits, matcher.GateLiteral{Lit: l})
	}
	// js paths count only as whole identifiers in their own case (see
	// jsUse and objectHasKey), so "Kapazität" does not open the gate for
	// a "Kapa" global, nor "kapa" for it.
	for _, l := range d.jsLits {
		lits = append(lits, matcher.GateLiteral{Lit: l.path, Exact: true, Ident: true})
	}
	if g, ok := matcher.NewGateOf(lits); ok {
		d.gate = g
	}
	return nil
}

// commonAttrs are attribute names too frequent to prefilter selectors by.
var commonAttrs = map[string]bool{
	"class": true, "href": true, "src": true, "style": true, "type": true, "name": true,
	"content": true, "title": true, "data-src": true, "target": true, "width": true, "height": true,
}

// DNSTypes returns the DNS record types (TXT, CNAME, MX, NS, SOA, ...) the
// catalog has patterns for, sorted: what a scanner needs to ask besides
// addresses. It is never nil.
func (d *Detector) DNSTypes() []string {
	out := []string{}
	for t := range d.dns {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Stats describes a compiled Detector.
type Stats struct {
	Technologies     int
	Patterns         int
	StaticJSPatterns int // js patterns recognisable in source code
	StaticSelectors  int // dom selectors evaluable on static HTML
}

// Stats returns counts describing d.
func (d *Detector) Stats() Stats {
	s := Stats{Technologies: d.cat.Len(), StaticJSPatterns: d.staticJSKeys, StaticSelectors: len(d.domSels)}
	for _, t := range d.cat.Technologies() {
		s.Patterns += len(t.Patterns)
	}
	return s
}
