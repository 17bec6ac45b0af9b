package matcher

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// sampledLits are literals of 11 bytes or more, the sampled tables'.
var sampledLits = []string{"cdn.botpress.cloud", "widget.intercom.io/widget/", "chtl-script", "drift.load(",
	"window.gaid", "<vapi-widget", "\"color-theme\"", "lpsnmedia.net/", "kapa-widget", "botpresswebchat"}

// allSampled lists every position next proposes in text from i, with
// where it stopped.
func allSampled(g *Gate, text []byte, i int, next func(*Gate, []byte, int) (int, bool)) (got []int, stop int) {
	for {
		p, ok := next(g, text, i)
		if !ok {
			return got, p
		}
		got = append(got, p)
		i = (p + sampleStride) &^ (sampleStride - 1) // as walkSampled resumes
	}
}

func checkSampledAgrees(t *testing.T, g *Gate, text []byte) {
	t.Helper()
	for _, i := range []int{0, 8, 16, 24, 32, len(text) / 2 &^ 7} {
		asm, asmStop := allSampled(g, text, i, sampledNext)
		ref, refStop := allSampled(g, text, i, sampledNextGo)
		if !slices.Equal(asm, ref) || asmStop != refStop {
			t.Fatalf("text %q from %d:\n sampledNext   %v stop %d\n sampledNextGo %v stop %d", text, i, asm, asmStop, ref, refStop)
		}
	}
}

// TestSampledNextLikeGo: the assembly proposes exactly the positions its
// Go definition does, on texts dense with the literals, their pieces and
// case variants, from several starts.
func TestSampledNextLikeGo(t *testing.T) {
	g, ok := NewGate(sampledLits)
	if !ok {
		t.Fatal("gate refused")
	}
	r := rand.New(rand.NewPCG(5, 6))
	proposed := 0
	for range 2000 {
		var text []byte
		for range r.IntN(40) {
			switch r.IntN(3) {
			case 0:
				l := sampledLits[r.IntN(len(sampledLits))]
				if r.IntN(2) == 0 {
					l = strings.ToUpper(l)
				}
				text = append(text, l[r.IntN(len(l)/2):]...)
			case 1:
				const punct = " <>.$_-\"\x00\xff"
				text = append(text, punct[r.IntN(len(punct))])
			default:
				for range r.IntN(9) {
					text = append(text, byte('a'+r.IntN(26)))
				}
			}
		}
		checkSampledAgrees(t, g, text)
		got, _ := allSampled(g, text, 0, sampledNext)
		proposed += len(got)
	}
	if proposed == 0 {
		t.Fatal("no position proposed: the texts do not exercise the hit path")
	}
}

// FuzzSampledNext: the assembly agrees with its definition on any bytes.
func FuzzSampledNext(f *testing.F) {
	g, _ := NewGate(sampledLits)
	f.Add([]byte("<script src=//CDN.BOTPRESS.cloud/x.js></script> window.gaid=1; drift.load('x')"))
	f.Fuzz(func(t *testing.T, text []byte) { checkSampledAgrees(t, g, text) })
}
