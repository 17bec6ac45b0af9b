package matcher

import (
	"encoding/binary"
	"strings"
)

// Gate answers one question fast: does a text contain any of a set of
// literals, ignoring ASCII case? It never copies the text. Windows of the
// text are case-folded by OR-ing 0x20 into each byte (which folds letters
// and, harmlessly, some punctuation pairs: the gate may answer yes
// wrongly, never no wrongly), hashed into 8 KiB bit tables of windows of
// the literals, and the literals behind a set bit are then checked.
//
// To look at only one text position in gateStride, every literal with at
// least gateStride windows is indexed by gateStride consecutive windows
// (8 bytes long for literals of 11 bytes or more, 4 bytes otherwise): an
// occurrence anywhere then has one of them at a sampled position. The few
// literals too short for that (4 to 6 bytes) are indexed by two
// consecutive 3-byte windows and looked for at every second position,
// taken from the same 8-byte load. Windows are chosen where the literal
// is least made of common HTML and JavaScript fragments, so that
// "https://" or "window." prefixes found on every page do not make the
// gate verify at every link.
//
// A Gate is immutable and safe for concurrent use.
type Gate struct {
	table8  bitTable // sampled 8-byte windows of long literals
	table4  bitTable // sampled 4-byte windows of medium literals
	tiny    bitTable // 3-byte windows of short literals, at every second position
	long    map[uint64][]gateLit
	medium  map[uint32][]gateLit
	tinyLit map[uint32][]gateLit
	hasMed  bool
	hasTiny bool
	lits    []string // lowercase, by index
	maxLen  int      // of the longest literal
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

// gateStride is how many text positions the sampled tables skip over;
// tinyStride is the same for short literals' 3-byte windows.
const (
	gateStride = 4
	tinyStride = 2
)

const gateBits = 1 << 16

type bitTable [gateBits / 64]uint64

func (t *bitTable) set(h uint32)      { t[h/64] |= 1 << (h % 64) }
func (t *bitTable) has(h uint32) bool { return t[h/64]&(1<<(h%64)) != 0 }

func hash4(w uint32) uint32 { return (w * 0x9E3779B1) >> (32 - 16) }
func hash8(w uint64) uint32 { return uint32((w * 0x9E3779B97F4A7C15) >> (64 - 16)) }

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
func NewGateOf(lits []GateLiteral) (*Gate, bool) {
	g := &Gate{long: map[uint64][]gateLit{}, medium: map[uint32][]gateLit{}, tinyLit: map[uint32][]gateLit{}}
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
		switch {
		case len(f) >= 8+gateStride-1:
			k := rarestWindow(l, 8+gateStride-1)
			for off := k; off < k+gateStride; off++ {
				w := binary.LittleEndian.Uint64(f[off:])
				g.table8.set(hash8(w))
				g.long[w] = append(g.long[w], gateLit{f, off, exact, gl.Ident, int32(id)})
			}
		case len(f) >= 4+gateStride-1:
			g.hasMed = true
			k := rarestWindow(l, 4+gateStride-1)
			for off := k; off < k+gateStride; off++ {
				w := binary.LittleEndian.Uint32(f[off:])
				g.table4.set(hash4(w))
				g.medium[w] = append(g.medium[w], gateLit{f, off, exact, gl.Ident, int32(id)})
			}
		default:
			g.hasTiny = true
			k := rarestWindow(l, 3+tinyStride-1)
			for off := k; off < k+tinyStride; off++ {
				w := uint32(f[off]) | uint32(f[off+1])<<8 | uint32(f[off+2])<<16
				g.tiny.set(hash4(w))
				g.tinyLit[w] = append(g.tinyLit[w], gateLit{f, off, exact, gl.Ident, int32(id)})
			}
		}
	}
	return g, true
}

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

// Any reports whether text contains one of the literals (ASCII case
// ignored), possibly wrongly yes, never wrongly no.
func (g *Gate) Any(text []byte) bool { return g.From(text) >= 0 }

// From is Any that also bounds where the literals are: it returns -1 when
// text contains none of them (never wrongly), else an offset at or before
// the start of every occurrence of every literal in text. Whoever searches
// text for these literals, or for some of them, may start there. It stops
// at the first occurrence, so From costs no more than Any.
func (g *Gate) From(text []byte) int {
	from := -1
	g.walk(text, 0, func(lits []gateLit, i int) bool {
		if !verify(lits, text, i) {
			return false
		}
		// Every occurrence has its indexed window at a sampled position,
		// visited in order of position (give or take a stride in the
		// tail): none before i-gateStride, so none starts at or before
		// i-gateStride-maxLen.
		from = max(0, i-gateStride-g.maxLen+1)
		return true
	})
	return from
}

// each calls fn with the literal index and start of every occurrence of a
// literal in text starting at or after from, each occurrence once, in no
// particular order.
func (g *Gate) each(text []byte, from int, fn func(id int32, start int)) {
	g.walk(text, from, func(lits []gateLit, i int) bool {
		for k := range lits {
			if s := i - lits[k].off; s >= from && lits[k].at(text, s) {
				fn(lits[k].id, s)
			}
		}
		return false
	})
}

// walk calls visit with the literals indexed by the window at every
// sampled text position from the one at or before from whose window hash
// is set, in order, until visit reports true (walk then does too). Each
// occurrence of a literal has exactly one of its indexed windows at a
// sampled position; an occurrence starting at or after from has it at a
// visited one.
func (g *Gate) walk(text []byte, from int, visit func(lits []gateLit, i int) bool) bool {
	n := len(text)
	const fold8 = 0x2020202020202020
	// Sampled positions i (multiples of gateStride) while 8 bytes fit; the
	// short literals' windows at i and i+2 come from the same load.
	i := max(0, from) &^ (gateStride - 1)
	for ; i+8 <= n; i += gateStride {
		w8 := binary.LittleEndian.Uint64(text[i:]) | fold8
		if g.table8.has(hash8(w8)) && visit(g.long[w8], i) {
			return true
		}
		if g.hasMed {
			if w4 := uint32(w8); g.table4.has(hash4(w4)) && visit(g.medium[w4], i) {
				return true
			}
		}
		if g.hasTiny {
			if w3 := uint32(w8) & 0xFFFFFF; g.tiny.has(hash4(w3)) && visit(g.tinyLit[w3], i) {
				return true
			}
			if w3 := uint32(w8>>16) & 0xFFFFFF; g.tiny.has(hash4(w3)) && visit(g.tinyLit[w3], i+2) {
				return true
			}
		}
	}
	// The tail, under 8 bytes: long literals cannot start there any more.
	for j := i; g.hasMed && j+4 <= n; j += gateStride {
		if w4 := binary.LittleEndian.Uint32(text[j:]) | 0x20202020; g.table4.has(hash4(w4)) && visit(g.medium[w4], j) {
			return true
		}
	}
	for j := i; g.hasTiny && j+3 <= n; j += tinyStride {
		w3 := (uint32(text[j]) | uint32(text[j+1])<<8 | uint32(text[j+2])<<16) | 0x202020
		if g.tiny.has(hash4(w3)) && visit(g.tinyLit[w3], j) {
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
