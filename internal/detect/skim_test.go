package detect

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// skimView is what skimPage must agree with scanPage on.
func skimView(pg *page) []any {
	return []any{pg.scriptSrcs, pg.inline, pg.styles, pg.metas, pg.cspMeta}
}

func checkSkim(t *testing.T, name string, body []byte) {
	t.Helper()
	d := &Detector{}
	got, want := skimView(skimPage(body)), skimView(d.scanPage(body, nil, false))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: skimPage and scanPage differ:\n skim %#v\n scan %#v", name, got, want)
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
	}
	r := newRand(7)
	for range 200000 {
		var b []byte
		for range r.IntN(14) {
			b = append(b, frags[r.IntN(len(frags))]...)
		}
		checkSkim(t, "random", b)
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }
