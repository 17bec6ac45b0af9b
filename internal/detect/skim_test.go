package detect

import (
	"math/rand/v2"

	"github.com/aicensus/aicensus/internal/catalog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
)

// skimView is what skimPage must agree with scanPage on.
func skimView(pg *page) []any {
	return []any{pg.scriptSrcs, pg.inline, pg.styles, pg.metas, pg.cspMeta, pg.dom}
}

// simplePlan plans every selector of d that skimPage can evaluate (no
// combinators, no text rule).
func simplePlan(d *Detector) *domPlan {
	plan := newDOMPlan()
	for si := range d.domSels {
		p := newDOMPlan()
		p.add(&d.domSels[si], si)
		if skimmable(p, false) {
			plan.add(&d.domSels[si], si)
		}
	}
	return plan
}

var (
	skimOnce     sync.Once
	skimDetector *Detector
)

func checkSkim(t *testing.T, name string, body []byte) {
	t.Helper()
	skimOnce.Do(func() {
		c, err := catalog.Open(false)
		if err != nil {
			t.Fatal(err)
		}
		if skimDetector, err = New(c, Options{}); err != nil {
			t.Fatal(err)
		}
	})
	d := skimDetector
	for _, plan := range []*domPlan{nil, simplePlan(d)} {
		got, want := skimView(d.skimPage(body, plan)), skimView(d.scanPage(body, plan, false))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: skimPage and scanPage differ (plan %v):\n skim %#v\n scan %#v", name, plan != nil, got, want)
		}
	}
}

// TestSkimLikeScanPage: on every corpus page and every vendor embed
// snippet, skimPage collects exactly what the tokenizer pass collects.
func TestSkimLikeScanPage(t *testing.T) {
	n := 0
	for _, src := range []string{"readability", "trafilatura", "htmlparser-benchmark"} {
		for _, p := range loadPages(t, src) {
			checkSkim(t, src+"/"+p.name, p.body)
			n++
		}
	}
	embeds, _ := filepath.Glob(filepath.Join(shared(t, filepath.Join("research", "ai-embeds")), "*"))
	for _, f := range embeds {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a folder
		}
		checkSkim(t, f, b)
		n++
	}
	t.Logf("%d pages agree", n)
}

func FuzzSkimPage(f *testing.F) {
	for _, s := range []string{
		`<script src="a.js" type=module>x</script><!-- <script src="b.js"> --><SCRIPT SRC=c.js>y</SCRIPT>`,
		`<script><!-- <script> </script> --></script><style>a{}</style>`,
		`<meta name=description content="a &amp; b"><meta http-equiv="Content-Security-Policy" content="default-src 'self'">`,
		`<!DOCTYPE html><?xml x?></ x><div title=">"><script>a</SCRIPT b></script>`,
		`<title><script>no</script></title><script/>z</script><plaintext><script>`,
		"<script>\x00</script><meta content=\"a\rb\" name=x>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkSkim(t, "fuzz", body)
	})
}

// TestSkimRandomMarkup compares skimPage with scanPage on random strings
// of the fragments whose handling is subtle: script escapes, comments,
// raw-text elements, quotes, cut-off tags.
func TestSkimRandomMarkup(t *testing.T) {
	frags := []string{
		"<script>", "</script>", "<SCRIPT src=a.js>", "<script type=application/json>", "</script x>",
		"<!--", "-->", "--", "--!>", "-", "!", "<", ">", "/", "</", "<!", "<?", "<!doctype html>",
		"<script", "script", " ", "\"", "'", "=", "src=b.js", "type=module", "<style>", "</style>",
		"<title>", "</title>", "<meta name=a content=b>", "<meta http-equiv=content-security-policy content='x'>",
		"&amp;", "\r", "\x00", "x", "<div title=\">\">", "<textarea>", "</textarea ", "<plaintext>",
		// elements the AI catalog's selectors match
		"<div id=bp-web-widget>", "<DIV ID='bp-web-widget' id=x>", "<div class=\"a bpFab\">", "<div class=bpFab&amp;>",
		"<iframe src=\"https://x.hf.space/\">", "<iframe id=intercom-frame>", "<openai-chatkit>", "<gradio-app space=a>",
		"<script id=ze-snippet src=z.js>", "<script src='//widget.kapa.ai/k.js' data-website-id=1>",
		"<link href=\"https://widget.intercom.io/x\">", "<script id=\"__ada\">", " class=bpWebchat", " id=n8n-chat",
		"<DİV id=bp-web-widget>", "<Ädiv ÄID=x>", "<averyveryverylongcustomelementname-x id=bp-web-widget>",
	}
	r := newRand(7)
	for range 100000 {
		var b []byte
		for range r.IntN(14) {
			b = append(b, frags[r.IntN(len(frags))]...)
		}
		checkSkim(t, "random", b)
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }
