package matcher

import "encoding/binary"

// shortIndex finds the literals of 4 to 10 bytes, too short to sample at
// one position in eight. With teddy set, each literal is indexed by the
// 4-byte window starting its fingerprint (teddyMasks) and every text
// position is a candidate: the Teddy filter (teddyNext) proposes
// positions, the literals behind the window decide. Without it, literals
// of 7 bytes or more are indexed by four consecutive 4-byte windows probed
// at one position in four, shorter ones by two 3-byte windows probed at
// one position in two.
type shortIndex struct {
	teddy *teddyMasks
	byWin map[uint32][]gateLit // teddy: literals by their window

	table4  bitTable // scalar: 4-byte windows of 7- to 10-byte literals
	tiny    bitTable // scalar: 3-byte windows of 4- to 6-byte literals
	medium  map[uint32][]gateLit
	tinyLit map[uint32][]gateLit
	hasMed  bool
	hasTiny bool
}

// maxTeddyLits is the most short literals a Teddy filter takes: with more,
// its eight buckets are so full that nearly every position is proposed.
const maxTeddyLits = 64

// Strides of the scalar walk: medium literals' 4-byte windows, tiny ones'
// 3-byte windows.
const (
	medStride  = 4
	tinyStride = 2
)

// newShortIndex indexes lits (folded, off unset), with a Teddy filter when
// teddy is true and there are at most maxTeddyLits of them.
func newShortIndex(lits []gateLit, teddy bool) *shortIndex {
	x := &shortIndex{}
	if teddy && len(lits) <= maxTeddyLits {
		x.byWin = map[uint32][]gateLit{}
		var fps []string
		for _, gl := range lits {
			n := min(len(gl.lit), teddyLen)
			gl.off = uncommonWindow(string(gl.lit), n)
			fps = append(fps, string(gl.lit[gl.off:gl.off+n]))
			w := binary.LittleEndian.Uint32(gl.lit[gl.off:])
			x.byWin[w] = append(x.byWin[w], gl)
		}
		x.teddy = newTeddyMasks(fps)
		return x
	}
	x.medium, x.tinyLit = map[uint32][]gateLit{}, map[uint32][]gateLit{}
	for _, gl := range lits {
		l := string(gl.lit)
		if len(l) >= 4+medStride-1 {
			x.hasMed = true
			k := rarestWindow(l, 4+medStride-1)
			for off := k; off < k+medStride; off++ {
				w := binary.LittleEndian.Uint32(gl.lit[off:])
				x.table4.set(hash4(w))
				gl.off = off
				x.medium[w] = append(x.medium[w], gl)
			}
			continue
		}
		x.hasTiny = true
		k := rarestWindow(l, 3+tinyStride-1)
		for off := k; off < k+tinyStride; off++ {
			w := uint32(gl.lit[off]) | uint32(gl.lit[off+1])<<8 | uint32(gl.lit[off+2])<<16
			x.tiny.set(hash4(w))
			gl.off = off
			x.tinyLit[w] = append(x.tinyLit[w], gl)
		}
	}
	return x
}

// walk calls visit with the literals indexed by the window at text
// positions from at or before from up to before to whose window hash is
// set, in order (the scalar walk give or take medStride in its tail),
// until visit reports true (walk then does too). Each occurrence of a
// literal has exactly one indexed window at a visited position if it
// starts at or after from and its window lies before to.
func (x *shortIndex) walk(text []byte, from, to int, visit func(lits []gateLit, i int) bool) bool {
	if x.teddy != nil {
		return x.walkTeddy(text, from, to, visit)
	}
	n := len(text)
	i := max(0, from) &^ (medStride - 1)
	// Positions i (multiples of medStride) while 8 bytes fit; the tiny
	// literals' windows at i and i+2 come from the same load.
	for ; i+8 <= n && i < to; i += medStride {
		w8 := binary.LittleEndian.Uint64(text[i:]) | fold8
		if w4 := uint32(w8); x.hasMed && x.table4.has(hash4(w4)) && visit(x.medium[w4], i) {
			return true
		}
		if x.hasTiny {
			if w3 := uint32(w8) & 0xFFFFFF; x.tiny.has(hash4(w3)) && visit(x.tinyLit[w3], i) {
				return true
			}
			if w3 := uint32(w8>>16) & 0xFFFFFF; x.tiny.has(hash4(w3)) && visit(x.tinyLit[w3], i+2) {
				return true
			}
		}
	}
	// The tail, under 8 bytes.
	for j := i; x.hasMed && j+4 <= n && j < to; j += medStride {
		if w4 := binary.LittleEndian.Uint32(text[j:]) | fold4; x.table4.has(hash4(w4)) && visit(x.medium[w4], j) {
			return true
		}
	}
	for j := i; x.hasTiny && j+3 <= n && j < to; j += tinyStride {
		w3 := (uint32(text[j]) | uint32(text[j+1])<<8 | uint32(text[j+2])<<16) | 0x202020
		if x.tiny.has(hash4(w3)) && visit(x.tinyLit[w3], j) {
			return true
		}
	}
	return false
}

// walkTeddy is walk with the Teddy filter: every position from from on is
// a candidate, teddyNext skips 32 at a time to those whose window may be
// indexed, the last few are probed one by one.
func (x *shortIndex) walkTeddy(text []byte, from, to int, visit func(lits []gateLit, i int) bool) bool {
	// Windows before to end before to+3: the filter needs no more text.
	t := text[:min(len(text), max(to, 0)+3)]
	j := max(0, from)
	for {
		c, ok := teddyNext(x.teddy, t, j)
		if !ok {
			j = c
			break
		}
		if visit(x.byWin[binary.LittleEndian.Uint32(t[c:])|fold4], c) {
			return true
		}
		j = c + 1
	}
	for ; j+4 <= len(t); j++ {
		if w := binary.LittleEndian.Uint32(t[j:]) | fold4; x.teddy.table.has(hash4(w)) && visit(x.byWin[w], j) {
			return true
		}
	}
	return false
}
