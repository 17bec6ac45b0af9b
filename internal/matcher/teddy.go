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
// teddyLen bytes). Similar fingerprints share buckets, which keeps the
// nibble sets of each bucket small.
func newTeddyMasks(fps []string) *teddyMasks {
	m := &teddyMasks{}
	fps = slices.Clone(fps)
	slices.Sort(fps)
	for k, fp := range fps {
		bit := byte(1) << (k * 8 / len(fps))
		for j := range teddyLen {
			for lo := range 16 {
				for hi := range 16 {
					if j < len(fp) && (fp[j]&15 != byte(lo) || fp[j]>>4 != byte(hi)) {
						continue
					}
					m.lo[j][lo] |= bit
					m.lo[j][16+lo] |= bit
					m.hi[j][hi] |= bit
					m.hi[j][16+hi] |= bit
				}
			}
		}
		m.table.set(hash4(binary.LittleEndian.Uint32([]byte(fp))))
	}
	return m
}

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
