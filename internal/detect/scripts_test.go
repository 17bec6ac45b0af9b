package detect

import (
	"bytes"
	"net/url"
	"reflect"
	"testing"

	"golang.org/x/net/html"
)

func TestScriptSources(t *testing.T) {
	base, _ := url.Parse("https://site.test/a/page.html")
	body := []byte(`<html><head><script src="/static/app.js"></script>
<script src="rel.js#frag"></script><script src="https://cdn.example/x.js"></script>
<script src="/static/app.js"></script><script type="application/ld+json" src="/data.json"></script>
<script src="javascript:void(0)"></script><script>inline()</script></head></html>`)
	want := []string{"https://site.test/static/app.js", "https://site.test/a/rel.js", "https://cdn.example/x.js"}
	if got := ScriptSources(body, base); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	withBase := []byte(`<base href="https://other.test/dir/"><script src="b.js"></script>`)
	if got := ScriptSources(withBase, base); !reflect.DeepEqual(got, []string{"https://other.test/dir/b.js"}) {
		t.Errorf("base href not honoured: %q", got)
	}
}

// TestScriptSourcesLikeTokenizer: the fast listing gives what a full
// tokenizer pass gives on every real page of the corpus.
func TestScriptSourcesLikeTokenizer(t *testing.T) {
	base, _ := url.Parse("https://site.test/")
	n := 0
	for _, src := range []string{"readability", "trafilatura", "htmlparser-benchmark"} {
		for _, p := range loadPages(t, src) {
			got, want := ScriptSources(p.body, base), tokenizerScriptSources(p.body, base)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\n fast      %q\n tokenizer %q", p.name, got, want)
			}
			n += len(want)
		}
	}
	t.Logf("%d script sources compared", n)
}

// tokenizerScriptSources is the reference: a full tokenizer pass.
func tokenizerScriptSources(body []byte, base *url.URL) []string {
	z := html.NewTokenizer(bytes.NewReader(body))
	var out []string
	seen := map[string]bool{}
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			tag := string(name)
			var src, typ, href string
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				switch string(k) {
				case "src":
					src = string(v)
				case "type":
					typ = string(v)
				case "href":
					href = string(v)
				}
			}
			if tag == "base" && href != "" {
				if u, err := resolve(base, href); err == nil {
					base = u
				}
			}
			if tag != "script" || src == "" || !executableScript(typ) {
				continue
			}
			if u, err := resolve(base, src); err == nil && (u.Scheme == "http" || u.Scheme == "https") && !seen[u.String()] {
				seen[u.String()] = true
				out = append(out, u.String())
			}
		}
	}
}

func FuzzScriptSources(f *testing.F) {
	f.Add([]byte(`<script src="a.js"></script><!-- <script src="b.js"> --><SCRIPT SRC=c.js>x</SCRIPT><base href="/d/"><script src=e.js>`))
	base, _ := url.Parse("https://site.test/")
	f.Fuzz(func(t *testing.T, body []byte) {
		_ = ScriptSources(body, base)
	})
}

// FuzzTagAttrs: the in-place attribute parser agrees with the tokenizer
// whenever it answers.
func FuzzTagAttrs(f *testing.F) {
	for _, s := range []string{
		`<script src="a.js" type=module>`, `<script SRC = 'x' src=y>`, `<script =src=a src=b/>`,
		`<script src=a&amp;b>`, `<base href="/d/" / href=e>`, `<script src="a`, `<script /src=a>`,
		"<script src=\"a\r\nb\">", `<script type= >`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, tag []byte) {
		if len(tag) < 2 || tag[0] != '<' || tag[1]|0x20 < 'a' || tag[1]|0x20 > 'z' {
			return
		}
		va, vb, n, ok := plainTagAttrs(tag, "src", "type")
		if !ok {
			return
		}
		wa, wb, wn := tokenizerTagAttrs(tag, "src", "type")
		if va != wa || vb != wb || n != wn {
			t.Fatalf("%q: plain (%q, %q, %d), tokenizer (%q, %q, %d)", tag, va, vb, n, wa, wb, wn)
		}
	})
}
