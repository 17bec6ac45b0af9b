package matcher

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	ac "github.com/coregx/ahocorasick"
	"github.com/dlclark/regexp2"
)

// maxWindowWidth is the widest bounded expression still evaluated in windows
// around its literal hits; wider ones run over the whole text.
const maxWindowWidth = 16 << 10

// minPrefilterExprs is the smallest set worth a literal automaton: sets
// this small (header values, meta contents, one dom rule) are matched
// against short strings, where running each expression costs less than
// building and running an automaton.
const minPrefilterExprs = 8

// regexp2Timeout bounds one regexp2 (look-around) evaluation.
const regexp2Timeout = 2 * time.Second

// Set is a compiled, immutable set of expressions. It is safe for
// concurrent use.
type Set struct {
	exprs    []*expr
	acOnce   sync.Once
	ac       *ac.Automaton // built on first Scan; nil when no expression has literals
	acErr    error
	lits     []string  // required literals, lowercase
	small    bool      // Scan evaluates every expression (see minPrefilterExprs)
	litExprs [][]int32 // literal id -> expressions requiring it
	always   []int32   // expressions without a usable literal, ascending
	scratch  sync.Pool
}

// expr is one compiled expression.
type expr struct {
	src  string
	a    analysis
	once sync.Once
	re   *regexp.Regexp
	re2  *regexp2.Regexp
	rev  *compiledReverse
	err  error
}

// Match is one expression's first (leftmost) match in a text.
type Match struct {
	// Index holds byte offsets into the scanned text as
	// regexp.FindSubmatchIndex returns them: pairs for the whole match and
	// each capture group, -1 for groups that did not take part.
	Index []int
}

// Group returns capture group n of the match in text ("" when it did not
// take part).
func (m Match) Group(text []byte, n int) string {
	if 2*n+1 >= len(m.Index) || m.Index[2*n] < 0 {
		return ""
	}
	return string(text[m.Index[2*n]:m.Index[2*n+1]])
}

// Compile builds a Set from expressions. The error lists every expression
// that does not compile, by index.
func Compile(exprs []string) (*Set, error) {
	s := &Set{exprs: make([]*expr, len(exprs))}
	var bad []string
	litID := map[string]int32{}
	var lits []string
	for i, src := range exprs {
		a, err := analyze(src)
		if err != nil {
			bad = append(bad, fmt.Sprintf("expression %d %q: %v", i, src, err))
			continue
		}
		s.exprs[i] = &expr{src: src, a: a}
		if len(a.literals) == 0 {
			s.always = append(s.always, int32(i))
			continue
		}
		for _, l := range a.literals {
			id, ok := litID[l]
			if !ok {
				id = int32(len(lits))
				litID[l] = id
				lits = append(lits, l)
				s.litExprs = append(s.litExprs, nil)
			}
			if n := len(s.litExprs[id]); n == 0 || s.litExprs[id][n-1] != int32(i) {
				s.litExprs[id] = append(s.litExprs[id], int32(i))
			}
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("matcher: %d invalid expression(s): %v", len(bad), bad)
	}
	s.lits = lits
	s.small = len(exprs) < minPrefilterExprs
	n := len(exprs)
	s.scratch.New = func() any { return newScratch(n) }
	return s, nil
}

// automaton builds the literal automaton on first use: Sets scanned only
// through a Group (which has its own) never pay for one.
func (s *Set) automaton() (*ac.Automaton, error) {
	s.acOnce.Do(func() {
		if len(s.lits) == 0 {
			return
		}
		s.ac, s.acErr = ac.NewBuilder().AddStrings(s.lits).Build()
		if s.acErr != nil {
			s.acErr = fmt.Errorf("matcher: build literal automaton: %w", s.acErr)
		}
	})
	return s.ac, s.acErr
}

// Len returns the number of expressions.
func (s *Set) Len() int { return len(s.exprs) }

// compile compiles e's regular expression once.
func (e *expr) compile() error {
	e.once.Do(func() {
		if e.a.lookaround {
			e.re2, e.err = regexp2.Compile(e.src, regexp2.IgnoreCase|regexp2.ECMAScript)
			if e.re2 != nil {
				e.re2.MatchTimeout = regexp2Timeout
			}
			return
		}
		e.re, e.err = regexp.Compile(printRE2(e.a.re2))
		if e.err == nil && e.a.reverse != nil {
			e.rev, _ = e.a.reverse.compile() // on failure, windows are used
		}
		if e.err != nil {
			// The bounded form can exceed RE2's program size; the
			// unbounded form matches a superset and is the next best.
			e.re, e.err = regexp.Compile("(?i)" + e.src)
			e.a.width = unbounded
		}
	})
	return e.err
}

// scratch is per-Scan working memory, pooled.
type scratch struct {
	count   []int32 // per expression: literal hits
	touched []int32 // expressions with count > 0
	start   []int32 // per touched expression: offset into pos
	pos     []int32 // hit offsets grouped by expression
	fill    []int32
	lower   []byte
	hits    []Hit
	rev     []byte
}

func newScratch(n int) *scratch {
	return &scratch{count: make([]int32, n)}
}

// Lower returns text with ASCII letters lowercased, appended to dst[:0].
// Offsets are unchanged, so indices into the result index text too.
func Lower(dst, text []byte) []byte {
	dst = append(dst[:0], text...)
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		w := binary.LittleEndian.Uint64(dst[i:])
		binary.LittleEndian.PutUint64(dst[i:], w|upperMask(w)>>2)
	}
	for ; i < len(dst); i++ {
		if c := dst[i]; 'A' <= c && c <= 'Z' {
			dst[i] = c + 'a' - 'A'
		}
	}
	return dst
}

