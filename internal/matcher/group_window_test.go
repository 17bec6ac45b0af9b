package matcher

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	ac "github.com/coregx/ahocorasick"
)

// groupLits are literals of the shapes the AI catalog gives a Group:
// overlapping, nested, repeated characters, every length class.
var groupLits = [][]string{
	{"cdn.botpress.cloud", "botpress", "webchat", "botpresswebchat", "aaaa", "aaaaaaaaaaaa"},
	{"kapa", "kapa-widget", "widget.kapa.ai", "intercom", "widget.intercom.io/widget/", "abab"},
	{"chatbase", "base", "ababab", "bpfab", "$crisp", "window.$crisp"},
}

// acGroup is g searched by an Aho-Corasick automaton, as groups too large
// for a window index are.
func acGroup(t testing.TB, g *Group) *Group {
	t.Helper()
	auto, err := ac.NewBuilder().AddStrings(g.win.lits).Build()
	if err != nil {
		t.Fatal(err)
	}
	c := *g
	c.win, c.ac = nil, auto
	return &c
}

// scalarGroup is g with its window index built without the Teddy filter.
func scalarGroup(t testing.TB, g *Group) *Group {
	t.Helper()
	gl := make([]GateLiteral, len(g.win.lits))
	for i, l := range g.win.lits {
		gl[i] = GateLiteral{Lit: l, Exact: true}
	}
	win, ok := newGate(gl, false)
	if !ok {
		t.Fatal("gate refused the group's literals")
	}
	c := *g
	c.win = win
	return &c
}

type memberHit struct {
	m int
	h Hit
}

func groupHitsOf(g *Group, text []byte) []memberHit {
	var out []memberHit
	g.Find(text, func(m int, h Hit) { out = append(out, memberHit{m, h}) })
	return out
}

func sortedHits(hs []memberHit) []memberHit {
	hs = slices.Clone(hs)
	slices.SortFunc(hs, func(a, b memberHit) int {
		return cmp.Or(cmp.Compare(a.h.End, b.h.End), cmp.Compare(a.h.Start, b.h.Start), cmp.Compare(a.m, b.m), cmp.Compare(a.h.Lit, b.h.Lit))
	})
	return hs
}

func checkGroupAgrees(t *testing.T, win, auto *Group, text []byte) {
	t.Helper()
	got, want := groupHitsOf(win, text), groupHitsOf(auto, text)
	checkFrom(t, win, auto, text, want)
	for i := 1; i < len(got); i++ {
		if got[i].h.End < got[i-1].h.End {
			t.Fatalf("hits not ordered by end in %q: %v", text, got)
		}
	}
	if !slices.Equal(sortedHits(got), sortedHits(want)) {
		t.Fatalf("text %q:\n window %v\n automaton %v", text, sortedHits(got), sortedHits(want))
	}
	if win.IsMatch(text) != (len(want) > 0) {
		t.Fatalf("IsMatch(%q) = %v with %d hits", text, win.IsMatch(text), len(want))
	}
}

// TestGroupWindowLikeAutomaton: the window index, with and without the
// Teddy filter, finds exactly the hits the automaton finds, on texts
// packed with overlapping literals.
func TestGroupWindowLikeAutomaton(t *testing.T) {
	win, err := NewGroup(groupLits[0], groupLits[1], groupLits[2])
	if err != nil {
		t.Fatal(err)
	}
	if win.win == nil {
		t.Fatal("a small group of long literals should use the window index")
	}
	auto := acGroup(t, win)
	scalar := scalarGroup(t, win)
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		var text []byte
		for range r.IntN(12) {
			switch r.IntN(3) {
			case 0:
				m := groupLits[r.IntN(len(groupLits))]
				l := m[r.IntN(len(m))]
				if r.IntN(4) == 0 {
					l = l[:r.IntN(len(l)+1)] // a cut-off literal
				}
				text = append(text, l...)
			case 1:
				text = append(text, "ab.$-/"[r.IntN(6)])
			default:
				for range r.IntN(9) {
					text = append(text, byte('a'+r.IntN(3)))
				}
			}
		}
		checkGroupAgrees(t, win, auto, Lower(nil, text))
		checkGroupAgrees(t, scalar, auto, Lower(nil, text))
	}
}

func FuzzGroupWindow(f *testing.F) {
	win, err := NewGroup(groupLits[0], groupLits[1], groupLits[2])
	if err != nil {
		f.Fatal(err)
	}
	auto := acGroup(f, win)
	scalar := scalarGroup(f, win)
	f.Add([]byte("cdn.botpress.cloud/webchat kapa-widget aaaaaaaaaaaaaaa abababab"))
	f.Fuzz(func(t *testing.T, text []byte) {
		checkGroupAgrees(t, win, auto, Lower(nil, text))
		checkGroupAgrees(t, scalar, auto, Lower(nil, text))
	})
}

// checkFrom: a Gate over the group's literals bounds every hit (From), and
// FindFrom finds exactly the hits starting at or after its from, for the
// gate's bound and for every other offset.
func checkFrom(t *testing.T, win, auto *Group, text []byte, want []memberHit) {
	t.Helper()
	gate, ok := NewGate(win.win.lits)
	if !ok {
		t.Fatal("gate refused the group's literals")
	}
	from := gate.From(text)
	if from < 0 && len(want) > 0 {
		t.Fatalf("From(%q) = -1 with hits %v", text, want)
	}
	for _, w := range want {
		if int(w.h.Start) < from {
			t.Fatalf("From(%q) = %d after hit %v", text, from, w)
		}
	}
	for f := 0; f <= len(text)+1; f += 1 + len(text)/40 {
		var wantFrom []memberHit
		for _, w := range want {
			if int(w.h.Start) >= f {
				wantFrom = append(wantFrom, w)
			}
		}
		for _, g := range []*Group{win, auto} {
			var got []memberHit
			g.FindFrom(text, f, func(m int, h Hit) { got = append(got, memberHit{m, h}) })
			if !slices.Equal(sortedHits(got), sortedHits(wantFrom)) {
				t.Fatalf("FindFrom(%q, %d) (automaton %v):\n got %v\n want %v", text, f, g.ac != nil, sortedHits(got), sortedHits(wantFrom))
			}
		}
	}
}
