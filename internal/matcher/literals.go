package matcher

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

const (
	maxExact      = 16 // largest finite set of exact strings tracked
	maxAlternates = 64 // largest OR-set of required literals
	maxLiteralLen = 64 // longer literals stop growing (a prefix stays required)
	minLiteralLen = 2  // shorter required literals are not worth a prefilter
)

// litInfo describes a sub-expression: the finite set of strings it matches
// exactly (when known) and a set of literals one of which every match
// contains.
type litInfo struct {
	finite bool
	exact  []string
	req    []string // nil: no requirement known
}

// requiredLiterals returns literals one of which occurs in every match of re
// (over lowercased text), or nil when no useful set exists.
func requiredLiterals(re *syntax.Regexp) []string {
	li := literalInfo(re)
	best := li.req
	if li.finite && nonEmpty(li.exact) && better(li.exact, best) {
		best = li.exact
	}
	if score(best) < minLiteralLen {
		return nil
	}
	return best
}

// score is the length of the shortest literal of a requirement (0 for none).
func score(set []string) int {
	if len(set) == 0 {
		return 0
	}
	m := len(set[0])
	for _, s := range set[1:] {
		m = min(m, len(s))
	}
	return m
}

// commonFragments are substrings so frequent in HTML and JavaScript that a
// literal made of them triggers on nearly every page; rarity discounts them.
var commonFragments = []string{
	"<div", "<span", "<script", "<link", "<meta", "<img", "<html", "<head", "<body",
	"<iframe", "<input", "<style", "<table", "<a ", "<li", "<ul", "<p",
	"class=", "id=", "src=", "href=", "rel=", "type=", "style=", "content=", "name=",
	"data-", "https://", "http://", "//", "www.", ".js", ".css", ".min", ".php", ".com",
	"stylesheet", "text/javascript", "function", "return", "var ", "window.",
	"document.", "jquery", "react", "require", "/assets/", "/static/", "/wp-content/",
	"common", "desktop", "default", "content", "columns", "container", "wrapper",
	// JavaScript APIs every site calls
	"localstorage", "sessionstorage", ".getitem(", ".setitem(", "addeventlistener", "queryselector",
	"getelementby", "createelement", "appendchild", "setattribute", "innerhtml", "settimeout",
	"setinterval", "json.parse", "json.stringify", "prototype", "undefined", "navigator.", "location.",
}

// rarity is how many bytes of lit are not covered by common fragments: a
// selectivity estimate used to choose between required literals.
func rarity(lit string) int {
	covered := make([]bool, len(lit))
	for _, f := range commonFragments {
		for i := 0; ; {
			j := strings.Index(lit[i:], f)
			if j < 0 {
				break
			}
			for k := i + j; k < i+j+len(f); k++ {
				covered[k] = true
			}
			i += j + 1
		}
	}
	n := 0
	for _, c := range covered {
		if !c {
			n++
		}
	}
	return n
}

// selectivity estimates how rarely lit occurs: its uncommon bytes count in
// full, bytes of common fragments a quarter.
func selectivity(lit string) int {
	r := rarity(lit)
	return 4*r + (len(lit) - r)
}

// setSelectivity is the selectivity of a requirement's least selective
// literal, or -1 when one is too short to be worth prefiltering by.
func setSelectivity(set []string) int {
	if len(set) == 0 || score(set) < minLiteralLen {
		return -1
	}
	m := selectivity(set[0])
	for _, s := range set[1:] {
		m = min(m, selectivity(s))
	}
	return m
}

// better reports whether requirement a is more selective than b: rarer
// first, then longer, then fewer alternatives.
func better(a, b []string) bool {
	if len(a) == 0 {
		return false
	}
	if len(b) == 0 {
		return true
	}
	ra, rb := setSelectivity(a), setSelectivity(b)
	if ra != rb {
		return ra > rb
	}
	sa, sb := score(a), score(b)
	if sa != sb {
		return sa > sb
	}
	return len(a) < len(b)
}

func nonEmpty(set []string) bool {
	if len(set) == 0 {
		return false
	}
	for _, s := range set {
		if s == "" {
			return false
		}
	}
	return true
}

