package matcher

import (
	"encoding/binary"
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
// literals too short for that (under 7 bytes) are checked at every
// position in a table of their own. Windows are chosen where the literal
// is least made of common HTML and JavaScript fragments, so that
// "https://" or "window." prefixes found on every page do not make the
// gate verify at every link.
//
// A Gate is immutable and safe for concurrent use.
type Gate struct {
	table8  bitTable // sampled 8-byte windows of long literals
	table4  bitTable // sampled 4-byte windows of medium literals
	tiny    bitTable // 4-byte windows of literals checked everywhere
	long    map[uint64][]gateLit
	medium  map[uint32][]gateLit
	tinyLit map[uint32][]gateLit
	hasMed  bool
	hasTiny bool
}

// gateLit is a folded literal and the offset of one of its windows.
type gateLit struct {
	lit []byte
	off int
}

// gateStride is how many text positions the sampled tables skip over.
const gateStride = 4

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
	g := &Gate{long: map[uint64][]gateLit{}, medium: map[uint32][]gateLit{}, tinyLit: map[uint32][]gateLit{}}
	for _, l := range lits {
		if len(l) < 4 {
			return nil, false
		}
		f := foldBytes([]byte(l))
		switch {
		case len(f) >= 8+gateStride-1:
			k := rarestWindow(l, 8+gateStride-1)
			for off := k; off < k+gateStride; off++ {
				w := binary.LittleEndian.Uint64(f[off:])
				g.table8.set(hash8(w))
				g.long[w] = append(g.long[w], gateLit{f, off})
			}
		case len(f) >= 4+gateStride-1:
			g.hasMed = true
			k := rarestWindow(l, 4+gateStride-1)
			for off := k; off < k+gateStride; off++ {
				w := binary.LittleEndian.Uint32(f[off:])
				g.table4.set(hash4(w))
				g.medium[w] = append(g.medium[w], gateLit{f, off})
			}
		default:
			g.hasTiny = true
			off := rarestWindow(l, 4)
			w := binary.LittleEndian.Uint32(f[off:])
			g.tiny.set(hash4(w))
			g.tinyLit[w] = append(g.tinyLit[w], gateLit{f, off})
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
func (g *Gate) Any(text []byte) bool {
	n := len(text)
	const fold8 = 0x2020202020202020
	// Sampled positions: every window of a sampled literal that can fit,
	// including the short tail where only 4-byte windows fit.
	for i := 0; i+4 <= n; i += gateStride {
		if i+8 <= n {
			w8 := binary.LittleEndian.Uint64(text[i:]) | fold8
			if g.table8.has(hash8(w8)) && verify(g.long[w8], text, i) {
				return true
			}
			if g.hasMed {
				if w4 := uint32(w8); g.table4.has(hash4(w4)) && verify(g.medium[w4], text, i) {
					return true
				}
			}
			continue
		}
		if w4 := binary.LittleEndian.Uint32(text[i:]) | 0x20202020; g.hasMed && g.table4.has(hash4(w4)) && verify(g.medium[w4], text, i) {
			return true
		}
	}
	if !g.hasTiny {
		return false
	}
	for i := 0; i+4 <= n; i++ {
		if w4 := binary.LittleEndian.Uint32(text[i:]) | 0x20202020; g.tiny.has(hash4(w4)) && verify(g.tinyLit[w4], text, i) {
			return true
		}
	}
	return false
}

// verify checks the literals indexed by the window at text[i:].
func verify(lits []gateLit, text []byte, i int) bool {
	for _, gl := range lits {
		if s := i - gl.off; s >= 0 && s+len(gl.lit) <= len(text) && foldedEqual(text[s:s+len(gl.lit)], gl.lit) {
			return true
		}
	}
	return false
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
