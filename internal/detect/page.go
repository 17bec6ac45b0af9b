package detect

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// span is a byte range [start, end) of the page.
type span struct{ start, end int }

// metaTag is one <meta> with a name, property or http-equiv.
type metaTag struct{ key, content string }

// domMatch is one element matched by a candidate selector.
type domMatch struct {
	sel  int // index into Detector.domSels
	elem element
	text []byte // textContent, when a text rule needs it
}

// page is everything one streaming pass over the HTML collects.
type page struct {
	scriptSrcs []string
	inline     []span // executable inline scripts
	styles     []span
	metas      []metaTag
	cspMeta    []string
	text       []byte // visible text, when wanted
	dom        []domMatch
}

// domPlan indexes the candidate selectors of one page by what their
// rightmost compound requires.
type domPlan struct {
	byTag, byID, byClass map[string][]int
	generic              []int
	ancestors            bool // some candidate has combinators
	wantText             map[int]bool
}

func (p *domPlan) empty() bool {
	return len(p.byTag) == 0 && len(p.byID) == 0 && len(p.byClass) == 0 && len(p.generic) == 0
}

var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "param": true, "source": true, "track": true, "wbr": true,
}

// maxDOMMatches caps recorded elements per selector and page.
const (
	maxDOMMatches = 8
	maxTextBytes  = 64 << 10
)

// scanPage tokenizes body once (golang.org/x/net/html) and collects script
// sources, inline scripts, styles, meta tags, visible text (when wantText)
// and the elements matching the planned selectors.
func (d *Detector) scanPage(body []byte, plan *domPlan, wantText bool) *page {
	pg := &page{}
	z := html.NewTokenizer(bytes.NewReader(body))
	z.SetMaxBuf(0)
	off := 0
	var stack []element
	type capture struct {
		match int // index into pg.dom
		depth int
	}
	var captures []capture
	var attrs []htmlAttr
	var rattrs []rawAttr
	rawParent := "" // tag whose raw text follows
	perSel := map[int]int{}
	for {
		tt := z.Next()
		raw := z.Raw()
		start := off
		off += len(raw)
		switch tt {
		case html.ErrorToken:
			return pg
		case html.TextToken:
			var txt []byte // z.Text may be called only once per token
			if rawParent == "" && (wantText || len(captures) > 0) {
				txt = z.Text()
			}
			switch rawParent {
			case "script-code":
				pg.inline = append(pg.inline, span{start, off})
			case "style":
				pg.styles = append(pg.styles, span{start, off})
			case "":
				if wantText && len(pg.text) < maxTextBytes {
					pg.text = append(pg.text, txt...)
					pg.text = append(pg.text, ' ')
				}
			}
			if len(captures) > 0 && rawParent == "" {
				for _, c := range captures {
					m := &pg.dom[c.match]
					if len(m.text) < maxTextBytes {
						m.text = append(m.text, txt...)
					}
				}
			}
			rawParent = ""
		case html.StartTagToken, html.SelfClosingTagToken:
			rawParent = ""
			name, hasAttr := z.TagName()
			tag := tagName(name)
			domWanted := plan != nil && !plan.empty()
			// Attribute strings are built only where something reads them:
			// the few tags the page pass collects, selector candidates and
			// ancestor frames. Most elements of a page need none, and
			// without selectors to evaluate their attributes are not even
			// read (the tokenizer copies each one).
			interesting := tag == "script" || tag == "style" || tag == "meta"
			rattrs = rattrs[:0]
			for hasAttr && (interesting || domWanted || plan != nil && plan.ancestors) {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				rattrs = append(rattrs, rawAttr{k, v})
			}
			var cands []int
			if domWanted {
				cands = plan.candidatesRaw(tag, rattrs)
			}
			var el element
			if interesting || len(cands) > 0 || (plan != nil && plan.ancestors) {
				attrs = attrs[:0]
				for _, a := range rattrs {
					attrs = append(attrs, htmlAttr{key: string(a.key), val: string(a.val)})
				}
				el = element{tag: tag, attrs: attrs, start: start, end: off}
			} else {
				el = element{tag: tag, start: start, end: off}
			}
			switch tag {
			case "script":
				if src, ok := el.attr("src"); ok && src != "" {
					pg.scriptSrcs = append(pg.scriptSrcs, src)
				}
				typ, _ := el.attr("type")
				if executableScript(typ) {
					rawParent = "script-code"
				} else {
					rawParent = "script"
				}
			case "style":
				rawParent = "style"
			case "meta":
				pg.addMeta(&el)
			}
			for _, si := range cands {
				if perSel[si] >= maxDOMMatches {
					continue
				}
				if d.domSels[si].matches(&el, stack) {
					perSel[si]++
					keep := el
					keep.attrs = append([]htmlAttr(nil), el.attrs...)
					pg.dom = append(pg.dom, domMatch{sel: si, elem: keep})
					if plan.wantText[si] && tt == html.StartTagToken && !voidElements[tag] {
						captures = append(captures, capture{match: len(pg.dom) - 1, depth: len(stack) + 1})
					}
				}
			}
			if tt == html.StartTagToken && !voidElements[tag] {
				frame := element{tag: tag}
				if plan != nil && plan.ancestors {
					frame.attrs = append([]htmlAttr(nil), el.attrs...)
				}
				stack = append(stack, frame)
			}
		case html.EndTagToken:
			rawParent = ""
			name, _ := z.TagName()
			for i := len(stack) - 1; i >= 0; i-- {
				if stack[i].tag == string(name) {
					stack = stack[:i]
					break
				}
			}
			for len(captures) > 0 && captures[len(captures)-1].depth > len(stack) {
				captures = captures[:len(captures)-1]
			}
		}
	}
}