// upperMask has 0x80 in every byte of w that is an ASCII capital letter
// and 0 elsewhere (shifted right by 2 it is the 0x20 that lowercases it).
// Each byte's low seven bits plus a constant carry into bit 7 exactly when
// they are at least 'A', or more than 'Z', and never into the next byte.
func upperMask(w uint64) uint64 {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	low7 := w &^ high
	geA := low7 + (0x80-'A')*ones
	gtZ := low7 + (0x7f-'Z')*ones
	return (geA &^ gtZ) &^ w & high
}

// Hit is an occurrence of one of a Set's literals in a text.
type Hit struct {
	Lit        int32 // literal id within the Set (see Literals)
	Start, End int32 // byte offsets in the text
}

// Literals returns the Set's literals (lowercase), indexed by Hit.Lit.
func (s *Set) Literals() []string { return s.lits }

// Scan calls fn for every expression that matches text, in increasing
// expression index order, with its leftmost match. lower must be
// Lower(nil, text) or nil (then Scan lowercases text itself); pass it when
// several Sets scan the same text. fn must not retain m.Index.
func (s *Set) Scan(text, lower []byte, fn func(id int, m Match)) error {
	sc := s.scratch.Get().(*scratch)
	defer s.scratch.Put(sc)
	if lower == nil {
		sc.lower = Lower(sc.lower, text)
		lower = sc.lower
	}
	sc.hits = sc.hits[:0]
	if s.small {
		return s.scanAll(text, lower, fn)
	}
	auto, err := s.automaton()
	if err != nil {
		return err
	}
	if auto != nil {
		for _, m := range auto.FindAllOverlapping(lower) {
			sc.hits = append(sc.hits, Hit{Lit: int32(m.PatternID), Start: int32(m.Start), End: int32(m.End)})
		}
	}
	return s.scanHits(sc, text, lower, sc.hits, fn)
}

// scanAll evaluates every expression over the whole text, in index order.
func (s *Set) scanAll(text, lower []byte, fn func(id int, m Match)) error {
	var firstErr error
	for id, e := range s.exprs {
		idx, err := e.first(nil, text, lower, nil)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("matcher: expression %d: %w", id, err)
		}
		if idx != nil {
			fn(id, Match{Index: idx})
		}
	}
	return firstErr
}

// Always returns how many expressions have no required literal: a Group
// can rule out the others by their literals' absence, never these.
func (s *Set) Always() int { return len(s.always) }

// ScanHits is Scan with the literal search already done: hits must be every
// occurrence of the Set's literals in lower (as a Group finds them), with
// offsets relative to text. lower must be Lower(nil, text).
func (s *Set) ScanHits(text, lower []byte, hits []Hit, fn func(id int, m Match)) error {
	sc := s.scratch.Get().(*scratch)
	defer s.scratch.Put(sc)
	return s.scanHits(sc, text, lower, hits, fn)
}

func (s *Set) scanHits(sc *scratch, text, lower []byte, hits []Hit, fn func(id int, m Match)) error {
	s.collectHits(sc, hits)
	var firstErr error
	ai, ti := 0, 0
	for ai < len(s.always) || ti < len(sc.touched) {
		var id int32
		var hits []int32
		switch {
		case ti >= len(sc.touched) || (ai < len(s.always) && s.always[ai] < sc.touched[ti]):
			id = s.always[ai]
			ai++
		default:
			id = sc.touched[ti]
			hits = sc.pos[sc.start[ti] : sc.start[ti]+sc.count[id]]
			ti++
		}
		idx, err := s.exprs[id].first(sc, text, lower, hits)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("matcher: expression %d: %w", id, err)
		}
		if idx != nil {
			fn(int(id), Match{Index: idx})
		}
	}
	for _, id := range sc.touched {
		sc.count[id] = 0
	}
	sc.touched = sc.touched[:0]
	return firstErr
}

