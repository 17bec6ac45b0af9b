package matcher

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// MaxRepeat bounds unbounded repeats, as Wappalyzer does: x* matches at most
// MaxRepeat x's, x+ between 1 and MaxRepeat.
const MaxRepeat = 250

// parseFlags are Wappalyzer's JavaScript semantics in RE2 terms: Perl
// syntax, case-insensitive, ^ and $ at text edges, '.' not matching \n.
const parseFlags = syntax.Perl | syntax.FoldCase

// unbounded marks an expression whose match width has no bound.
const unbounded = -1

// analysis is what Compile learns about one expression.
type analysis struct {
	re2        *syntax.Regexp // RE2 form to compile (lazily: String is costly), run over lowercased text
	lookaround bool           // needs regexp2 over the original text
	groups     int            // capture groups
	literals   []string       // one of these occurs in every match ("" set: none known)
	width      int            // maximum match width in bytes, or unbounded
	assertions bool           // contains ^ $ \A \z \b \B
	reverse    *reverseInner  // reverse-inner strategy, when it applies
}

// ErrLookaround reports syntax RE2 cannot express; Compile then uses regexp2.
var errLookaround = errors.New("look-around")

// Validate reports whether expr is an expression the matcher accepts and how
// many capture groups it has.
func Validate(expr string) (groups int, err error) {
	re, err := syntax.Parse(expr, parseFlags)
	if err == nil {
		return re.MaxCap(), nil
	}
	if !needsLookaround(err) {
		return 0, err
	}
	if _, err2 := regexp2.Compile(expr, regexp2.IgnoreCase|regexp2.ECMAScript); err2 != nil {
		return 0, fmt.Errorf("%w (also invalid for regexp2: %v)", err, err2)
	}
	if _, err := syntax.Parse(stripLookaround(expr), parseFlags); err != nil {
		return 0, fmt.Errorf("%w (look-around removed: %v)", errLookaround, err)
	}
	return countGroups(expr), nil
}

// analyze parses expr and derives everything Compile needs.
func analyze(expr string) (analysis, error) {
	var a analysis
	re, err := syntax.Parse(expr, parseFlags)
	if err != nil {
		if !needsLookaround(err) {
			return a, err
		}
		// RE2 cannot express it: keep the original for regexp2 and derive
		// literals from the expression with look-around removed, which
		// matches a superset, so its required literals are required too.
		if _, err2 := regexp2.Compile(expr, regexp2.IgnoreCase|regexp2.ECMAScript); err2 != nil {
			return a, fmt.Errorf("%w (also invalid for regexp2: %v)", err, err2)
		}
		stripped := stripLookaround(expr)
		re, err = syntax.Parse(stripped, parseFlags)
		if err != nil {
			return a, fmt.Errorf("%w (look-around removed: %v)", errLookaround, err)
		}
		a.lookaround = true
		a.groups = countGroups(expr)
		lowerLiterals(re)
		a.literals = requiredLiterals(re)
		a.width = unbounded
		a.assertions = true
		return a, nil
	}
	a.groups = re.MaxCap()
	lowerLiterals(re)
	a.assertions = hasAssertions(re)
	a.literals = requiredLiterals(re)
	a.re2 = boundRepeats(re)
	a.width = maxWidth(a.re2)
	a.reverse = planReverse(a.re2, a.literals)
	return a, nil
}