// executableScript reports whether a <script type> holds code (JSON data
// blocks and templates carry page content, not code, and are skipped so
// that words in articles never count as script evidence).
func executableScript(typ string) bool {
	t := strings.ToLower(strings.TrimSpace(typ))
	return !(strings.Contains(t, "json") || strings.Contains(t, "template") ||
		strings.Contains(t, "html") || strings.Contains(t, "x-tmpl") || strings.Contains(t, "handlebars"))
}

func (pg *page) addMeta(el *element) {
	content, ok := el.attr("content")
	if !ok {
		return
	}
	for _, k := range []string{"name", "property", "http-equiv", "itemprop"} {
		if v, ok := el.attr(k); ok && v != "" {
			key := strings.ToLower(v)
			pg.metas = append(pg.metas, metaTag{key: key, content: content})
			if k == "http-equiv" && (key == "content-security-policy" || key == "content-security-policy-report-only") {
				pg.cspMeta = append(pg.cspMeta, content)
			}
		}
	}
}

// rawAttr is an attribute as the tokenizer returns it, valid until the
// tokenizer's next token.
type rawAttr struct{ key, val []byte }

// tagName returns the tag as a string, without allocating for the tags the
// HTML spec knows.
func tagName(b []byte) string {
	if a := atom.Lookup(b); a != 0 {
		return a.String()
	}
	return string(b)
}

// candidatesRaw returns the planned selectors that may match an element,
// looking up its tag, id and classes without building strings.
func (p *domPlan) candidatesRaw(tag string, attrs []rawAttr) []int {
	var out []int
	out = append(out, p.byTag[tag]...)
	for _, a := range attrs {
		switch string(a.key) {
		case "id":
			out = append(out, p.byID[string(a.val)]...)
		case "class":
			if len(p.byClass) == 0 {
				continue
			}
			for _, c := range bytes.Fields(a.val) {
				out = append(out, p.byClass[string(c)]...)
			}
		}
	}
	return append(out, p.generic...)
}
