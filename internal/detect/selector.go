package detect

import (
	"errors"
	"strings"
)

// A selector is the subset of CSS selectors that can be evaluated on static
// HTML in one streaming pass: compound selectors (tag, *, #id, .class,
// [attr], [attr=v], [attr~=v], [attr|=v], [attr^=v], [attr$=v], [attr*=v],
// with an optional i flag) joined by descendant (space) and child (>)
// combinators, in comma-separated lists. Pseudo-classes, pseudo-elements and
// the sibling combinators (+ ~) need a browser: parseSelector reports
// errBrowserOnly for them and such dom patterns are evaluated only with
// --render.

var errBrowserOnly = errors.New("selector needs a browser")

// selector is one comma-free complex selector, rightmost compound last.
type selector struct {
	parts []compound
	combs []byte // combs[i] joins parts[i] and parts[i+1]: ' ' or '>'
}

type compound struct {
	tag     string // lowercase; "" or "*" = any
	ids     []string
	classes []string
	attrs   []attrSel
}

type attrSel struct {
	name  string // lowercase
	op    byte   // 0 (exists), '=', '~', '|', '^', '$', '*'
	value string
	fold  bool // i flag: compare case-insensitively
}

// parseSelectorGroup parses a comma-separated selector list.
func parseSelectorGroup(s string) ([]selector, error) {
	var out []selector
	for _, part := range splitTopLevel(s, ',') {
		sel, err := parseSelector(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		out = append(out, sel)
	}
	if len(out) == 0 {
		return nil, errors.New("empty selector")
	}
	return out, nil
}

// splitTopLevel splits s at sep outside quotes and brackets.
func splitTopLevel(s string, sep byte) []string {
	var out []string
	depth, quote, start := 0, byte(0), 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '(':
			depth++
		case c == ']' || c == ')':
			depth--
		case c == sep && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func parseSelector(s string) (selector, error) {
	var sel selector
	p := &selParser{s: s}
	for {
		p.skipSpace()
		if p.eof() {
			break
		}
		if len(sel.parts) > 0 {
			comb := byte(' ')
			switch p.peek() {
			case '>':
				comb = '>'
				p.i++
				p.skipSpace()
			case '+', '~':
				return sel, errBrowserOnly
			}
			sel.combs = append(sel.combs, comb)
		}
		c, err := p.compound()
		if err != nil {
			return sel, err
		}
		sel.parts = append(sel.parts, c)
	}
	if len(sel.parts) == 0 {
		return sel, errors.New("empty selector")
	}
	return sel, nil
}

type selParser struct {
	s string
	i int
}

func (p *selParser) eof() bool  { return p.i >= len(p.s) }
func (p *selParser) peek() byte { return p.s[p.i] }
func (p *selParser) skipSpace() {
	for !p.eof() && isSpace(p.peek()) {
		p.i++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func isIdent(c byte) bool {
	return c == '-' || c == '_' || c >= 0x80 || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func (p *selParser) ident() (string, error) {
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		if c == '\\' && p.i+1 < len(p.s) {
			b.WriteByte(p.s[p.i+1])
			p.i += 2
			continue
		}
		if !isIdent(c) {
			break
		}
		b.WriteByte(c)
		p.i++
	}
	if b.Len() == 0 {
		return "", errors.New("expected a name at " + p.s[p.i:])
	}
	return b.String(), nil
}

func (p *selParser) compound() (compound, error) {
	var c compound
	start := p.i
	if !p.eof() && p.peek() == '*' {
		c.tag = "*"
		p.i++
	} else if !p.eof() && isIdent(p.peek()) {
		t, _ := p.ident()
		c.tag = strings.ToLower(t)
	}
	for !p.eof() {
		switch p.peek() {
		case '#':
			p.i++
			id, err := p.ident()
			if err != nil {
				return c, err
			}
			c.ids = append(c.ids, id)
		case '.':
			p.i++
			cl, err := p.ident()
			if err != nil {
				return c, err
			}
			c.classes = append(c.classes, cl)
		case '[':
			a, err := p.attr()
			if err != nil {
				return c, err
			}
			c.attrs = append(c.attrs, a)
		case ':':
			return c, errBrowserOnly
		default:
			if p.i == start {
				return c, errors.New("unexpected " + string(p.peek()))
			}
			return c, nil
		}
	}
	return c, nil
}

func (p *selParser) attr() (attrSel, error) {
	var a attrSel
	p.i++ // [
	p.skipSpace()
	name, err := p.ident()
	if err != nil {
		return a, err
	}
	a.name = strings.ToLower(name)
	p.skipSpace()
	if p.eof() {
		return a, errors.New("unterminated [")
	}
	if p.peek() == ']' {
		p.i++
		return a, nil
	}
	switch c := p.peek(); c {
	case '=':
		a.op = '='
		p.i++
	case '~', '|', '^', '$', '*':
		if p.i+1 >= len(p.s) || p.s[p.i+1] != '=' {
			return a, errors.New("bad attribute operator")
		}
		a.op = c
		p.i += 2
	default:
		return a, errors.New("bad attribute operator")
	}
	p.skipSpace()
	if p.eof() {
		return a, errors.New("unterminated [")
	}
	if q := p.peek(); q == '"' || q == '\'' {
		p.i++
		var b strings.Builder
		for !p.eof() && p.peek() != q {
			if p.peek() == '\\' && p.i+1 < len(p.s) {
				p.i++
			}
			b.WriteByte(p.peek())
			p.i++
		}
		if p.eof() {
			return a, errors.New("unterminated string")
		}
		p.i++
		a.value = b.String()
	} else {
		v, err := p.ident()
		if err != nil {
			return a, err
		}
		a.value = v
	}
	p.skipSpace()
	if !p.eof() && (p.peek() == 'i' || p.peek() == 'I') {
		a.fold = true
		p.i++
		p.skipSpace()
	}
	if p.eof() || p.peek() != ']' {
		return a, errors.New("unterminated [")
	}
	p.i++
	return a, nil
}

// element is what the streaming pass knows of an element.
type element struct {
	tag   string
	attrs []htmlAttr
	start int // byte offset of the start tag in the page
	end   int // byte offset just past the start tag
}

type htmlAttr struct{ key, val string }

func (e *element) attr(name string) (string, bool) {
	for _, a := range e.attrs {
		if a.key == name {
			return a.val, true
		}
	}
	return "", false
}

func (c *compound) matches(e *element) bool {
	if c.tag != "" && c.tag != "*" && c.tag != e.tag {
		return false
	}
	for _, id := range c.ids {
		if v, ok := e.attr("id"); !ok || v != id {
			return false
		}
	}
	if len(c.classes) > 0 {
		cls, _ := e.attr("class")
		for _, want := range c.classes {
			if !hasWord(cls, want) {
				return false
			}
		}
	}
	for _, a := range c.attrs {
		if !a.matches(e) {
			return false
		}
	}
	return true
}

func hasWord(list, w string) bool {
	for _, f := range strings.Fields(list) {
		if f == w {
			return true
		}
	}
	return false
}

func (a *attrSel) matches(e *element) bool {
	v, ok := e.attr(a.name)
	if !ok {
		return false
	}
	want := a.value
	if a.fold {
		v, want = strings.ToLower(v), strings.ToLower(want)
	}
	switch a.op {
	case 0:
		return true
	case '=':
		return v == want
	case '~':
		return hasWord(v, want)
	case '|':
		return v == want || strings.HasPrefix(v, want+"-")
	case '^':
		return want != "" && strings.HasPrefix(v, want)
	case '$':
		return want != "" && strings.HasSuffix(v, want)
	case '*':
		return want != "" && strings.Contains(v, want)
	}
	return false
}

// matches reports whether sel matches e, given e's open ancestors (nearest
// last).
func (sel *selector) matches(e *element, ancestors []element) bool {
	last := len(sel.parts) - 1
	if !sel.parts[last].matches(e) {
		return false
	}
	return sel.matchUp(last-1, ancestors)
}

// matchUp matches parts[..i] against ancestors (nearest last), honouring
// the combinator between parts[i] and parts[i+1].
func (sel *selector) matchUp(i int, ancestors []element) bool {
	if i < 0 {
		return true
	}
	if sel.combs[i] == '>' {
		if len(ancestors) == 0 {
			return false
		}
		n := len(ancestors) - 1
		return sel.parts[i].matches(&ancestors[n]) && sel.matchUp(i-1, ancestors[:n])
	}
	for n := len(ancestors) - 1; n >= 0; n-- {
		if sel.parts[i].matches(&ancestors[n]) && sel.matchUp(i-1, ancestors[:n]) {
			return true
		}
	}
	return false
}

// literal returns a string that must occur (lowercased) in a page for sel
// to match there: the longest id, class or attribute value of the rightmost
// compound; else "<tag" for a custom element (rare by nature); else an
// attribute name; else "<tag".
func (sel *selector) literal() string {
	c := sel.parts[len(sel.parts)-1]
	best := ""
	take := func(s string) {
		if len(s) > len(best) {
			best = s
		}
	}
	for _, id := range c.ids {
		take(strings.ToLower(id))
	}
	for _, cl := range c.classes {
		take(strings.ToLower(cl))
	}
	for _, a := range c.attrs {
		if a.op != 0 && len(a.value) >= 3 && !strings.ContainsAny(a.value, "&\"'") {
			take(strings.ToLower(a.value))
		}
	}
	if best != "" {
		return best
	}
	if c.tag != "" && c.tag != "*" && strings.Contains(c.tag, "-") {
		return "<" + c.tag // custom elements have a hyphen in their name
	}
	for _, a := range c.attrs {
		take(a.name)
	}
	if len(best) < 3 && c.tag != "" && c.tag != "*" {
		best = "<" + c.tag
	}
	return best
}
