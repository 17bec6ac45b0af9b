package detect

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/model"
)

// TestWappalyzerSemantics checks each field, tag and rule of the Wappalyzer
// format on hand-made cases (testdata/semantics.json).
func TestWappalyzerSemantics(t *testing.T) {
	cat, err := catalog.Open(true, "testdata/semantics.json")
	if err != nil {
		t.Fatal(err)
	}
	det, err := New(cat, Options{MinConfidence: -1})
	if err != nil {
		t.Fatal(err)
	}
	page := func(body string) *model.Observation {
		return &model.Observation{URL: "https://site.test/", Body: []byte(body)}
	}
	cases := []struct {
		name string
		obs  *model.Observation
		want []string // "Tech@version#confidence"
	}{
		{"html version", page(`<div id="html-tech" data-v="2.7">`), []string{"HTMLTech@2.7#100"}},
		{"text ignores markup", page(`<p>Powered by <b>TextTech</b></p><p>Powered by TextTech</p>`), []string{"TextTech#100"}},
		{"text not in scripts", page(`<script>var s = "Powered by TextTech";</script>`), nil},
		{"css inline style", page(`<style>.csstech-grid{display:grid}</style>`), []string{"CSSTech#100"}},
		{"scriptSrc ternary version", page(`<script src="/js/srctech-3.1.js"></script>`), []string{"SrcTech@3.1#100"}},
		{"scriptSrc ternary fallback", page(`<script src="/js/srctech.js"></script>`), []string{"SrcTech@legacy#100"}},
		{"scripts inline", page(`<script>scriptstech_init({a:1})</script>`), []string{"ScriptsTech#100"}},
		{"scripts linked", &model.Observation{URL: "https://site.test/", Body: []byte(`<script src="/app.js"></script>`),
			Scripts: []model.Script{{URL: "https://site.test/app.js", Body: []byte("x();scriptstech_init()")}}}, []string{"ScriptsTech#100"}},
		{"url", &model.Observation{URL: "https://site.test/urltech/index"}, []string{"URLTech#100"}},
		{"meta generator", page(`<meta name="Generator" content="MetaTech 5.2">`), []string{"MetaTech@5.2#100"}},
		{"headers and presence", &model.Observation{Headers: map[string][]string{"x-powered-by": {"HeaderTech/1.9"}, "x-presence": {"anything"}}},
			[]string{"HeaderTech@1.9#100"}},
		{"cookie from set-cookie", &model.Observation{Headers: map[string][]string{"set-cookie": {"cookietech_session=abc; Path=/"}}}, []string{"CookieTech#100"}},
		{"js call", page(`<script>window.jsTech.init({})</script>`), []string{"JSTech#100"}},
		{"js assigned version", page(`<script>jsTech.VERSION = "4.0.1";</script>`), []string{"JSTech@4.0.1#100"}},
		{"js wrong case", page(`<script>JSTECH.INIT({})</script>`), nil},
		{"js comparison is not use", page(`<script>if (jsTech.init == null) {}</script>`), nil},
		{"js rendered global", &model.Observation{Rendered: &model.Rendered{Globals: map[string]string{"jsTech.VERSION": "7.1"}}},
			[]string{"JSTech@7.1#100"}},
		{"dom child combinator", page(`<div id="domtech"><span class="badge big">x</span></div>`), []string{"DOMTech#100"}},
		{"dom combinator not met", page(`<div id="domtech"><p><span class="badge">x</span></p></div>`), nil},
		{"dom attribute version", page(`<link rel="stylesheet" href="/domtech.css?v=1.4">`), []string{"DOMTech@1.4#100"}},
		{"dom text version", page(`<p class="domtech-note">Built with <em>DOMTech v8.2</em></p>`), []string{"DOMTech@8.2#100"}},
		{"dom list with confidence", page(`<domlist-widget></domlist-widget>`), []string{"DOMListTech#60"}},
		{"dom list attribute", page(`<div data-domlist="1"></div>`), []string{"DOMListTech#100"}},
		{"dns txt and cname", &model.Observation{DNS: []model.DNSRecord{{Name: "site.test", Type: "TXT", Value: "dnstech-verification=abc"}}},
			[]string{"DNSTech#100"}},
		{"dns wrong type", &model.Observation{DNS: []model.DNSRecord{{Name: "site.test", Type: "MX", Value: "dnstech-verification="}}}, nil},
		{"cert issuer", &model.Observation{CertIssuer: "CertTech CA G2"}, []string{"CertTech#100"}},
		{"robots", &model.Observation{Host: "site.test", Robots: []byte("User-agent: *\nDisallow: /robotstech/\n")}, []string{"RobotsTech#100"}},
		{"csp header", &model.Observation{Headers: map[string][]string{"content-security-policy": {"default-src 'self'; connect-src https://api.csptech.io wss:"}}},
			[]string{"CSPTech#100"}},
		{"csp meta", page(`<meta http-equiv="Content-Security-Policy" content="script-src 'self' cdn.csptech.io">`), []string{"CSPTech#100"}},
		{"csp keyword only", &model.Observation{Headers: map[string][]string{"content-security-policy": {"default-src 'self' csptech"}}}, nil},
		{"xhr rendered", &model.Observation{Rendered: &model.Rendered{Requests: []string{"https://api.xhrtech.com/v1/x"}}}, []string{"XHRTech#100"}},
		{"csp host requested by the page", &model.Observation{Rendered: &model.Rendered{Requests: []string{"https://api.csptech.io/v1/chat"}}}, []string{"CSPTech#100"}},
		{"confidence sums", page(`weak-one weak-two`), []string{"Weak#60"}},
		{"confidence caps at 100", page(`strong-a strong-b`), []string{"Strong#100"}},
		{"implies recursive with tags", page(`framework-marker`),
			[]string{"Framework#100", "Language#50", "Runtime#50", "Server@9#100"}},
		{"requires met", page(`framework-marker plugin-marker`),
			[]string{"Framework#100", "Language#50", "Plugin#100", "Runtime#50", "Server@9#100"}},
		{"requires unmet", page(`plugin-marker`), nil},
		{"requiresCategory met through implies", page(`framework-marker catplug-marker`),
			[]string{"CatPlugin#100", "Framework#100", "Language#50", "Runtime#50", "Server@9#100"}},
		{"requiresCategory unmet", page(`catplug-marker`), nil},
		{"excludes", page(`old-marker new-only`), []string{"New#100"}},
		{"no exclusion without the excluder", page(`old-marker`), []string{"Old#100"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, d := range det.Detect(c.obs) {
				s := d.Technology
				if d.Version != "" {
					s += "@" + d.Version
				}
				got = append(got, s+"#"+itoa(d.Confidence))
				if len(d.Evidence) == 0 {
					t.Errorf("%s without evidence", d.Technology)
				}
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(n)) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestEvidence checks the contract of evidence: signal, pattern, match
// (capped), location and class for each kind of signal.
func TestEvidence(t *testing.T) {
	cat, err := catalog.Open(true, "testdata/semantics.json")
	if err != nil {
		t.Fatal(err)
	}
	det, _ := New(cat, Options{MinConfidence: -1})
	obs := &model.Observation{
		URL:     "https://site.test/",
		Body:    []byte(`<script src="/js/srctech-3.1.js"></script><div id="html-tech" data-v="2.7">` + strings.Repeat("x", 500)),
		Headers: map[string][]string{"x-powered-by": {"HeaderTech/1.9"}},
		DNS:     []model.DNSRecord{{Name: "site.test", Type: "TXT", Value: "dnstech-verification=abc"}},
	}
	want := map[string]model.Evidence{
		"HTMLTech":   {Signal: "html", Match: `<div id="html-tech" data-v="2.7"`, Location: "https://site.test/", Class: model.ClassPageEmbed, Via: "static"},
		"SrcTech":    {Signal: "scriptSrc", Match: "srctech-3.1.js", Location: "https://site.test/", Class: model.ClassPageEmbed, Via: "static"},
		"HeaderTech": {Signal: "headers", Match: "HeaderTech/1.9", Location: "header:x-powered-by", Class: model.ClassHeader, Via: "static"},
		"DNSTech":    {Signal: "dns", Match: "dnstech-verification=", Location: "dns:TXT site.test", Class: model.ClassDNSVerification, Via: "static"},
	}
	for _, d := range det.Detect(obs) {
		w, ok := want[d.Technology]
		if !ok {
			continue
		}
		delete(want, d.Technology)
		e := d.Evidence[0]
		e.Pattern = ""
		if e != w {
			t.Errorf("%s evidence = %+v, want %+v", d.Technology, e, w)
		}
		if d.EvidenceClass != w.Class {
			t.Errorf("%s class = %s", d.Technology, d.EvidenceClass)
		}
	}
	for tech := range want {
		t.Errorf("%s not detected", tech)
	}
}

// TestRenderedRequestClasses: a vendor host the page requested is a browser
// API call, or an embed when the request is a script or stylesheet.
func TestRenderedRequestClasses(t *testing.T) {
	cat, err := catalog.Open(true, "testdata/semantics.json")
	if err != nil {
		t.Fatal(err)
	}
	det, _ := New(cat, Options{MinConfidence: -1})
	for req, want := range map[string]model.EvidenceClass{
		"https://api.csptech.io/v1/chat":       model.ClassBrowserAPICall,
		"https://cdn.csptech.io/widget/x.js":   model.ClassPageEmbed,
		"wss://realtime.csptech.io/socket":     model.ClassBrowserAPICall,
		"https://cdn.csptech.io/theme.min.css": model.ClassPageEmbed,
	} {
		dets := det.Detect(&model.Observation{Rendered: &model.Rendered{Requests: []string{req}}})
		if len(dets) != 1 || dets[0].EvidenceClass != want || dets[0].Evidence[0].Via != model.ViaRendered {
			t.Errorf("%s: got %+v, want one detection of class %s via rendered", req, dets, want)
		}
	}
}
