package detect

import (
	"bytes"

	"golang.org/x/net/html"

	"github.com/aicensus/aicensus/internal/matcher"
)

// skimPage collects what scanPage collects when no text is wanted and no
// selector needs ancestors or text (see skimmable): script sources,
// executable inline scripts, styles, meta tags and the elements matching
// plan's selectors (plan may be nil), without the HTML tokenizer, which reads
// every byte through a function call and copies the page into its own
// buffer. It jumps from '<' to '<' with bytes.IndexByte and follows
// golang.org/x/net/html's tokenizer states exactly where they decide what
// is markup: tags and their quoted attributes, comments, doctypes and
// bogus comments, raw-text elements, and the script data escape states
// (ported from its token.go, BSD licence). Attribute values the tokenizer
// would rewrite (character references, CR, NUL) are taken from the
// tokenizer run on that one tag. TestSkimLikeScanPage and FuzzSkimPage
// hold it to scanPage's output.
func (d *Detector) skimPage(b []byte, plan *domPlan) *page {
	pg := &page{}
	sk := &skimmer{d: d, plan: plan, pg: pg}
	if plan != nil && plan.empty() {
		sk.plan = nil
	}
	n := len(b)
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			return pg
		}
		i += j
		if i+1 >= n {
			return pg
		}
		switch c := b[i+1]; {
		case isASCIILetter(c):
			e, ok := sk.startTag(b, i)
			if !ok {
				return pg
			}
			i = e
		case c == '/':
			if i+2 >= n {
				return pg
			}
			switch c2 := b[i+2]; {
			case c2 == '>':
				i += 3
			case isASCIILetter(c2):
				t, ok := scanTag(b, i+2, sk.attrs[:0])
				if !ok {
					return pg
				}
				sk.attrs = t.attrs
				i = t.end
			default:
				i = closeAngle(b, i+2)
			}
		case c == '!':
			i = skimMarkup(b, i)
		case c == '?':
			i = closeAngle(b, i+1)
		default:
			i++
		}
		if i >= n {
			return pg
		}
	}
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// closeAngle returns the position after the first '>' at or after i, or
// len(b) (readUntilCloseAngle).
func closeAngle(b []byte, i int) int {
	if k := bytes.IndexByte(b[i:], '>'); k >= 0 {
		return i + k + 1
	}
	return len(b)
}

// skimMarkup returns where the "<!" token at b[i:] ends
// (readMarkupDeclaration: a comment, a doctype or a bogus comment).
func skimMarkup(b []byte, i int) int {
	if i+3 >= len(b) {
		return len(b) // a bogus comment cut by the end
	}
	if b[i+2] == '-' && b[i+3] == '-' {
		return commentEnd(b, i+4)
	}
	// A doctype and a bogus comment both end at the next '>' ("DOCTYPE"
	// and the white space after it hold none).
	return closeAngle(b, i+2)
}

// commentEnd returns where a comment whose "<!--" ends at p ends
// (readComment).
func commentEnd(b []byte, p int) int {
	dashes, beginning := 0, true
	for p < len(b) {
		c := b[p]
		p++
		switch c {
		case '-':
			dashes++
			continue
		case '>':
			if dashes >= 2 || beginning {
				return p
			}
		case '!':
			if dashes >= 2 {
				if p >= len(b) {
					return len(b)
				}
				c = b[p]
				p++
				if c == '>' {
					return p
				}
				if c == '-' {
					dashes, beginning = 1, false
					continue
				}
			}
		}
		dashes, beginning = 0, false
	}
	return len(b)
}

// tagScan is one tag as readTag reads it: the name, the attributes with a
// name (raw spans; the first of each lowercased name kept, as the
// tokenizer keeps it) and the position after the tag.
type tagScan struct {
	name  []byte
	attrs []attrSpan
	end   int
}

type attrSpan struct{ ks, ke, vs, ve int }

