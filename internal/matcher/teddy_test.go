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

// allTeddy lists every position teddyNext proposes in text from i, with
// where it stopped.
func allTeddy(m *teddyMasks, text []byte, i int, next func(*teddyMasks, []byte, int) (int, bool)) (got []int, stop int) {
	for {
		p, ok := next(m, text, i)
		if !ok {
			return got, p
		}
		got = append(got, p)
		i = p + 1
	}
}

func checkTeddyAgrees(t *testing.T, m *teddyMasks, text []byte) {
	t.Helper()
	for _, i := range []int{0, 1, 3, 31, 32, 33, len(text) / 2} {
		asm, asmStop := allTeddy(m, text, i, teddyNext)
		ref, refStop := allTeddy(m, text, i, teddyNextGo)
		if !slices.Equal(asm, ref) || asmStop != refStop {
			t.Fatalf("text %q from %d:\n teddyNext   %v stop %d\n teddyNextGo %v stop %d", text, i, asm, asmStop, ref, refStop)
		}
	}
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
	for range 2000 {
		var text []byte
		for range r.IntN(40) {
			switch r.IntN(3) {
			case 0:
				l := teddyLits[r.IntN(len(teddyLits))]
				if r.IntN(2) == 0 {
					l = strings.ToUpper(l)
				}
				text = append(text, l[:max(1, r.IntN(len(l)+1))]...)
			case 1:
				const punct = " <>.$_-\x00\xff"
				text = append(text, punct[r.IntN(len(punct))])
			default:
				for range r.IntN(9) {
					text = append(text, byte('a'+r.IntN(26)))
				}
			}
		}
		checkTeddyAgrees(t, m, text)
	}
	// Every occurrence, at every offset of texts around the block size.
	filler := strings.Repeat("the quick brown fox <div class=a> window.x = 1; ", 3)
	for _, l := range teddyLits {
		off := uncommonWindow(l, min(len(l), teddyLen))
		for size := 30; size <= 100; size++ {
			base := filler[:size]
			for at := 0; at+len(l) <= size; at += 1 + size/10 {
				text := []byte(base[:at] + strings.ToUpper(l) + base[at+len(l):])
				got, stop := allTeddy(m, text, 0, teddyNext)
				want, _ := allTeddy(m, text, 0, teddyNextGo)
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
