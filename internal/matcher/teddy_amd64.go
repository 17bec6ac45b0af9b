//go:build amd64 && !purego

package matcher

import "golang.org/x/sys/cpu"

// teddyUsable reports whether teddyNext runs here (it needs AVX2).
func teddyUsable() bool { return cpu.X86.HasAVX2 }

// teddyNext returns the first position p at or after i, looking at 32
// positions at a time while teddyBlock bytes fit, whose folded bytes pass
// m's nibble masks and hash table, and true; or, when there is none, the
// first position it did not look at (i, or past the last whole block)
// and false. It needs AVX2 (teddyUsable).
//
//go:noescape
func teddyNext(m *teddyMasks, text []byte, i int) (p int, ok bool)

// The assembly matches exactly five fingerprint bytes.
const (
	_ uint = teddyLen - 5
	_ uint = 5 - teddyLen
)