func needsLookaround(err error) bool {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case syntax.ErrInvalidPerlOp, syntax.ErrInvalidNamedCapture, syntax.ErrInvalidEscape:
		return strings.Contains(se.Expr, "(?=") || strings.Contains(se.Expr, "(?!") ||
			strings.Contains(se.Expr, "(?<=") || strings.Contains(se.Expr, "(?<!") ||
			strings.HasPrefix(se.Expr, `\`) // back-reference
	}
	return false
}

// stripLookaround removes (?=...), (?!...), (?<=...) and (?<!...) groups,
// honouring escapes, classes and nesting.
func stripLookaround(expr string) string {
	var b strings.Builder
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		if c == '\\' && i+1 < len(expr) {
			b.WriteString(expr[i : i+2])
			i++
			continue
		}
		if c == '[' {
			j := classEnd(expr, i)
			b.WriteString(expr[i:j])
			i = j - 1
			continue
		}
		if c == '(' && (strings.HasPrefix(expr[i:], "(?=") || strings.HasPrefix(expr[i:], "(?!") ||
			strings.HasPrefix(expr[i:], "(?<=") || strings.HasPrefix(expr[i:], "(?<!")) {
			i = groupEnd(expr, i) - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// classEnd returns the index just past the character class starting at i.
func classEnd(s string, i int) int {
	j := i + 1
	if j < len(s) && s[j] == '^' {
		j++
	}
	if j < len(s) && s[j] == ']' {
		j++
	}
	for ; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case ']':
			return j + 1
		}
	}
	return len(s)
}

// groupEnd returns the index just past the group starting at i.
func groupEnd(s string, i int) int {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '[':
			j = classEnd(s, j) - 1
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(s)
}

// countGroups counts capturing groups in an ECMAScript expression.
func countGroups(s string) int {
	n := 0
	for j := 0; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '[':
			j = classEnd(s, j) - 1
		case '(':
			if j+1 < len(s) && s[j+1] == '?' {
				if strings.HasPrefix(s[j:], "(?<") && !strings.HasPrefix(s[j:], "(?<=") && !strings.HasPrefix(s[j:], "(?<!") {
					n++ // named group
				}
				continue
			}
			n++
		}
	}
	return n
}

// foldFree reports whether r has no other case forms.
func foldFree(r rune) bool { return unicode.SimpleFold(r) == r }

// lowerLiterals rewrites case-folded literals made only of ASCII (or runes
// without case) into plain lowercase literals, so they match the lowercased
// text without (?i) and give the regexp engine a literal prefix to skip by.
func lowerLiterals(re *syntax.Regexp) {
	if re.Op == syntax.OpLiteral && re.Flags&syntax.FoldCase != 0 {
		ok := true
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf && !foldFree(r) {
				ok = false
				break
			}
		}
		if ok {
			for i, r := range re.Rune {
				if 'A' <= r && r <= 'Z' {
					re.Rune[i] = r + 'a' - 'A'
				}
			}
			re.Flags &^= syntax.FoldCase
		}
	}
	for _, s := range re.Sub {
		lowerLiterals(s)
	}
}

func hasAssertions(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	for _, s := range re.Sub {
		if hasAssertions(s) {
			return true
		}
	}
	return false
}

// boundRepeats returns a copy of re with every unbounded repeat bounded by
// MaxRepeat.
func boundRepeats(re *syntax.Regexp) *syntax.Regexp {
	c := *re
	c.Sub = make([]*syntax.Regexp, len(re.Sub))
	for i, s := range re.Sub {
		c.Sub[i] = boundRepeats(s)
	}
	c.Sub0 = [1]*syntax.Regexp{}
	switch c.Op {
	case syntax.OpStar:
		c.Op, c.Min, c.Max = syntax.OpRepeat, 0, MaxRepeat
	case syntax.OpPlus:
		c.Op, c.Min, c.Max = syntax.OpRepeat, 1, MaxRepeat
	case syntax.OpRepeat:
		if c.Max == -1 {
			c.Max = max(c.Min, MaxRepeat)
		}
	}
	return &c
}

// maxWidth is the longest match re can produce, in bytes, or unbounded.
func maxWidth(re *syntax.Regexp) int {
	const cap = 1 << 24
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpNoMatch:
		return 0
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				n += utf8.UTFMax
			} else {
				n += utf8.RuneLen(r)
			}
		}
		return n
	case syntax.OpCharClass:
		w := 0
		for i := 1; i < len(re.Rune); i += 2 {
			w = max(w, utf8.RuneLen(min(re.Rune[i], unicode.MaxRune)))
		}
		return w
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax
	case syntax.OpCapture:
		return maxWidth(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return unbounded
	case syntax.OpQuest:
		return maxWidth(re.Sub[0])
	case syntax.OpRepeat:
		if re.Max < 0 {
			return unbounded
		}
		w := maxWidth(re.Sub[0])
		if w == unbounded || w*re.Max > cap {
			return unbounded
		}
		return w * re.Max
	case syntax.OpConcat:
		sum := 0
		for _, s := range re.Sub {
			w := maxWidth(s)
			if w == unbounded || sum+w > cap {
				return unbounded
			}
			sum += w
		}
		return sum
	case syntax.OpAlternate:
		m := 0
		for _, s := range re.Sub {
			w := maxWidth(s)
			if w == unbounded {
				return unbounded
			}
			m = max(m, w)
		}
		return m
	}
	return unbounded
}