// scanTag reads the tag whose name starts at b[p] (readTagName,
// readTagAttrKey, readTagAttrVal), appending its attributes to attrs. ok
// is false when the input ends inside the tag (the tokenizer then reports
// an error and stops).
func scanTag(b []byte, p int, attrs []attrSpan) (t tagScan, ok bool) {
	t.attrs = attrs
	n := len(b)
	i := p
	for i < n && !isSpace(b[i]) && b[i] != '/' && b[i] != '>' {
		i++
	}
	t.name = b[p:i]
	if i < n && isSpace(b[i]) {
		i++
	}
	for {
		if i = skipSpaces(b, i); i >= n {
			return t, false
		}
		if b[i] == '>' {
			t.end = i + 1
			return t, true
		}
		ks := i
		for i < n {
			c := b[i]
			if c == '=' && i == ks {
				i++
				continue
			}
			if c == '=' || c == '/' || c == '>' || isSpace(c) {
				break
			}
			i++
		}
		ke := i
		vs, ve := i, i
		j := skipSpaces(b, i)
		if j >= n {
			return t, false
		}
		switch b[j] {
		case '/':
			i = j + 1
		case '=':
			if j = skipSpaces(b, j+1); j >= n {
				return t, false
			}
			switch q := b[j]; q {
			case '>':
				i = j
			case '"', '\'':
				k := bytes.IndexByte(b[j+1:], q)
				if k < 0 {
					return t, false
				}
				vs, ve = j+1, j+1+k
				i = ve + 1
			default:
				k := j
				for k < n && !isSpace(b[k]) && b[k] != '>' {
					k++
				}
				if k >= n {
					return t, false
				}
				vs, ve, i = j, k, k
			}
		default:
			i = j
		}
		if ks < ke {
			t.attrs = append(t.attrs, attrSpan{ks, ke, vs, ve})
		}
	}
}

// attr returns the value of the first attribute called name (lowercase).
// decoded is false when the tokenizer would rewrite it (or its key).
func (t *tagScan) attr(b []byte, name string) (val []byte, found, decoded bool) {
	for _, a := range t.attrs {
		if bytes.IndexByte(b[a.ks:a.ke], 0) >= 0 {
			return nil, false, false
		}
		if equalFoldASCII(b[a.ks:a.ke], name) {
			v := b[a.vs:a.ve]
			return v, true, !bytes.ContainsAny(v, "&\r\x00")
		}
	}
	return nil, false, true
}

// skimmer is the state of one skimPage.
type skimmer struct {
	d      *Detector
	plan   *domPlan // nil: no selectors
	pg     *page
	perSel map[int]int
	attrs  []attrSpan // scanTag's buffer
}

// startTag handles the start tag at b[i:] and, for raw-text elements, the
// text after it; it returns where the next token starts.
func (sk *skimmer) startTag(b []byte, i int) (int, bool) {
	t, ok := scanTag(b, i+1, sk.attrs[:0])
	if !ok {
		return 0, false
	}
	sk.attrs = t.attrs // reused by the next tag: t does not outlive this call
	pg := sk.pg
	name := lowerTagName(t.name)
	if sk.plan != nil {
		sk.elementCandidates(b, i, &t, name)
	}
	switch name {
	case "script":
		src, typ, ok := t.strAttrs(b, "src", "type")
		if !ok {
			src, typ, _ = tokenizerTagAttrs(b[i:], "src", "type")
		}
		if src != "" {
			pg.scriptSrcs = append(pg.scriptSrcs, src)
		}
		end := scriptEnd(b, t.end)
		if end > t.end && executableScript(typ) {
			pg.inline = append(pg.inline, span{t.end, end})
		}
		return end, true
	case "meta":
		skimMeta(b, i, &t, pg)
	case "plaintext":
		return len(b), true
	case "style", "iframe", "noembed", "noframes", "noscript", "textarea", "title", "xmp":
		end := rawTextEnd(b, t.end, name)
		if name == "style" && end > t.end {
			pg.styles = append(pg.styles, span{t.end, end})
		}
		return end, true
	}
	return t.end, true
}

// lowerTagName returns the tag name lowercased, as the tokenizer's
// TagName gives it, without allocating for the names the HTML spec knows.
func lowerTagName(name []byte) string {
	var buf [24]byte
	if len(name) > len(buf) || bytes.IndexByte(name, 0) >= 0 {
		return string(matcher.Lower(nil, bytes.ReplaceAll(name, []byte{0}, []byte("\uFFFD"))))
	}
	low := buf[:len(name)]
	for k, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[k] = c
	}
	return tagName(low)
}

