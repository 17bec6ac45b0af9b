package render

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/model"
)

func TestNewProbe(t *testing.T) {
	cat, err := catalog.Open(false)
	if err != nil {
		t.Fatal(err)
	}
	p := NewProbe(cat)
	for _, g := range []string{"botpress.init", "botpressWebChat", "voiceflow.chat", "$chatwoot", "Intercom"} {
		if !slices.Contains(p.Globals, g) {
			t.Errorf("global %q missing", g)
		}
	}
	var css []string
	for _, s := range p.Selectors {
		css = append(css, s.CSS)
	}
	for _, s := range []string{".bpFab", "df-messenger", "#voiceflow-chat", "iframe[src*='chatbase.co/chatbot-iframe/']"} {
		if !slices.Contains(css, s) {
			t.Errorf("selector %q missing", s)
		}
	}
	if !slices.IsSorted(p.Globals) || !slices.IsSortedFunc(p.Selectors, func(a, b Selector) int { return strings.Compare(a.CSS, b.CSS) }) {
		t.Error("probe not sorted")
	}
	if js := p.compile(100); !strings.Contains(js, `"botpress.init"`) || !strings.HasSuffix(js, ",100)") {
		t.Errorf("compiled expression: %.200s", js)
	}
}

// TestProbeAttributes: attribute and property rules become per-selector
// reads, each name once.
func TestProbeAttributes(t *testing.T) {
	cat, err := catalog.Open(true, "testdata/probe.json")
	if err != nil {
		t.Fatal(err)
	}
	p := NewProbe(cat)
	want := []Selector{
		{CSS: "a.x", Attributes: []string{"data-v", "href"}, Properties: []string{"version"}},
		{CSS: "div#late-widget"},
		{CSS: "p.note", Text: true},
		{CSS: "p:contains('Powered')"},
		{CSS: "w"},
	}
	if !slices.EqualFunc(p.Selectors, want, func(a, b Selector) bool {
		return a.CSS == b.CSS && a.Text == b.Text && slices.Equal(a.Attributes, b.Attributes) && slices.Equal(a.Properties, b.Properties)
	}) {
		t.Errorf("selectors %+v, want %+v", p.Selectors, want)
	}
	if !slices.Equal(p.Globals, []string{"absentTech.init", "app.widget", "app.widget.version", "loaded-Dash", "nullTech", "numTech.build", "prim.length", "proxyTech.anything", "throwTech.value"}) {
		t.Errorf("globals %v", p.Globals)
	}
}

func TestDecodeEval(t *testing.T) {
	p := &Probe{Globals: []string{"a", "b.c"}, Selectors: []Selector{{CSS: ".x", Attributes: []string{"href"}, Properties: []string{"v"}}}}
	long := strings.Repeat("é", 3000)
	cases := []struct {
		name string
		in   string
		want func(*model.Rendered, string) string // "" when fine
	}{
		{"keys outside the probe are dropped", `{"g":{"a":"1","zzz":"x"},"d":{".x":[{"a":{"href":"/h","other":"o"},"p":{"v":"2"}}],".y":[{}]},"h":"<html>","u":"https://e.test/"}`,
			func(r *model.Rendered, u string) string {
				switch {
				case len(r.Globals) != 1 || r.Globals["a"] != "1":
					return "globals"
				case len(r.DOM) != 1 || r.DOM[".x"][0].Attributes["href"] != "/h" || r.DOM[".x"][0].Attributes["other"] != "" || r.DOM[".x"][0].Properties["v"] != "2":
					return "dom"
				case string(r.HTML) != "<html>" || u != "https://e.test/":
					return "html/url"
				}
				return ""
			}},
		{"caps on UTF-8 boundaries", `{"g":{"a":"` + long + `"},"d":{".x":[{},{},{},{},{},{},{}]},"h":"` + long + `"}`,
			func(r *model.Rendered, _ string) string {
				switch {
				case len(r.Globals["a"]) > 4*maxValue || !utf8.ValidString(r.Globals["a"]):
					return "global cap"
				case len(r.DOM[".x"]) != maxElements:
					return "element cap"
				case len(r.HTML) > 1001 || !utf8.Valid(r.HTML):
					return "html cap"
				}
				return ""
			}},
		{"invalid UTF-8 replaced", `{"g":{"b.c":"\ud800x"}}`,
			func(r *model.Rendered, _ string) string {
				if !utf8.ValidString(r.Globals["b.c"]) || !strings.HasSuffix(r.Globals["b.c"], "x") {
					return "utf-8"
				}
				return ""
			}},
		{"empty result", `{}`, func(r *model.Rendered, _ string) string {
			if len(r.Globals)+len(r.DOM)+len(r.HTML) != 0 {
				return "not empty"
			}
			return ""
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, u, err := p.decodeEval([]byte(c.in), 1001)
			if err != nil {
				t.Fatal(err)
			}
			if what := c.want(r, u); what != "" {
				t.Errorf("%s wrong: %+v %q", what, r, u)
			}
		})
	}
	if _, _, err := p.decodeEval([]byte(`{"g":[1]}`), 10); err == nil {
		t.Error("malformed result accepted")
	}
}

// FuzzDecodeEval feeds arbitrary page-controlled JSON to the decoder: it
// must never panic, and what it keeps must be valid UTF-8 within the caps
// and inside the probe.
func FuzzDecodeEval(f *testing.F) {
	f.Add([]byte(`{"g":{"a":"1"},"d":{".x":[{"t":"hi","a":{"href":"/"},"p":{"v":"1"}}]},"h":"<p>","u":"x"}`))
	f.Add([]byte(`{"g":{"a":null},"d":{".x":null}}`))
	f.Add([]byte(`[]`))
	p := &Probe{Globals: []string{"a"}, Selectors: []Selector{{CSS: ".x", Text: true, Attributes: []string{"href"}, Properties: []string{"v"}}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, u, err := p.decodeEval(b, 64)
		if err != nil {
			return
		}
		if !utf8.ValidString(u) || !utf8.Valid(r.HTML) || len(r.HTML) > 64 {
			t.Fatalf("url %q html %q", u, r.HTML)
		}
		for k, v := range r.Globals {
			if k != "a" || !utf8.ValidString(v) {
				t.Fatalf("global %q=%q", k, v)
			}
		}
		for k, ms := range r.DOM {
			if k != ".x" || len(ms) > maxElements {
				t.Fatalf("dom %q: %d", k, len(ms))
			}
			for _, m := range ms {
				if !utf8.ValidString(m.Text) || len(m.Text) > 4*maxTextBytes {
					t.Fatalf("text %q", m.Text)
				}
			}
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatal(err)
		}
	})
}
