//go:build !amd64 || purego

package matcher

// teddyUsable reports whether teddyNext runs here: only on amd64 with AVX2.
func teddyUsable() bool { return false }

// teddyNext is never called where teddyUsable is false; it is teddyNextGo
// so that the package builds and its tests run everywhere.
func teddyNext(m *teddyMasks, text []byte, i int) (int, bool) { return teddyNextGo(m, text, i) }
