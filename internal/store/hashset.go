package store

import (
	"slices"
)

// hashSet is a set of 64-bit hashes kept compact: a sorted slice (8 bytes
// per member) plus a map of recent additions that is merged into the slice
// when it grows past a quarter of it. The zero value is an empty set; it is
// not safe for concurrent use.
type hashSet struct {
	sorted []uint64
	recent map[uint64]struct{}
}

// newHashSet builds a set from hashes (which it sorts and keeps).
func newHashSet(hashes []uint64) *hashSet {
	slices.Sort(hashes)
	return &hashSet{sorted: slices.Compact(hashes)}
}

func (h *hashSet) has(x uint64) bool {
	if _, ok := h.recent[x]; ok {
		return true
	}
	_, found := slices.BinarySearch(h.sorted, x)
	return found
}

func (h *hashSet) add(x uint64) {
	if h.has(x) {
		return
	}
	if h.recent == nil {
		h.recent = map[uint64]struct{}{}
	}
	h.recent[x] = struct{}{}
	if len(h.recent) > max(4096, len(h.sorted)/4) {
		h.merge()
	}
}

// merge moves the recent additions into the sorted slice.
func (h *hashSet) merge() {
	add := make([]uint64, 0, len(h.recent))
	for x := range h.recent {
		add = append(add, x)
	}
	slices.Sort(add)
	out := make([]uint64, 0, len(h.sorted)+len(add))
	i, j := 0, 0
	for i < len(h.sorted) && j < len(add) {
		if h.sorted[i] < add[j] {
			out = append(out, h.sorted[i])
			i++
		} else {
			out = append(out, add[j])
			j++
		}
	}
	out = append(append(out, h.sorted[i:]...), add[j:]...)
	h.sorted = out
	clear(h.recent)
}

func (h *hashSet) len() int { return len(h.sorted) + len(h.recent) }
