package detect

import (
	"testing"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/model"
)

// FuzzDetect feeds untrusted bytes to every parser of the detector (HTML
// tokenizer pass, selectors, CSP, Set-Cookie, js source scanning) with the
// hand-made catalog and the AI catalog: no panic, evidence within bounds.
func FuzzDetect(f *testing.F) {
	semCat, err := catalog.Open(true, "testdata/semantics.json")
	if err != nil {
		f.Fatal(err)
	}
	aiCat, err := catalog.Open(false)
	if err != nil {
		f.Fatal(err)
	}
	var dets []*Detector
	for _, c := range []*catalog.Catalog{semCat, aiCat} {
		d, err := New(c, Options{MinConfidence: -1})
		if err != nil {
			f.Fatal(err)
		}
		dets = append(dets, d)
	}
	f.Add([]byte(`<div id="domtech"><span class="badge">x</span></div><script>jsTech.VERSION = "1";</script>`), "default-src 'self' https://api.csptech.io", "a=b; Path=/")
	f.Add([]byte(`<script src="https://cdn.botpress.cloud/webchat/v3.2/inject.js"></script><p class="domtech-note">DOMTech v1</p>`), "script-src *; ,,;;", "=; ;")
	f.Add([]byte("<style>.csstech-grid{}</style><meta http-equiv=content-security-policy content=\"connect-src x.csptech.io\">"), "", "")
	f.Fuzz(func(t *testing.T, body []byte, csp, cookie string) {
		obs := &model.Observation{
			URL:     "https://fuzz.test/",
			Body:    body,
			Headers: map[string][]string{"content-security-policy": {csp}, "set-cookie": {cookie}},
			Scripts: []model.Script{{URL: "https://fuzz.test/app.js", Body: body}},
		}
		for _, d := range dets {
			for _, det := range d.Detect(obs) {
				if det.Confidence < 0 || det.Confidence > 100 || len(det.Evidence) > d.opts.MaxEvidence {
					t.Fatalf("out of bounds: %+v", det)
				}
				for _, e := range det.Evidence {
					if len(e.Match) > model.MaxMatchBytes {
						t.Fatalf("match longer than %d bytes: %q", model.MaxMatchBytes, e.Match)
					}
				}
			}
		}
	})
}

func FuzzCSPSources(f *testing.F) {
	f.Add("default-src 'self'; script-src https://a.example/x.js 'nonce-abc' data:, img-src *")
	f.Fuzz(func(t *testing.T, policy string) {
		for _, s := range cspSources(policy) {
			if s.source == "" || s.directive == "" {
				t.Fatalf("empty source or directive in %+v", s)
			}
		}
	})
}

func FuzzSelector(f *testing.F) {
	for _, s := range []string{"div#a > span.b", "link[href*='x' i]", "a, b c", "[data-x]", "x:hover", "a + b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sels, err := parseSelectorGroup(s)
		if err != nil {
			return
		}
		el := element{tag: "div", attrs: []htmlAttr{{"id", "a"}, {"class", "b c"}}}
		for _, sel := range sels {
			sel.matches(&el, []element{{tag: "body"}})
			_ = sel.literal()
		}
	})
}
