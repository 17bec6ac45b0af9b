//go:build amd64 && !purego

package matcher

// sampledNext returns the first position p from i on (a multiple of
// sampleStride), in steps of four sampled positions while sampledBlock
// bytes fit, whose folded 8-byte window has its hash8 bit set in
// gate.tableM and its hash8b bit in gate.checkM, or the same in table8
// and check8 if p is sampled; and true. When there is none it returns the first position it did not
// look at and false. It is sampledNextGo in assembly: the Go loop spills
// its registers on every position.
//
//go:noescape
func sampledNext(gate *Gate, text []byte, i int) (p int, ok bool)
