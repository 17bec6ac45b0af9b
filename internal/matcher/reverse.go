package matcher

import (
	"regexp"
	"regexp/syntax"
	"slices"
)

// Reverse-inner evaluation. For an expression A·L·B whose required literal
// L is a literal at the top level of a concatenation with a bounded,
// assertion-free prefix A (typical Wappalyzer patterns such as
// `<[^>]+data-react` or `<link[^>]+foundation`), searching windows around
// each literal hit forward is slow: every position of the window starts a
// thread that lives through A's bounded repeat. Instead, for each hit of L
// at p, the reversed A is matched anchored backwards from p, which gives
// the leftmost start s of A·L there at once, and the whole expression is
// then run anchored at s. The leftmost such s over all hits is the start of
// the leftmost match, so results equal plain evaluation.

// reverseInner holds what the strategy needs.
type reverseInner struct {
	litNode int            // index of L in the top-level concatenation
	rev     *syntax.Regexp // reversed A
	widthA  int            // maximum width of A
	fwd     *syntax.Regexp // \A anchored whole expression
}

// planReverse decides whether re (bounded, lowercased) qualifies, given the
// chosen required literals.
func planReverse(re *syntax.Regexp, literals []string) *reverseInner {
	if re.Op != syntax.OpConcat || len(literals) != 1 {
		return nil
	}
	for i, sub := range re.Sub {
		if i == 0 || sub.Op != syntax.OpLiteral || sub.Flags&syntax.FoldCase != 0 || string(sub.Rune) != literals[0] {
			continue
		}
		prefix := &syntax.Regexp{Op: syntax.OpConcat, Sub: slices.Clone(re.Sub[:i])}
		if hasAssertions(prefix) {
			return nil
		}
		w := maxWidth(prefix)
		if w == unbounded || w > maxWindowWidth {
			return nil
		}
		fwd := &syntax.Regexp{Op: syntax.OpConcat, Sub: []*syntax.Regexp{{Op: syntax.OpBeginText}, re}}
		return &reverseInner{litNode: i, rev: reverseRE(prefix), widthA: w, fwd: fwd}
	}
	return nil
}

// reverseRE returns an expression matching the reversal of what re
// matches, without captures.
func reverseRE(re *syntax.Regexp) *syntax.Regexp {
	c := *re
	c.Sub0 = [1]*syntax.Regexp{}
	c.Sub = make([]*syntax.Regexp, len(re.Sub))
	for i, s := range re.Sub {
		c.Sub[i] = reverseRE(s)
	}
	switch c.Op {
	case syntax.OpLiteral:
		c.Rune = slices.Clone(re.Rune)
		slices.Reverse(c.Rune)
	case syntax.OpConcat:
		slices.Reverse(c.Sub)
	case syntax.OpCapture:
		return c.Sub[0]
	}
	return &c
}

// compiledReverse is reverseInner compiled.
type compiledReverse struct {
	rev    *regexp.Regexp // \A(reversed A), leftmost-longest
	fwd    *regexp.Regexp // \A(whole expression)
	widthA int
}

func (r *reverseInner) compile() (*compiledReverse, error) {
	rev, err := regexp.Compile(`\A(?:` + printRE2(r.rev) + `)`)
	if err != nil {
		return nil, err
	}
	rev.Longest()
	fwd, err := regexp.Compile(printRE2(r.fwd))
	if err != nil {
		return nil, err
	}
	return &compiledReverse{rev: rev, fwd: fwd, widthA: r.widthA}, nil
}

// first returns the leftmost match given the literal hits (ascending
// starts), or nil. buf is scratch space for reversed text.
func (c *compiledReverse) first(lower []byte, hits []int32, buf *[]byte) []int {
	best := -1
	var bestIdx []int
	for _, h := range hits {
		p := int(h)
		if best >= 0 && p-c.widthA > best {
			break // no later hit can start a match before best
		}
		lo := max(0, p-c.widthA)
		rb := (*buf)[:0]
		for i := p - 1; i >= lo; i-- {
			rb = append(rb, lower[i])
		}
		*buf = rb
		m := c.rev.FindIndex(rb)
		if m == nil {
			continue
		}
		s := p - m[1]
		if best >= 0 && s >= best {
			continue
		}
		idx := c.fwd.FindSubmatchIndex(lower[s:])
		if idx == nil {
			continue
		}
		for j := range idx {
			if idx[j] >= 0 {
				idx[j] += s
			}
		}
		best, bestIdx = s, idx
	}
	return bestIdx
}
