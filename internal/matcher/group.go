package matcher

import (
	"fmt"

	ac "github.com/coregx/ahocorasick"
)

// Group searches the literals of several Sets (and plain literal lists) in
// one Aho-Corasick pass over a text, so that Sets scanning the same text,
// or segments of it, share a single pass. It is immutable and safe for
// concurrent use.
type Group struct {
	ac     *ac.Automaton
	owners [][]owner // group literal id -> members using it
	n      int       // members
}

type owner struct {
	member int32
	lit    int32
}

// NewGroup builds a Group over members: each is a *Set (its Literals) or a
// []string of lowercase literals.
func NewGroup(members ...any) (*Group, error) {
	g := &Group{n: len(members)}
	ids := map[string]int32{}
	var all []string
	for mi, m := range members {
		var lits []string
		switch v := m.(type) {
		case *Set:
			lits = v.lits
		case []string:
			lits = v
		default:
			return nil, fmt.Errorf("matcher: group member %d: %T is neither *Set nor []string", mi, m)
		}
		for li, l := range lits {
			id, ok := ids[l]
			if !ok {
				id = int32(len(all))
				ids[l] = id
				all = append(all, l)
				g.owners = append(g.owners, nil)
			}
			g.owners[id] = append(g.owners[id], owner{member: int32(mi), lit: int32(li)})
		}
	}
	if len(all) > 0 {
		auto, err := ac.NewBuilder().AddStrings(all).Build()
		if err != nil {
			return nil, fmt.Errorf("matcher: build group automaton: %w", err)
		}
		g.ac = auto
	}
	return g, nil
}

// Find calls fn for every occurrence of every member literal in lower
// (which must be lowercased with Lower), ordered by end offset.
func (g *Group) Find(lower []byte, fn func(member int, h Hit)) {
	if g.ac == nil {
		return
	}
	for _, m := range g.ac.FindAllOverlapping(lower) {
		for _, o := range g.owners[m.PatternID] {
			fn(int(o.member), Hit{Lit: o.lit, Start: int32(m.Start), End: int32(m.End)})
		}
	}
}

// IsMatch reports whether any member literal occurs in lower (lowercased
// with Lower), stopping at the first occurrence. (It uses the automaton's
// Find rather than its IsMatch, whose skip-ahead runs one IndexByte per
// possible start byte and slows to a crawl with thousands of literals.)
func (g *Group) IsMatch(lower []byte) bool {
	if g.ac == nil {
		return false
	}
	_, ok := g.ac.Find(lower, 0)
	return ok
}
