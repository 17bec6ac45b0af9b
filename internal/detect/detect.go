package detect

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/matcher"
	"github.com/aicensus/aicensus/internal/model"
)

// hits accumulates pattern hits of one observation, per technology.
type hits struct {
	d     *Detector
	techs map[*catalog.Technology]*techHit
	order []*catalog.Technology
}

type techHit struct {
	seen     map[*catalog.Pattern]bool
	conf     int
	versions []string
	evidence []model.Evidence
	evKeys   map[string]bool
}

func newHits(d *Detector) *hits {
	return &hits{d: d, techs: map[*catalog.Technology]*techHit{}}
}

func (h *hits) get(t *catalog.Technology) *techHit {
	th, ok := h.techs[t]
	if !ok {
		th = &techHit{seen: map[*catalog.Pattern]bool{}, evKeys: map[string]bool{}}
		h.techs[t] = th
		h.order = append(h.order, t)
	}
	return th
}

// cut returns at most model.MaxMatchBytes of s, on a UTF-8 boundary.
func cut(s string) string {
	if len(s) <= model.MaxMatchBytes {
		return s
	}
	n := model.MaxMatchBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// add records that pattern p matched: version is the resolved version ("" if
// none), match the matched text.
func (h *hits) add(p *catalog.Pattern, version, match, location, via string) {
	h.addAs(p, p.Signal, p.Class, version, match, location, via)
}

// addAs is add with the evidence's signal and class given explicitly.
func (h *hits) addAs(p *catalog.Pattern, signal string, class model.EvidenceClass, version, match, location, via string) {
	th := h.get(p.Tech)
	if !th.seen[p] {
		th.seen[p] = true
		th.conf += p.Confidence
	}
	if version != "" {
		th.versions = append(th.versions, version)
	}
	key := signal + "\x00" + p.Raw + "\x00" + p.Key + "\x00" + p.Attr + "\x00" + location
	// Keep more than MaxEvidence here: resolve sorts and then cuts, so the
	// evidence kept does not depend on evaluation order.
	if th.evKeys[key] || len(th.evidence) >= 4*h.d.opts.MaxEvidence {
		return
	}
	th.evKeys[key] = true
	th.evidence = append(th.evidence, model.Evidence{
		Signal:   signal,
		Pattern:  p.String(),
		Match:    cut(match),
		Location: location,
		Class:    class,
		Via:      via,
	})
}

// regexHit records a matcher hit over text.
func (h *hits) regexHit(p *catalog.Pattern, text []byte, m matcher.Match, location, via string) {
	groups := make([]string, len(m.Index)/2)
	for i := range groups {
		groups[i] = m.Group(text, i)
	}
	match := groups[0]
	if len(match) > model.MaxMatchBytes {
		match = string(text[m.Index[0] : m.Index[0]+model.MaxMatchBytes])
	}
	h.add(p, catalog.EvalVersion(p.Version, groups), match, location, via)
}

// Detect returns the detections for obs, sorted by technology name. It
// never modifies obs and is safe to call concurrently.
func (d *Detector) Detect(obs *model.Observation) []model.Detection {
	h := newHits(d)
	d.static(h, obs, obs.Body, model.ViaStatic)
	if r := obs.Rendered; r != nil {
		d.rendered(h, obs, r)
	}
	return d.resolve(h)
}

// location names the page for evidence.
func location(obs *model.Observation) string {
	loc := obs.URL
	if loc == "" {
		loc = obs.Host
	}
	if obs.Ref != "" {
		if loc == "" {
			return obs.Ref
		}
		return loc + " " + obs.Ref
	}
	return loc
}

// Members of bodyGroup and scriptGroup (see New).
const (
	bodyHTML = iota
	bodyScripts
	bodyCSS
	bodyDOM
	bodyMembers
)

// groupHits runs a Group over lower and returns the hits per member.
func groupHits(g *matcher.Group, lower []byte, members int) [][]matcher.Hit {
	out := make([][]matcher.Hit, members)
	g.Find(lower, func(m int, hit matcher.Hit) { out[m] = append(out[m], hit) })
	return out
}

// within returns the hits lying inside sp, with offsets relative to sp.
// hits must be ordered by End.
func within(hits []matcher.Hit, sp span) []matcher.Hit {
	lo := sort.Search(len(hits), func(i int) bool { return int(hits[i].End) > sp.start })
	var out []matcher.Hit
	for _, hit := range hits[lo:] {
		if int(hit.End) > sp.end {
			break
		}
		if int(hit.Start) >= sp.start {
			hit.Start -= int32(sp.start)
			hit.End -= int32(sp.start)
			out = append(out, hit)
		}
	}
	return out
}

// static evaluates every signal of obs that needs no browser, over body
// (obs.Body, or a rendered document).
func (d *Detector) static(h *hits, obs *model.Observation, body []byte, via string) {
	if len(body) > d.opts.MaxBodyBytes {
		body = body[:d.opts.MaxBodyBytes]
	}
	loc := location(obs)
	pg := &page{}
	// Most pages hold nothing the catalog looks for: when the gate finds
	// none of its literals, the page is neither lowercased nor tokenized.
	// When it does, its literals (which include the page group's) start
	// no earlier than from: AI snippets mostly sit at the end of a page.
	lp := d.lowerPool.Get().(*[]byte) // the page's, then each script's lowercase copy
	defer d.lowerPool.Put(lp)
	from := 0
	if d.gate != nil && !d.opts.plain && len(body) > 0 {
		from = d.gate.From(body)
	}
	if len(body) > 0 && from >= 0 {
		*lp = matcher.Lower(*lp, body)
		pg = d.pageSignals(h, body, *lp, from, loc, via)
	}
	regex := func(location string) func(*catalog.Pattern, []byte, matcher.Match) {
		return func(p *catalog.Pattern, text []byte, m matcher.Match) { h.regexHit(p, text, m, location, via) }
	}
	if via == model.ViaStatic {
		for _, s := range obs.Scripts {
			b := s.Body
			if len(b) > d.opts.MaxBodyBytes {
				b = b[:d.opts.MaxBodyBytes]
			}
			*lp = matcher.Lower(*lp, b)
			d.scripts.scan(b, *lp, regex(s.URL))
			d.jsStaticScan(h, b, groupHits(d.jsGroup, *lp, 1)[0], s.URL, via)
		}
	}
	var cspHeaders []string
	if via == model.ViaStatic {
		if obs.URL != "" {
			d.url.scan([]byte(obs.URL), nil, regex(loc))
		}
		d.headerHits(h, obs)
		if obs.CertIssuer != "" {
			d.certIssuer.scan([]byte(obs.CertIssuer), nil, regex("tls:issuer"))
		}
		if len(obs.Robots) > 0 {
			d.robots.scan(obs.Robots, nil, regex(obs.Host+"/robots.txt"))
		}
		for _, rec := range obs.DNS {
			d.dns[rec.Type].scan([]byte(rec.Value), nil, regex("dns:"+rec.Type+" "+rec.Name))
		}
		cspHeaders = append(obs.Headers["content-security-policy"], obs.Headers["content-security-policy-report-only"]...)
	}
	d.cspHits(h, cspHeaders, pg.cspMeta, via)
}

// pageSignals tokenizes body once and evaluates every page-level signal:
// html, inline scripts and their js, styles, text, script sources, meta
// tags and static dom selectors. It returns what the pass collected. No
// literal of the page group starts before from.
func (d *Detector) pageSignals(h *hits, body, lower []byte, from int, loc, via string) *page {
	bh := make([][]matcher.Hit, bodyMembers)
	d.bodyGroup.FindFrom(lower, from, func(m int, hit matcher.Hit) { bh[m] = append(bh[m], hit) })
	plan := d.planDOM(bh[bodyDOM])
	wantText := d.text.set != nil && d.text.set.Len() > 0
	var pg *page
	if skimmable(plan, wantText) && !d.opts.plain {
		pg = d.skimPage(body, plan)
	} else {
		pg = d.scanPage(body, plan, wantText)
	}
	regex := func(location string) func(*catalog.Pattern, []byte, matcher.Match) {
		return func(p *catalog.Pattern, text []byte, m matcher.Match) { h.regexHit(p, text, m, location, via) }
	}
	d.html.scanHits(body, lower, bh[bodyHTML], regex(loc))
	for i, sp := range pg.inline {
		sloc := fmt.Sprintf("%s #inline-script-%d", loc, i+1)
		seg, lseg := body[sp.start:sp.end], lower[sp.start:sp.end]
		d.scripts.scanHits(seg, lseg, within(bh[bodyScripts], sp), regex(sloc))
		d.jsStaticScan(h, seg, groupHits(d.jsGroup, lseg, 1)[0], sloc, via)
	}
	for _, sp := range pg.styles {
		d.css.scanHits(body[sp.start:sp.end], lower[sp.start:sp.end], within(bh[bodyCSS], sp), regex(loc))
	}
	if len(pg.text) > 0 {
		d.text.scan(pg.text, nil, regex(loc))
	}
	for _, src := range pg.scriptSrcs {
		d.scriptSrc.scan([]byte(src), nil, regex(loc))
	}
	for _, m := range pg.metas {
		d.meta[m.key].scan([]byte(m.content), nil, regex("meta:"+m.key))
	}
	d.domHits(h, pg, loc, via)
	return pg
}

// headerHits evaluates headers and cookies.
func (d *Detector) headerHits(h *hits, obs *model.Observation) {
	for name, vals := range obs.Headers {
		fs, ok := d.headers[name]
		if !ok {
			continue
		}
		for _, v := range vals {
			fs.scan([]byte(v), nil, func(p *catalog.Pattern, text []byte, m matcher.Match) {
				h.regexHit(p, text, m, "header:"+name, model.ViaStatic)
			})
		}
	}
	cookies := obs.Cookies
	if cookies == nil {
		cookies = parseSetCookies(obs.Headers["set-cookie"])
	}
	for name, v := range cookies {
		fs, ok := d.cookies[strings.ToLower(name)]
		if !ok {
			continue
		}
		fs.scan([]byte(v), nil, func(p *catalog.Pattern, text []byte, m matcher.Match) {
			h.regexHit(p, text, m, "cookie:"+name, model.ViaStatic)
		})
	}
}

// parseSetCookies maps cookie names to values from Set-Cookie lines.
func parseSetCookies(lines []string) map[string]string {
	out := map[string]string{}
	for _, l := range lines {
		pair, _, _ := strings.Cut(l, ";")
		name, val, ok := strings.Cut(pair, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			continue
		}
		out[name] = strings.TrimSpace(val)
	}
	return out
}

// cspHits evaluates the csp signal over every host-source of every policy.
func (d *Detector) cspHits(h *hits, headers, metas []string, via string) {
	if d.csp.set == nil || d.csp.set.Len() == 0 {
		return
	}
	do := func(policies []string, where string) {
		for _, pol := range policies {
			for _, src := range cspSources(pol) {
				d.csp.scan([]byte(src.source), nil, func(p *catalog.Pattern, text []byte, m matcher.Match) {
					h.regexHit(p, text, m, "csp:"+src.directive+" ("+where+")", via)
				})
			}
		}
	}
	do(headers, "header")
	do(metas, "meta")
}

// planDOM finds the static selectors whose literal occurs in the page
// (litHits: hits of domLits) plus the tag-only ones.
func (d *Detector) planDOM(litHits []matcher.Hit) *domPlan {
	if len(d.domSels) == 0 {
		return nil
	}
	plan := newDOMPlan()
	add := func(si int) { plan.add(&d.domSels[si], si) }
	if d.opts.plain {
		for si := range d.domSels {
			add(si)
		}
		return plan
	}
	seen := map[int32]bool{}
	for _, hit := range litHits {
		if !seen[hit.Lit] {
			seen[hit.Lit] = true
			for _, si := range d.domLitSel[hit.Lit] {
				add(si)
			}
		}
	}
	for _, si := range d.domAlways {
		add(si)
	}
	return plan
}

func newDOMPlan() *domPlan {
	return &domPlan{byTag: map[string][]int{}, byID: map[string][]int{}, byClass: map[string][]int{}, wantText: map[int]bool{}}
}

// add indexes selector si.
func (plan *domPlan) add(sel *domSel, si int) {
	c := sel.parts[len(sel.parts)-1]
	switch {
	case len(c.ids) > 0:
		plan.byID[c.ids[0]] = append(plan.byID[c.ids[0]], si)
	case len(c.classes) > 0:
		plan.byClass[c.classes[0]] = append(plan.byClass[c.classes[0]], si)
	case c.tag != "" && c.tag != "*":
		plan.byTag[c.tag] = append(plan.byTag[c.tag], si)
	default:
		plan.generic = append(plan.generic, si)
	}
	if len(sel.parts) > 1 {
		plan.ancestors = true
	}
	for _, p := range sel.pats {
		if p.DOMRule == catalog.DOMText {
			plan.wantText[si] = true
		}
	}
}

// domHits evaluates dom patterns on the elements the page pass matched.
func (d *Detector) domHits(h *hits, pg *page, loc, via string) {
	for _, m := range pg.dom {
		sel := &d.domSels[m.sel]
		snippet := tagSnippet(&m.elem)
		for _, p := range sel.pats {
			switch p.DOMRule {
			case catalog.DOMExists:
				h.add(p, "", snippet, loc, via)
			case catalog.DOMText:
				d.domRule(h, p, m.text, loc, via)
			case catalog.DOMAttribute:
				if v, ok := m.elem.attr(strings.ToLower(p.Attr)); ok {
					d.domRule(h, p, []byte(v), loc, via)
				}
			}
		}
	}
}

// domRule matches a dom text or attribute pattern against value.
func (d *Detector) domRule(h *hits, p *catalog.Pattern, value []byte, loc, via string) {
	if p.Regex == "" {
		h.add(p, "", string(value), loc, via)
		return
	}
	_ = d.domRuleSets[p].Scan(value, nil, func(_ int, m matcher.Match) { h.regexHit(p, value, m, loc, via) })
}

// tagSnippet renders an element's start tag for evidence.
func tagSnippet(e *element) string {
	var b strings.Builder
	b.WriteByte('<')
	b.WriteString(e.tag)
	for _, a := range e.attrs {
		if b.Len() > model.MaxMatchBytes {
			break
		}
		fmt.Fprintf(&b, " %s=%q", a.key, a.val)
	}
	b.WriteByte('>')
	return cut(b.String())
}

// rendered evaluates what a browser saw: globals, the live DOM, requests
// and the serialised document.
func (d *Detector) rendered(h *hits, obs *model.Observation, r *model.Rendered) {
	loc := location(obs)
	for key, fs := range d.jsValues {
		val, ok := r.Globals[key]
		if !ok {
			continue
		}
		for _, p := range fs.pats {
			if p.Regex == "" {
				h.add(p, "", key, "js:"+loc, model.ViaRendered)
				continue
			}
			vb := []byte(val)
			_ = d.jsVal[p].Scan(vb, nil, func(_ int, m matcher.Match) { h.regexHit(p, vb, m, "js:"+loc, model.ViaRendered) })
		}
	}
	for key, matches := range r.DOM {
		for _, p := range d.domByKey[key] {
			for _, m := range matches {
				switch p.DOMRule {
				case catalog.DOMExists:
					h.add(p, "", key, loc, model.ViaRendered)
				case catalog.DOMText:
					d.domRule(h, p, []byte(m.Text), loc, model.ViaRendered)
				case catalog.DOMAttribute:
					if v, ok := m.Attributes[p.Attr]; ok {
						d.domRule(h, p, []byte(v), loc, model.ViaRendered)
					}
				case catalog.DOMProperty:
					if v, ok := m.Properties[p.Attr]; ok {
						d.domRule(h, p, []byte(v), loc, model.ViaRendered)
					}
				}
			}
		}
	}
	for _, req := range r.Requests {
		u, err := url.Parse(req)
		if err != nil {
			continue
		}
		rb := []byte(req)
		d.xhr.scan([]byte(u.Host), nil, func(p *catalog.Pattern, text []byte, m matcher.Match) {
			h.regexHit(p, text, m, req, model.ViaRendered)
		})
		d.scriptSrc.scan(rb, nil, func(p *catalog.Pattern, text []byte, m matcher.Match) {
			h.regexHit(p, text, m, req, model.ViaRendered)
		})
		// A vendor host the page really requested is more than a policy
		// allowance: a script or stylesheet from it is an embed, anything
		// else (fetch, xhr, websocket) a call from the browser.
		class := model.ClassBrowserAPICall
		if isAsset(u.Path) {
			class = model.ClassPageEmbed
		}
		hostPath := []byte(cspForm(u))
		d.csp.scan(hostPath, nil, func(p *catalog.Pattern, text []byte, m matcher.Match) {
			h.addAs(p, catalog.SignalXHR, class, "", m.Group(text, 0), req, model.ViaRendered)
		})
	}
	if len(r.HTML) > 0 {
		d.static(h, obs, r.HTML, model.ViaRendered)
	}
}

// isAsset reports whether a request path names a script or stylesheet.
func isAsset(p string) bool {
	p = strings.ToLower(p)
	return strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".mjs") || strings.HasSuffix(p, ".css")
}

// cspForm writes a URL the way CSP host-sources are matched: host and path.
func cspForm(u *url.URL) string { return u.Host + u.EscapedPath() }
