package matcher

import (
	"encoding/binary"
	"strings"
)

// Gate answers one question fast: does a text contain any of a set of
// literals, ignoring ASCII case? It never copies the text. Windows of the
// text are case-folded by OR-ing 0x20 into each byte (which folds letters
// and, harmlessly, some punctuation pairs: the gate may answer yes
// wrongly, never no wrongly), hashed into bit tables of windows of
// the literals, and the literals behind a set bit are then checked.
//
// Literals of 15 bytes or more are looked for at one text position in
// sampleStride (8), those of 11 to 14 at one in midStride (4): each is
// indexed by that many consecutive 8-byte windows, so an occurrence
// anywhere has exactly one of them at a position looked at (on amd64 an
// assembly loop, sampledNext, does the looking). Shorter
// literals (4 to 10 bytes) are the shortIndex's: on CPUs with AVX2 a Teddy
// filter (packed nibble masks, see teddy.go) proposes positions 32 at a
// time, otherwise they are probed at one position in four or two. Sampled
// windows are chosen where the literal is least made of common HTML and
// JavaScript fragments, so that "https://" or "window." prefixes found on
// every page do not make the gate verify at every link; Teddy fingerprints
// where its bytes are rarest in web pages (uncommonWindow).
//
// A Gate is immutable and safe for concurrent use.
type Gate struct {
	table8  bitTable // sampled 8-byte windows of long literals
	tableM  bitTable // 8-byte windows of medium-long literals, sampled twice as often
	check8  bitTable // table8's windows by hash8b: looked up only if both bits are set
	checkM  bitTable // tableM's windows by hash8b
	long    map[uint64][]gateLit
	mid     map[uint64][]gateLit
	hasLong bool
	hasMid  bool
	short   *shortIndex // nil without literals under 11 bytes
	lits    []string    // lowercase, by index
	maxLen  int         // of the longest literal
}

// gateLit is a folded literal and the offset of one of its windows; exact
// (the literal as given) and ident restrict it as GateLiteral says.
type gateLit struct {
	lit   []byte
	off   int
	exact []byte
	ident bool
	id    int32 // index in NewGateOf's literals
}

// A GateLiteral is one literal of a Gate built by NewGateOf. Lit is
// matched ignoring ASCII case unless Exact. With Ident, an occurrence
// counts only as a whole identifier: no identifier byte ([A-Za-z0-9_$] or
// any byte from 0x80) right before or after it, as for JavaScript names
// recognised in source code.
type GateLiteral struct {
	Lit          string
	Exact, Ident bool
}

// sampleStride is how many text positions the long literals' table skips
// over, midStride the same for medium-long ones; literals of at least
// minLong and minSampled bytes are indexed by that many 8-byte windows.
const (
	sampleStride = 8
	midStride    = sampleStride / 2
	minSampled   = 8 + midStride - 1
	minLong      = 8 + sampleStride - 1
)

// sampledBlock is how many text bytes one step of sampledNext reads: four
// sampled positions, each with the next midStride's 8-byte window.
const sampledBlock = 3*sampleStride + midStride + 8

// Bit tables have 1<<gateLog bits (16 KiB): sparse enough with the AI
// catalog's eight windows per long literal that few text windows hit a
// set bit by chance.
const (
	gateLog  = 17
	gateBits = 1 << gateLog
)

type bitTable [gateBits / 64]uint64

// set and has take h from hash4 or hash8, under gateBits; the mask only
// spares has a bounds check.
func (t *bitTable) set(h uint32)      { t[h/64%uint32(len(t))] |= 1 << (h % 64) }
func (t *bitTable) has(h uint32) bool { return t[h/64%uint32(len(t))]&(1<<(h%64)) != 0 }

func hash4(w uint32) uint32 { return (w * 0x9E3779B1) >> (32 - gateLog) }
func hash8(w uint64) uint32 { return uint32((w * 0x9E3779B97F4A7C15) >> (64 - gateLog)) }

// hash8b is a second, independent hash for the check tables.
func hash8b(w uint64) uint32 { return uint32((w * 0xC2B2AE3D27D4EB4F) >> (64 - gateLog)) }

const (
	fold4 = 0x20202020
	fold8 = 0x2020202020202020
)

func foldBytes(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = c | 0x20
	}
	return out
}

// NewGate builds a Gate over lits (lowercase, as Set.Literals gives them).
// It reports false when a literal is shorter than four bytes: such a gate
// would open on nearly every text, so callers should not gate at all.
func NewGate(lits []string) (*Gate, bool) {
	gl := make([]GateLiteral, len(lits))
	for i, l := range lits {
		gl[i] = GateLiteral{Lit: l}
	}
	return NewGateOf(gl)
}

