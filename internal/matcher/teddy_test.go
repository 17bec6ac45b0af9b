package matcher

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// teddyLits are short literals like the AI catalog's: js globals, widget
// names, punctuation, a literal inside another.
var teddyLits = []string{"kapa", "drift", "driftt", "lptag", "__ada", "$crisp", "$zopim", "askai",
	"bpfab", ".bpfab", "inkeep", "lovable", "webchat", "n8n-chat", ".hf.space", "open webui", "noindex,", "zendesk"}

func teddyOf(t testing.TB, lits []string) *teddyMasks {
	t.Helper()
	var fps []string
	for _, l := range lits {
		n := min(len(l), teddyLen)
		off := uncommonWindow(l, n)
		fps = append(fps, string(foldBytes([]byte(l[off:off+n]))))
	}
	return newTeddyMasks(fps)
}

// teddyResume is where walkTeddy goes on after a proposed position.
func teddyResume(p int) int { return p + 1 }

func checkTeddyAgrees(t *testing.T, m *teddyMasks, text []byte) {
	t.Helper()
	checkAsmAgrees(t, m, text, []int{0, 1, 3, 31, 32, 33, len(text) / 2}, teddyNext, teddyNextGo, teddyResume)
}

// TestTeddyNextLikeGo: the assembly proposes exactly the positions the
// one-at-a-time definition does, on texts dense with literals, their
// pieces and case variants, from several starts; and every occurrence of
// a literal has its window proposed.
func TestTeddyNextLikeGo(t *testing.T) {
	if !teddyUsable() {
		t.Skip("no AVX2 here: teddyNext is teddyNextGo")
	}
	m := teddyOf(t, teddyLits)
	r := rand.New(rand.NewPCG(3, 4))
	proposed := 0
	for range 2000 {
		text := denseText(r, teddyLits)
		checkTeddyAgrees(t, m, text)
		got, _ := proposals(m, text, 0, teddyNext, teddyResume)
		proposed += len(got)
	}
	if proposed == 0 {
		t.Fatal("no position proposed: the texts do not exercise the hit path")
	}
	// Every occurrence, at every offset of texts around the block size.
	filler := strings.Repeat("the quick brown fox <div class=a> window.x = 1; ", 3)
	for _, l := range teddyLits {
		off := uncommonWindow(l, min(len(l), teddyLen))
		for size := 30; size <= 100; size++ {
			base := filler[:size]
			for at := 0; at+len(l) <= size; at += 1 + size/10 {
				text := []byte(base[:at] + strings.ToUpper(l) + base[at+len(l):])
				got, stop := proposals(m, text, 0, teddyNext, teddyResume)
				want, _ := proposals(m, text, 0, teddyNextGo, teddyResume)
				if !slices.Equal(got, want) {
					t.Fatalf("%q in %q: %v, want %v", l, text, got, want)
				}
				// Positions from stop on are left to the caller.
				if q := at + off; q < stop && !slices.Contains(got, q) {
					t.Fatalf("%q at %d in %q: window at %d not proposed (%v, stop %d)", l, at, text, q, got, stop)
				}
			}
		}
	}
}

// FuzzTeddyNext: the assembly agrees with its definition on any bytes.
func FuzzTeddyNext(f *testing.F) {
	if !teddyUsable() {
		f.Skip("no AVX2 here: teddyNext is teddyNextGo")
	}
	m := teddyOf(f, teddyLits)
	f.Add([]byte("window.$crisp=[]; KAPA.open(); <script src=x.hf.space>"))
	f.Fuzz(func(t *testing.T, text []byte) { checkTeddyAgrees(t, m, text) })
}
