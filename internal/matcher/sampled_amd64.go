//go:build amd64 && !purego

package matcher

// sampledNext returns the first position p = i + 8k, for p+32 within
// text in steps of four positions, whose folded 8-byte window has its
// hash8 bit set in gate.table8 or its low four bytes their hash4 bit in
// gate.table4, and true; or, when there is none, the first position it did
// not look at and false. It is sampledNextGo in assembly: the Go loop
// spills its registers on every position.
//
//go:noescape
func sampledNext(gate *Gate, text []byte, i int) (p int, ok bool)