// NewGateOf is NewGate with literals that may be case-sensitive or whole
// identifiers; Lit is given in the case it must have when Exact, in any
// case otherwise.
func NewGateOf(lits []GateLiteral) (*Gate, bool) { return newGate(lits, teddyUsable()) }

// newGate is NewGateOf, with the Teddy filter for short literals only when
// teddy is true (tests build both kinds on one machine).
func newGate(lits []GateLiteral, teddy bool) (*Gate, bool) {
	g := &Gate{long: map[uint64][]gateLit{}, mid: map[uint64][]gateLit{}}
	var short []gateLit
	for id, gl := range lits {
		l := strings.ToLower(gl.Lit)
		g.lits = append(g.lits, l)
		var exact []byte
		if gl.Exact {
			exact = []byte(gl.Lit)
		}
		if len(l) < 4 {
			return nil, false
		}
		g.maxLen = max(g.maxLen, len(l))
		f := foldBytes([]byte(l))
		lit := gateLit{f, 0, exact, gl.Ident, int32(id)}
		switch {
		case len(f) >= minLong:
			g.hasLong = true
			addWindows(&g.table8, &g.check8, g.long, lit, rarestWindow(l, minLong), sampleStride)
		case len(f) >= minSampled:
			g.hasMid = true
			addWindows(&g.tableM, &g.checkM, g.mid, lit, rarestWindow(l, minSampled), midStride)
		default:
			short = append(short, lit)
		}
	}
	if len(short) > 0 {
		g.short = newShortIndex(short, teddy)
	}
	return g, true
}

// addWindows indexes gl by its n consecutive 8-byte windows from offset k:
// their hash8 bits in table, hash8b bits in check, and gl with each
// window's offset in m.
func addWindows(table, check *bitTable, m map[uint64][]gateLit, gl gateLit, k, n int) {
	for off := k; off < k+n; off++ {
		w := binary.LittleEndian.Uint64(gl.lit[off:])
		table.set(hash8(w))
		check.set(hash8b(w))
		gl.off = off
		m[w] = append(m[w], gl)
	}
}

// longAt and midAt report whether a window with hashes h and hb may be
// one of a long or a medium-long literal's: both its bits are set.
func (g *Gate) longAt(h, hb uint32) bool { return g.table8.has(h) && g.check8.has(hb) }
func (g *Gate) midAt(h, hb uint32) bool  { return g.tableM.has(h) && g.checkM.has(hb) }

// rarestWindow returns the offset of the n-byte window of lit made least of
// common HTML and JavaScript fragments (the first among equals).
func rarestWindow(lit string, n int) int {
	best, bestRare := 0, -1
	for off := 0; off+n <= len(lit); off++ {
		if r := rarity(lit[off : off+n]); r > bestRare {
			best, bestRare = off, r
		}
	}
	return best
}

// htmlBytes are the printable ASCII bytes, tabs and line ends, from the
// most to the least frequent in web pages (letters folded to lower case;
// counted over the trafilatura and readability corpora of ../shared).
const htmlBytes = " etainsrol\"-cdpm./uhg0fb=><1w:2\nv,y\t3k_45x;6879z)({}j'\\q&%#[]!+\r|?*@$~^`"

// byteRarity is a byte's rank in htmlBytes, plus one (bytes not there,
// from 0x80 or control bytes, rank last).
func byteRarity(c byte) int {
	if i := strings.IndexByte(htmlBytes, c); i >= 0 {
		return i + 1
	}
	return len(htmlBytes) + 1
}

// uncommonWindow returns the offset of the n-byte window of lit whose
// bytes are least frequent in web pages: the largest product of their
// ranks in htmlBytes (the first among equals), as a text position's bytes
// match by chance about in inverse proportion to that.
func uncommonWindow(lit string, n int) int {
	best, bestScore := 0, -1.0
	for off := 0; off+n <= len(lit); off++ {
		score := 1.0
		for _, c := range []byte(lit[off : off+n]) {
			score *= float64(byteRarity(c))
		}
		if score > bestScore {
			best, bestScore = off, score
		}
	}
	return best
}

// Any reports whether text contains one of the literals (ASCII case
// ignored), possibly wrongly yes, never wrongly no.
func (g *Gate) Any(text []byte) bool { return g.From(text) >= 0 }