// elementCandidates evaluates the planned selectors on the element of the
// start tag t at b[i:], as scanPage does for one without ancestors.
func (sk *skimmer) elementCandidates(b []byte, i int, t *tagScan, tag string) {
	plan := sk.plan
	cands := append([]int(nil), plan.byTag[tag]...)
	var seenID, seenClass bool
	for _, a := range t.attrs {
		key, val := b[a.ks:a.ke], b[a.vs:a.ve]
		isID, isClass := !seenID && equalFoldASCII(key, "id"), !seenClass && equalFoldASCII(key, "class")
		if !isID && !isClass {
			continue
		}
		if bytes.ContainsAny(val, "&\r\x00") {
			// The tokenizer decodes it: take its attributes.
			var raw []rawAttr
			for _, ha := range tokenizerAttrs(b[i:]) {
				raw = append(raw, rawAttr{[]byte(ha.key), []byte(ha.val)})
			}
			sk.match(plan.candidatesRaw(tag, raw), b, i, t, tag)
			return
		}
		if isID {
			seenID = true
			cands = append(cands, plan.byID[string(val)]...)
		} else {
			seenClass = true
			for c := range bytes.FieldsSeq(val) {
				cands = append(cands, plan.byClass[string(c)]...)
			}
		}
	}
	sk.match(append(cands, plan.generic...), b, i, t, tag)
}

// match records the element of t for every candidate selector it matches.
func (sk *skimmer) match(cands []int, b []byte, i int, t *tagScan, tag string) {
	if len(cands) == 0 {
		return
	}
	el := element{tag: tag, attrs: t.decodedAttrs(b, i), start: i, end: t.end}
	for _, si := range cands {
		if sk.perSel[si] >= maxDOMMatches {
			continue
		}
		if sk.d.domSels[si].matches(&el, nil) {
			if sk.perSel == nil {
				sk.perSel = map[int]int{}
			}
			sk.perSel[si]++
			keep := el
			keep.attrs = append([]htmlAttr(nil), el.attrs...)
			sk.pg.dom = append(sk.pg.dom, domMatch{sel: si, elem: keep})
		}
	}
}

// decodedAttrs returns the tag's attributes as the tokenizer gives them:
// the first of each lowercased name, values decoded.
func (t *tagScan) decodedAttrs(b []byte, i int) []htmlAttr {
	out := make([]htmlAttr, 0, len(t.attrs))
	for _, a := range t.attrs {
		key, val := b[a.ks:a.ke], b[a.vs:a.ve]
		if bytes.IndexByte(key, 0) >= 0 || bytes.ContainsAny(val, "&\r\x00") {
			return tokenizerAttrs(b[i:])
		}
		k := string(matcher.Lower(nil, key)) // ASCII only, as the tokenizer lowercases names
		dup := false
		for _, o := range out {
			if o.key == k {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, htmlAttr{key: k, val: string(val)})
		}
	}
	return out
}

// strAttrs returns two attribute values; ok is false when one of them
// needs the tokenizer's decoding.
func (t *tagScan) strAttrs(b []byte, a, c string) (va, vc string, ok bool) {
	v1, _, ok1 := t.attr(b, a)
	v2, _, ok2 := t.attr(b, c)
	return string(v1), string(v2), ok1 && ok2
}

// skimMeta records a <meta> as page.addMeta does.
func skimMeta(b []byte, i int, t *tagScan, pg *page) {
	keys := [...]string{"content", "name", "property", "http-equiv", "itemprop"}
	var el element
	for _, k := range keys {
		v, found, decoded := t.attr(b, k)
		if !decoded {
			el = element{tag: "meta", attrs: tokenizerAttrs(b[i:])}
			pg.addMeta(&el)
			return
		}
		if found {
			el.attrs = append(el.attrs, htmlAttr{key: k, val: string(v)})
		}
	}
	pg.addMeta(&el)
}

// tokenizerAttrs returns the attributes of the start tag at the beginning
// of rest as the tokenizer gives them.
func tokenizerAttrs(rest []byte) []htmlAttr {
	z := html.NewTokenizer(bytes.NewReader(rest))
	if tt := z.Next(); tt != html.StartTagToken && tt != html.SelfClosingTagToken {
		return nil
	}
	var out []htmlAttr
	_, more := z.TagName()
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		out = append(out, htmlAttr{key: string(k), val: string(v)})
	}
	return out
}

// rawTextEnd returns where the raw text of tag (lowercase), starting at p,
// ends: at its end tag, or at the end of b (readRawOrRCDATA).
func rawTextEnd(b []byte, p int, tag string) int {
	for {
		k := bytes.Index(b[p:], []byte("</"))
		if k < 0 {
			return len(b)
		}
		p += k
		if ok, eof := rawEndTagAt(b, p, tag); ok || eof {
			if eof {
				return len(b)
			}
			return p
		}
		p += 2
	}
}