func literalInfo(re *syntax.Regexp) litInfo {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return litInfo{finite: true, exact: []string{""}}
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return litInfo{} // non-ASCII case folding: variants not enumerated
		}
		s := string(re.Rune)
		if len(s) > maxLiteralLen {
			return litInfo{req: []string{s[:maxLiteralLen]}}
		}
		return litInfo{finite: true, exact: []string{s}}
	case syntax.OpCharClass:
		return classInfo(re)
	case syntax.OpCapture:
		return literalInfo(re.Sub[0])
	case syntax.OpQuest:
		sub := literalInfo(re.Sub[0])
		if sub.finite && len(sub.exact) < maxExact {
			return litInfo{finite: true, exact: union(sub.exact, []string{""})}
		}
		return litInfo{}
	case syntax.OpPlus:
		sub := literalInfo(re.Sub[0])
		return litInfo{req: bestOf(sub)}
	case syntax.OpRepeat:
		if re.Min == 0 {
			return litInfo{}
		}
		sub := literalInfo(re.Sub[0])
		if re.Min == re.Max && re.Min <= 3 && sub.finite {
			acc := []string{""}
			for range re.Min {
				var ok bool
				if acc, ok = cross(acc, sub.exact); !ok {
					return litInfo{req: bestOf(sub)}
				}
			}
			return litInfo{finite: true, exact: acc}
		}
		return litInfo{req: bestOf(sub)}
	case syntax.OpConcat:
		return concatInfo(re.Sub)
	case syntax.OpAlternate:
		return alternateInfo(re.Sub)
	}
	return litInfo{}
}

// bestOf is the most selective requirement a sub-expression offers.
func bestOf(li litInfo) []string {
	best := li.req
	if li.finite && nonEmpty(li.exact) && better(li.exact, best) {
		best = li.exact
	}
	if len(best) == 0 {
		return nil
	}
	return best
}

func classInfo(re *syntax.Regexp) litInfo {
	var set []string
	for i := 0; i+1 < len(re.Rune); i += 2 {
		lo, hi := re.Rune[i], re.Rune[i+1]
		if hi-lo > 8 {
			return litInfo{}
		}
		for r := lo; r <= hi; r++ {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A' // the text is lowercased: upper case never occurs
			}
			var buf [utf8.UTFMax]byte
			s := string(buf[:utf8.EncodeRune(buf[:], r)])
			if !slices.Contains(set, s) {
				set = append(set, s)
			}
			if len(set) > 4 {
				return litInfo{}
			}
		}
	}
	if len(set) == 0 {
		return litInfo{}
	}
	return litInfo{finite: true, exact: set}
}

func concatInfo(subs []*syntax.Regexp) litInfo {
	acc := []string{""}
	finite := true
	var best []string
	consider := func(set []string) {
		if nonEmpty(set) && better(set, best) {
			best = set
		}
	}
	for _, s := range subs {
		si := literalInfo(s)
		if si.finite {
			if next, ok := cross(acc, si.exact); ok {
				acc = next
				continue
			}
			consider(acc)
			finite = false
			acc = si.exact
			continue
		}
		consider(acc)
		consider(si.req)
		finite = false
		acc = []string{""}
	}
	consider(acc)
	if finite {
		return litInfo{finite: true, exact: acc, req: best}
	}
	return litInfo{req: best}
}

func alternateInfo(subs []*syntax.Regexp) litInfo {
	var exact, req []string
	finite, hasReq := true, true
	for _, s := range subs {
		si := literalInfo(s)
		if finite && si.finite && len(exact)+len(si.exact) <= maxExact {
			exact = union(exact, si.exact)
		} else {
			finite = false
		}
		if r := bestOf(si); hasReq && r != nil && len(req)+len(r) <= maxAlternates {
			req = union(req, r)
		} else {
			hasReq = false
		}
	}
	if !hasReq {
		req = nil
	}
	return litInfo{finite: finite, exact: exact, req: req}
}

// cross returns every a+b, or false when the result would be too large.
func cross(as, bs []string) ([]string, bool) {
	if len(as)*len(bs) > maxExact {
		return nil, false
	}
	out := make([]string, 0, len(as)*len(bs))
	for _, a := range as {
		for _, b := range bs {
			if len(a)+len(b) > maxLiteralLen {
				return nil, false
			}
			out = append(out, a+b)
		}
	}
	return union(nil, out), true
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
