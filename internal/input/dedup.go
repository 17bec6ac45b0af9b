package input

import "hash/maphash"

// hostSet remembers the hosts already returned. It stores a 128-bit keyed
// hash of each host instead of the string: 16 bytes a key (about 24 bytes an
// entry with the map's overhead) instead of a string header, its bytes and
// their allocation, so 1,000,000 distinct targets cost about 30 MB. The
// seeds are random per set, so no input can be crafted to collide; by
// chance, two of a million hosts share a 128-bit hash with probability
// about 1.5e-27.
type hostSet struct {
	s1, s2 maphash.Seed
	m      map[[2]uint64]struct{}
}

func newHostSet() *hostSet {
	return &hostSet{s1: maphash.MakeSeed(), s2: maphash.MakeSeed(), m: make(map[[2]uint64]struct{})}
}

// add records host and reports whether it was new.
func (s *hostSet) add(host string) bool {
	k := [2]uint64{maphash.String(s.s1, host), maphash.String(s.s2, host)}
	if _, ok := s.m[k]; ok {
		return false
	}
	s.m[k] = struct{}{}
	return true
}
