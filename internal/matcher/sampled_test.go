package matcher

import (
	"math/rand/v2"
	"testing"
)

// sampledLits are literals of 11 bytes or more, the sampled tables'.
var sampledLits = []string{"cdn.botpress.cloud", "widget.intercom.io/widget/", "chtl-script", "drift.load(",
	"window.gaid", "<vapi-widget", "\"color-theme\"", "lpsnmedia.net/", "kapa-widget", "botpresswebchat"}

// sampledResume is where walkSampled has sampledNext go on after a
// proposed position: the next multiple of sampleStride.
func sampledResume(p int) int { return (p + sampleStride) &^ (sampleStride - 1) }

func checkSampledAgrees(t *testing.T, g *Gate, text []byte) {
	t.Helper()
	checkAsmAgrees(t, g, text, []int{0, 8, 16, 24, 32, len(text) / 2 &^ 7}, sampledNext, sampledNextGo, sampledResume)
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
		text := denseText(r, sampledLits)
		checkSampledAgrees(t, g, text)
		got, _ := proposals(g, text, 0, sampledNext, sampledResume)
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
