package matcher

import (
	"cmp"
	"fmt"
	"slices"

	ac "github.com/coregx/ahocorasick"
)

// Group searches the literals of several Sets (and plain literal lists) in
// one pass over a text, so that Sets scanning the same text, or segments
// of it, share a single pass. A group of at most maxWindowedLits
// literals, none shorter than four bytes (the AI catalog's), is searched
// with a Gate's sampled window index, about twice as fast as an automaton;
// any other with an Aho-Corasick automaton. It is immutable and safe for
// concurrent use.
type Group struct {
	ac     *ac.Automaton
	win    *Gate     // when set, used instead of ac
	owners [][]owner // group literal id -> members using it
	n      int       // members
}

// maxWindowedLits bounds the literals a Gate index takes for a Group: its
// 64 Ki-bit tables must stay sparse for most positions to be rejected by
// one probe.
const maxWindowedLits = 1024

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
	if len(all) > 0 && len(all) <= maxWindowedLits {
		gl := make([]GateLiteral, len(all))
		for i, l := range all {
			gl[i] = GateLiteral{Lit: l, Exact: true} // texts are lowercased
		}
		if win, ok := NewGateOf(gl); ok {
			g.win = win
			return g, nil
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
func (g *Group) Find(lower []byte, fn func(member int, h Hit)) { g.FindFrom(lower, 0, fn) }

// FindFrom is Find for the occurrences starting at or after from (offsets
// still count from the start of lower): a caller that knows none starts
// earlier, from a Gate's From over the same literals or more, skips the
// text before.
func (g *Group) FindFrom(lower []byte, from int, fn func(member int, h Hit)) {
	from = min(max(from, 0), len(lower))
	if g.win != nil {
		var found []Hit // Lit holds the group literal id here
		g.win.each(lower, from, func(id int32, start int) {
			found = append(found, Hit{Lit: id, Start: int32(start), End: int32(start + len(g.win.lits[id]))})
		})
		slices.SortFunc(found, func(a, b Hit) int {
			return cmp.Or(cmp.Compare(a.End, b.End), cmp.Compare(b.Start, a.Start), cmp.Compare(a.Lit, b.Lit))
		})
		for _, f := range found {
			for _, o := range g.owners[f.Lit] {
				fn(int(o.member), Hit{Lit: o.lit, Start: f.Start, End: f.End})
			}
		}
		return
	}
	if g.ac == nil {
		return
	}
	for _, m := range g.ac.FindAllOverlapping(lower[from:]) {
		for _, o := range g.owners[m.PatternID] {
			fn(int(o.member), Hit{Lit: o.lit, Start: int32(from + m.Start), End: int32(from + m.End)})
		}
	}
}

// IsMatch reports whether any member literal occurs in lower (lowercased
// with Lower), stopping at the first occurrence. (It uses the automaton's
// Find rather than its IsMatch, whose skip-ahead runs one IndexByte per
// possible start byte and slows to a crawl with thousands of literals.)
func (g *Group) IsMatch(lower []byte) bool {
	if g.win != nil {
		return g.win.Any(lower)
	}
	if g.ac == nil {
		return false
	}
	_, ok := g.ac.Find(lower, 0)
	return ok
}
