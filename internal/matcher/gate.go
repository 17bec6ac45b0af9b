package matcher

import (
	"encoding/binary"
)

// Gate answers one question fast: does a text contain any of a set of
// literals, ignoring ASCII case? It looks at every 4-byte window of the
// text once, case-folded by OR-ing 0x20 into each byte (which folds
// letters and, harmlessly, some punctuation pairs: the gate may answer yes
// wrongly, never no wrongly), hashes it into an 8 KiB bit table of the
// literals' first four bytes, and checks the literals behind a set bit
// only. No copy of the text is made. It runs near a gigabyte per second,
// several times the Aho-Corasick pass, which is what makes skipping pages
// without candidates worth it.
//
// A Gate is immutable and safe for concurrent use.
type Gate struct {
	table    [gateBits / 64]uint64 // literals of 4 to 7 bytes, by a 4-byte window
	table8   [gateBits / 64]uint64 // literals of 8 bytes or more, by an 8-byte window
	buckets  map[uint32][]gateLit  // folded 4-byte window -> short literals
	buckets8 map[uint64][]gateLit  // folded 8-byte window -> long literals
	short    bool                  // some literal has fewer than 8 bytes
}

// gateLit is a folded literal and the offset of the window it is indexed
// by: its rarest window, so that "https://" or "window." prefixes, found on
// every page, do not make the gate verify at every link.
type gateLit struct {
	lit []byte
	off int
}

const (
	gateBits  = 1 << 16
	gateShift = 32 - 16
)

// fold4 folds a 4-byte window for the gate.
func fold4(w uint32) uint32 { return w | 0x20202020 }

func gateHash(w uint32) uint32 { return (w * 0x9E3779B1) >> gateShift }

func gateHash8(w uint64) uint32 { return uint32((w * 0x9E3779B97F4A7C15) >> (64 - 16)) }

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
	g := &Gate{buckets: map[uint32][]gateLit{}, buckets8: map[uint64][]gateLit{}}
	for _, l := range lits {
		if len(l) < 4 {
			return nil, false
		}
		f := foldBytes([]byte(l))
		if len(f) >= 8 {
			off := rarestWindow(l, 8)
			w := binary.LittleEndian.Uint64(f[off:])
			h := gateHash8(w)
			g.table8[h/64] |= 1 << (h % 64)
			g.buckets8[w] = append(g.buckets8[w], gateLit{f, off})
			continue
		}
		g.short = true
		off := rarestWindow(l, 4)
		w := binary.LittleEndian.Uint32(f[off:])
		h := gateHash(w)
		g.table[h/64] |= 1 << (h % 64)
		g.buckets[w] = append(g.buckets[w], gateLit{f, off})
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
	for i := 0; i+8 <= n; i++ {
		w8 := binary.LittleEndian.Uint64(text[i:]) | 0x2020202020202020
		if h := gateHash8(w8); g.table8[h/64]&(1<<(h%64)) != 0 && g.verify8(text, i, w8) {
			return true
		}
		if !g.short {
			continue
		}
		w4 := uint32(w8)
		if h := gateHash(w4); g.table[h/64]&(1<<(h%64)) != 0 && g.verify4(text, i, w4) {
			return true
		}
	}
	for i := max(0, n-7); i+4 <= n; i++ { // the tail is too short for 8
		if g.short && g.at4(text, i) {
			return true
		}
	}
	return false
}

func (g *Gate) verify8(text []byte, i int, w uint64) bool {
	for _, gl := range g.buckets8[w] {
		if s := i - gl.off; s >= 0 && s+len(gl.lit) <= len(text) && foldedEqual(text[s:s+len(gl.lit)], gl.lit) {
			return true
		}
	}
	return false
}

// at4 checks the short literals at i.
func (g *Gate) at4(text []byte, i int) bool {
	w := fold4(binary.LittleEndian.Uint32(text[i:]))
	h := gateHash(w)
	return g.table[h/64]&(1<<(h%64)) != 0 && g.verify4(text, i, w)
}

func (g *Gate) verify4(text []byte, i int, w uint32) bool {
	for _, gl := range g.buckets[w] {
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
