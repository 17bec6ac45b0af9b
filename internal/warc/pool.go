package warc

import (
	"math/bits"
	"sync"
)

// blockPool recycles record blocks between the readers and workers of one
// Scan, in power-of-two size classes from 4 KiB up. A nil *blockPool
// allocates. It is safe for concurrent use.
type blockPool struct {
	classes [maxClass + 1]sync.Pool
}

const (
	minClassBits = 12 // 4 KiB
	maxClass     = 12 // 16 MiB
)

// class returns the size class holding n bytes, or -1 when n is too big
// to pool.
func class(n int) int {
	if n <= 1<<minClassBits {
		return 0
	}
	c := bits.Len(uint(n-1)) - minClassBits
	if c > maxClass {
		return -1
	}
	return c
}

// get returns a slice of length n; its contents are undefined.
func (p *blockPool) get(n int64) []byte {
	c := class(int(n))
	if p == nil || c < 0 {
		return make([]byte, n)
	}
	if v, ok := p.classes[c].Get().(*[]byte); ok {
		return (*v)[:n]
	}
	return make([]byte, n, 1<<(c+minClassBits))
}

// put returns b to the pool; the caller must not use b afterwards.
func (p *blockPool) put(b []byte) {
	if p == nil || b == nil {
		return
	}
	c := class(cap(b))
	if c < 0 || cap(b) != 1<<(c+minClassBits) {
		return // not one of ours
	}
	b = b[:0]
	p.classes[c].Put(&b)
}