// From is Any that also bounds where the literals are: it returns -1 when
// text contains none of them (never wrongly), else an offset at or before
// the start of every occurrence of every literal in text. Whoever searches
// text for these literals, or for some of them, may start there. It stops
// at the first occurrence, so From costs no more than Any.
func (g *Gate) From(text []byte) int {
	first := len(text)
	found := func(lits []gateLit, i int) bool {
		if !verify(lits, text, i) {
			return false
		}
		first = i
		return true
	}
	hit := g.walkSampled(text, 0, found)
	if g.short != nil && g.short.walk(text, 0, first, found) {
		hit = true
	}
	if !hit {
		return -1
	}
	// Both walks visit window positions in order (the scalar short walk
	// give or take sampleStride in its tail) and stop at the first
	// verified one: every occurrence has its indexed window at or after
	// first-sampleStride, and starts at most maxLen before that.
	return max(0, first-sampleStride-g.maxLen)
}

// each calls fn with the literal index and start of every occurrence of a
// literal in text starting at or after from, each occurrence once, in no
// particular order.
func (g *Gate) each(text []byte, from int, fn func(id int32, start int)) {
	visit := func(lits []gateLit, i int) bool {
		for k := range lits {
			if s := i - lits[k].off; s >= from && lits[k].at(text, s) {
				fn(lits[k].id, s)
			}
		}
		return false
	}
	g.walkSampled(text, from, visit)
	if g.short != nil {
		g.short.walk(text, from, len(text), visit)
	}
}

// sampledNextGo is sampledNext's definition, one position at a time.
func sampledNextGo(g *Gate, text []byte, i int) (int, bool) {
	for ; i+sampledBlock <= len(text); i += 4 * sampleStride {
		for p := i; p < i+4*sampleStride; p += midStride {
			w := binary.LittleEndian.Uint64(text[p:]) | fold8
			h, hb := hash8(w), hash8b(w)
			if p%sampleStride == 0 && g.longAt(h, hb) || g.midAt(h, hb) {
				return p, true
			}
		}
	}
	return i, false
}

// walkSampled calls visit with the long and medium-long literals indexed
// by the window at every sampled text position from the one at or before
// from whose window hash is set, in order, until visit reports true (walk
// then does too). Each occurrence of such a literal has exactly one of its
// indexed windows at a sampled position; an occurrence starting at or
// after from has it at a visited one.
func (g *Gate) walkSampled(text []byte, from int, visit func(lits []gateLit, i int) bool) bool {
	if !g.hasLong && !g.hasMid {
		return false
	}
	n := len(text)
	i := max(0, from) &^ (sampleStride - 1)
	// probe visits the literals behind the window at p, a multiple of
	// midStride, when both its table and check bits are set.
	probe := func(p int) bool {
		w8 := binary.LittleEndian.Uint64(text[p:]) | fold8
		h, hb := hash8(w8), hash8b(w8)
		if p%sampleStride == 0 && g.longAt(h, hb) && visit(g.long[w8], p) {
			return true
		}
		return g.midAt(h, hb) && visit(g.mid[w8], p)
	}
	// sampledNext skips to positions with a table and check bit set, and
	// starts at multiples of sampleStride only.
	for {
		p, ok := sampledNext(g, text, i)
		if !ok {
			i = p
			break
		}
		if probe(p) {
			return true
		}
		i = p + midStride
		if i%sampleStride != 0 {
			if probe(i) {
				return true
			}
			i += midStride
		}
	}
	// The tail, where a block of sampledNext does not fit.
	for ; i+8 <= n; i += midStride {
		if probe(i) {
			return true
		}
	}
	return false
}

// verify checks the literals indexed by the window at text[i:].
func verify(lits []gateLit, text []byte, i int) bool {
	for k := range lits {
		if lits[k].at(text, i-lits[k].off) {
			return true
		}
	}
	return false
}

// at reports whether the literal occurs at text[s:].
func (gl *gateLit) at(text []byte, s int) bool {
	e := s + len(gl.lit)
	if s < 0 || e > len(text) || !foldedEqual(text[s:e], gl.lit) {
		return false
	}
	if gl.exact != nil && string(text[s:e]) != string(gl.exact) {
		return false
	}
	return !gl.ident || !(s > 0 && isIdent(text[s-1]) || e < len(text) && isIdent(text[e]))
}

// isIdent reports whether c can be part of a JavaScript identifier (any
// byte from 0x80 counts: it may be part of a non-ASCII letter).
func isIdent(c byte) bool {
	return c == '_' || c == '$' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

// foldedEqual compares text, folded like the gate folds, with a folded
// literal.
func foldedEqual(text, lit []byte) bool {
	for j, c := range text {
		if c|0x20 != lit[j] {
			return false
		}
	}
	return true
}
