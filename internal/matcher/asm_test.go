package matcher

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// nextFunc is the shape of the assembly filters and of their Go
// definitions: the next proposed position from i, or where it stopped.
type nextFunc[M any] func(m M, text []byte, i int) (int, bool)

// proposals lists every position next proposes in text from i, resuming
// at resume(p) after each, with where it stopped.
func proposals[M any](m M, text []byte, i int, next nextFunc[M], resume func(p int) int) (got []int, stop int) {
	for {
		p, ok := next(m, text, i)
		if !ok {
			return got, p
		}
		got = append(got, p)
		i = resume(p)
	}
}

// checkAsmAgrees fails t unless asm and its definition ref propose the
// same positions in text, and stop at the same place, from every start.
func checkAsmAgrees[M any](t *testing.T, m M, text []byte, starts []int, asm, ref nextFunc[M], resume func(int) int) {
	t.Helper()
	for _, i := range starts {
		got, gotStop := proposals(m, text, i, asm, resume)
		want, wantStop := proposals(m, text, i, ref, resume)
		if !slices.Equal(got, want) || gotStop != wantStop {
			t.Fatalf("text %q from %d:\n assembly   %v stop %d\n definition %v stop %d", text, i, got, gotStop, want, wantStop)
		}
	}
}

// denseText is a random text packed with lits, whole, cut at either end
// and in upper case, among punctuation, control bytes and letters.
func denseText(r *rand.Rand, lits []string) []byte {
	const punct = " <>.$_-\"\x00\xff"
	var text []byte
	for range r.IntN(40) {
		switch r.IntN(3) {
		case 0:
			l := lits[r.IntN(len(lits))]
			if r.IntN(2) == 0 {
				l = strings.ToUpper(l)
			}
			switch r.IntN(3) {
			case 0:
				l = l[:max(1, r.IntN(len(l)+1))]
			case 1:
				l = l[r.IntN(len(l)):]
			}
			text = append(text, l...)
		case 1:
			text = append(text, punct[r.IntN(len(punct))])
		default:
			for range r.IntN(9) {
				text = append(text, byte('a'+r.IntN(26)))
			}
		}
	}
	return text
}