// collectHits groups hit positions by expression into
// sc.touched/start/pos (touched ascending).
func (s *Set) collectHits(sc *scratch, hits []Hit) {
	if len(hits) == 0 {
		return
	}
	for _, h := range hits {
		for _, id := range s.litExprs[h.Lit] {
			if sc.count[id] == 0 {
				sc.touched = append(sc.touched, id)
			}
			sc.count[id]++
		}
	}
	slices.Sort(sc.touched)
	sc.start = sc.start[:0]
	total := int32(0)
	for _, id := range sc.touched {
		sc.start = append(sc.start, total)
		total += sc.count[id]
	}
	sc.pos = grow(sc.pos, int(total))
	sc.fill = grow(sc.fill, len(sc.touched))
	for i := range sc.fill {
		sc.fill[i] = 0
	}
	for _, h := range hits {
		for _, id := range s.litExprs[h.Lit] {
			ti, _ := slices.BinarySearch(sc.touched, id)
			sc.pos[sc.start[ti]+sc.fill[ti]] = h.Start
			sc.fill[ti]++
		}
	}
	// Hits come ordered by end; windows need them ordered by start.
	for ti, id := range sc.touched {
		slices.Sort(sc.pos[sc.start[ti] : sc.start[ti]+sc.count[id]])
	}
}

func grow(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}

// first returns the leftmost match of e in text, evaluating only windows
// around the literal hits when that is exact (see package doc), or nil.
func (e *expr) first(sc *scratch, text, lower []byte, hits []int32) ([]int, error) {
	if err := e.compile(); err != nil {
		return nil, err
	}
	if e.re2 != nil {
		return e.firstRegexp2(text)
	}
	if e.rev != nil && hits != nil {
		return e.rev.first(lower, hits, &sc.rev), nil
	}
	w := e.a.width
	if hits == nil || w == unbounded || w > maxWindowWidth {
		return e.re.FindSubmatchIndex(lower), nil
	}
	margin := w
	if e.a.assertions {
		margin++ // one byte of context on each side for ^ $ \b \B
	}
	n := len(lower)
	for i := 0; i < len(hits); {
		// A match containing the literal at h starts at or before h and
		// is at most w long: it lies within [h-w, h+w].
		ws := max(0, int(hits[i])-margin)
		we := min(n, int(hits[i])+margin)
		i++
		for i < len(hits) && int(hits[i])-margin <= we {
			we = min(n, int(hits[i])+margin)
			i++
		}
		idx := e.re.FindSubmatchIndex(lower[ws:we])
		if idx == nil {
			continue
		}
		if e.a.assertions && ((ws > 0 && idx[0] == 0) || (we < n && idx[1] == we-ws)) {
			// The match leans on the window edge, where ^ $ \b \B see
			// different context than in the whole text: decide there.
			return e.re.FindSubmatchIndex(lower), nil
		}
		for j := range idx {
			if idx[j] >= 0 {
				idx[j] += ws
			}
		}
		return idx, nil
	}
	return nil, nil
}

// firstRegexp2 runs a look-around expression over the original text.
func (e *expr) firstRegexp2(text []byte) ([]int, error) {
	runes := []rune(string(text))
	m, err := e.re2.FindRunesMatch(runes)
	if err != nil || m == nil {
		return nil, err
	}
	// regexp2 indexes runes; convert to byte offsets.
	byteOff := func(ri int) int {
		n := 0
		for _, r := range runes[:ri] {
			n += utf8.RuneLen(r)
		}
		return n
	}
	groups := m.Groups()
	idx := make([]int, 2*(e.a.groups+1))
	for i := range idx {
		idx[i] = -1
	}
	for gi, g := range groups {
		if gi > e.a.groups || len(g.Captures) == 0 {
			continue
		}
		idx[2*gi] = byteOff(g.Index)
		idx[2*gi+1] = byteOff(g.Index + g.Length)
	}
	return idx, nil
}

// ScanPlain is Scan without the prefilter and windows: every expression is
// evaluated over the whole text. It defines the results Scan must give and
// exists for tests and benchmarks.
func (s *Set) ScanPlain(text []byte, fn func(id int, m Match)) error {
	lower := Lower(nil, text)
	for id, e := range s.exprs {
		if err := e.compile(); err != nil {
			return err
		}
		var idx []int
		if e.re2 != nil {
			var err error
			if idx, err = e.firstRegexp2(text); err != nil {
				return err
			}
		} else {
			idx = e.re.FindSubmatchIndex(lower)
		}
		if idx != nil {
			fn(id, Match{Index: idx})
		}
	}
	return nil
}
