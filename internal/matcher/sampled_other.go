//go:build !amd64 || purego

package matcher

// sampledNext is sampledNextGo where there is no assembly version.
func sampledNext(g *Gate, text []byte, i int) (int, bool) { return sampledNextGo(g, text, i) }