// rawEndTagAt reports whether "</tag" followed by white space, '/' or '>'
// starts at b[p] (readRawEndTag), and whether the input ended before that
// was known.
func rawEndTagAt(b []byte, p int, tag string) (ok, eof bool) {
	q := p + 2
	for k := 0; k < len(tag); k++ {
		if q+k >= len(b) {
			return false, true
		}
		if c := b[q+k]; c != tag[k] && c != tag[k]-('a'-'A') {
			return false, false
		}
	}
	q += len(tag)
	if q >= len(b) {
		return false, true
	}
	switch b[q] {
	case ' ', '\n', '\r', '\t', '\f', '/', '>':
		return true, false
	}
	return false, false
}

// scriptEnd returns where script data starting at p ends, following the
// script data escape states of the tokenizer's readScript.
func scriptEnd(b []byte, p int) int {
	n := len(b)
	// endTag tries "</script" at p (p at '<'); it returns the end of the
	// text, or -1 to go on from p+2.
	endTag := func(p int) (int, bool) {
		ok, eof := rawEndTagAt(b, p, "script")
		switch {
		case eof:
			return n, true
		case ok:
			return p, true
		}
		return 0, false
	}
	const (
		data = iota
		escaped
		escapedDash
		escapedDashDash
		doubleEscaped
		doubleEscapedDash
		doubleEscapedDashDash
	)
	state := data
	for p < n {
		if state == data {
			k := bytes.IndexByte(b[p:], '<')
			if k < 0 {
				return n
			}
			p += k + 1 // after '<'
			if p >= n {
				return n
			}
			switch b[p] {
			case '/':
				if end, done := endTag(p - 1); done {
					return end
				}
				p++
			case '!':
				// scriptDataEscapeStart / EscapeStartDash
				if p+1 >= n {
					return n
				}
				if b[p+1] != '-' {
					p++
					continue
				}
				if p+2 >= n {
					return n
				}
				if b[p+2] != '-' {
					p += 2
					continue
				}
				p += 3
				state = escapedDashDash
			}
			continue
		}
		c := b[p]
		p++
		switch state {
		case escaped, escapedDash, escapedDashDash:
			switch {
			case c == '-':
				if state == escaped {
					state = escapedDash
				} else {
					state = escapedDashDash
				}
			case c == '<':
				// scriptDataEscapedLessThanSign
				if p >= n {
					return n
				}
				c = b[p]
				p++
				switch {
				case c == '/':
					if end, done := endTag(p - 2); done {
						return end
					}
					state = escaped
				case isASCIILetter(c):
					p-- // reconsume: scriptDataDoubleEscapeStart
					state = escaped
					k := 0
					for ; k < len("script"); k++ {
						if p+k >= n {
							return n
						}
						if d := b[p+k]; d != "script"[k] && d != "SCRIPT"[k] {
							break
						}
					}
					if k < len("script") {
						p += k
						continue
					}
					p += k
					if p >= n {
						return n
					}
					switch b[p] {
					case ' ', '\n', '\r', '\t', '\f', '/', '>':
						p++
						state = doubleEscaped
					}
				default:
					p-- // reconsume in script data
					state = data
				}
			case c == '>' && state == escapedDashDash:
				state = data
			default:
				state = escaped
			}
		default: // doubleEscaped, doubleEscapedDash, doubleEscapedDashDash
			switch {
			case c == '-':
				if state == doubleEscaped {
					state = doubleEscapedDash
				} else {
					state = doubleEscapedDashDash
				}
			case c == '<':
				// scriptDataDoubleEscapedLessThanSign
				if p >= n {
					return n
				}
				if b[p] != '/' {
					state = doubleEscaped // reconsume
					continue
				}
				p++
				ok, eof := rawEndTagAt(b, p-2, "script")
				switch {
				case ok:
					p = p - 2 + len("</script>")
					state = escaped
				case eof:
					return n
				default:
					state = doubleEscaped
					p = mismatchAt(b, p, "script")
				}
			case c == '>' && state == doubleEscapedDashDash:
				state = data
			default:
				state = doubleEscaped
			}
		}
	}
	return n
}

// mismatchAt returns the position of the first byte after p that does not
// continue tag (case-insensitively), where readRawEndTag stops reading.
func mismatchAt(b []byte, p int, tag string) int {
	for k := 0; k < len(tag) && p < len(b); k++ {
		if c := b[p]; c != tag[k] && c != tag[k]-('a'-'A') {
			return p
		}
		p++
	}
	return p
}

// skimmable reports whether skimPage collects all scanPage would: no text
// wanted, and no planned selector with combinators or a text rule.
func skimmable(plan *domPlan, wantText bool) bool {
	return !wantText && (plan == nil || plan.empty() || !plan.ancestors && len(plan.wantText) == 0)
}
