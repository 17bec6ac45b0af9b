package matcher

import (
	"encoding/binary"
	"slices"
)

// teddyLen is how many bytes of a literal the Teddy filter matches.
const teddyLen = 5

// teddyMasks drive the Teddy filter of a shortIndex (the packed-matching
// algorithm of Intel's Hyperscan, as Rust's aho-corasick crate describes
// it). Each literal is represented by a fingerprint, teddyLen bytes of it
// (fewer for a shorter literal, the rest matching anything), put in one
// of eight buckets; lo[j] and hi[j], indexed by the low and high nibble
// of a text byte, hold the bits of the buckets whose fingerprints have
// that nibble at byte j (each 16-byte table twice, for both halves of a
// 256-bit register). A text position whose next teddyLen bytes' lookups
// share a bucket bit is proposed, and kept only if the hash4 bit of its
// 4-byte window (a fingerprint's first four bytes) is set in table.
type teddyMasks struct {
	lo, hi [teddyLen][32]byte
	table  bitTable
}

// newTeddyMasks builds the masks of fps (folded fingerprints of 4 to
// teddyLen bytes). Each fingerprint goes, in sorted order, to the bucket
// where it least raises the chance that a text position is proposed,
// estimated with byte frequencies in web pages (byteChance).
func newTeddyMasks(fps []string) *teddyMasks {
	m := &teddyMasks{}
	fps = slices.Clone(fps)
	slices.Sort(fps)
	var pair [16][16]float64 // chance of a folded text byte by its nibbles
	for c := range 256 {
		f := byte(c) | 0x20
		pair[f&15][f>>4] += byteChance(byte(c))
	}
	var buckets [8]teddyBucket
	var chances [8]float64
	for _, fp := range fps {
		best, bestCost := 0, 0.0
		for b := range buckets {
			c := buckets[b].with(fp).chance(&pair) - chances[b]
			if b == 0 || c < bestCost {
				best, bestCost = b, c
			}
		}
		buckets[best] = buckets[best].with(fp)
		chances[best] = buckets[best].chance(&pair)
		m.table.set(hash4(binary.LittleEndian.Uint32([]byte(fp))))
	}
	for b, bk := range buckets {
		bit := byte(1) << b
		for j := range teddyLen {
			for n := range 16 {
				if bk.lo[j]&(1<<n) != 0 {
					m.lo[j][n] |= bit
					m.lo[j][16+n] |= bit
				}
				if bk.hi[j]&(1<<n) != 0 {
					m.hi[j][n] |= bit
					m.hi[j][16+n] |= bit
				}
			}
		}
	}
	return m
}

// teddyBucket is one bucket's nibble sets, per fingerprint byte.
type teddyBucket struct {
	lo, hi [teddyLen]uint16
	used   bool
}

// with returns b with fp added: past the end of a short fingerprint,
// every nibble.
func (b teddyBucket) with(fp string) teddyBucket {
	b.used = true
	for j := range teddyLen {
		if j >= len(fp) {
			b.lo[j], b.hi[j] = 0xFFFF, 0xFFFF
			continue
		}
		b.lo[j] |= 1 << (fp[j] & 15)
		b.hi[j] |= 1 << (fp[j] >> 4)
	}
	return b
}

// chance estimates how often b matches at a text position: the product,
// over the fingerprint bytes, of the chance that a text byte has both
// (folded) nibbles in b's sets, with pair the chances by nibbles.
func (b teddyBucket) chance(pair *[16][16]float64) float64 {
	if !b.used {
		return 0
	}
	p := 1.0
	for j := range teddyLen {
		q := 0.0
		for lo := range 16 {
			if b.lo[j]&(1<<lo) == 0 {
				continue
			}
			for hi := range 16 {
				if b.hi[j]&(1<<hi) != 0 {
					q += pair[lo][hi]
				}
			}
		}
		p *= q
	}
	return p
}

// byteChance estimates how often c occurs in web pages, from its rank in
// htmlBytes (frequencies fall roughly as the inverse of the rank; the
// values sum to about one over the listed bytes).
func byteChance(c byte) float64 { return 1 / (float64(byteRarity(c)) * 5) }

// teddyBlock is how many text bytes teddyNext needs from a block's start:
// 32 positions and the fingerprint bytes after the last.
const teddyBlock = 32 + teddyLen - 1

// teddyNextGo is teddyNext one position at a time: the definition the
// assembly is tested against.
func teddyNextGo(m *teddyMasks, text []byte, i int) (int, bool) {
	for ; i+teddyBlock <= len(text); i += 32 {
		for p := i; p < i+32; p++ {
			bits := byte(0xFF)
			for j := range teddyLen {
				c := text[p+j] | 0x20
				bits &= m.lo[j][c&15] & m.hi[j][c>>4]
			}
			if bits != 0 && m.table.has(hash4(binary.LittleEndian.Uint32(text[p:])|fold4)) {
				return p, true
			}
		}
	}
	return i, false
}
