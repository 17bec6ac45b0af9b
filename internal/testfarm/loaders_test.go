package testfarm

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

// TestRenderHosts: the browser-only hosts are served (over TLS with a farm
// certificate), are unknown to the farm's DNS and to the truth, and leave
// other unknown names unserved.
func TestRenderHosts(t *testing.T) {
	f := startFarm(t, testConfig(25))
	for _, h := range RenderHosts() {
		m, err := exchange(t, f, "udp", h, mdns.TypeA)
		if err != nil || m.Rcode != mdns.RcodeNameError {
			t.Errorf("%s in the farm's DNS: %v %v", h, m, err)
		}
		if slices.Contains(f.Domains(), h) {
			t.Errorf("%s is a scan target", h)
		}
	}
	for _, s := range standIns {
		u := "https://" + s.host + s.prefix
		if strings.HasSuffix(s.prefix, "/") {
			u += "x.js"
		}
		resp, body := get(t, f, u)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != s.ctype || string(body) != s.body {
			t.Errorf("GET %s: %d %s %.40q", u, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	for _, c := range f.renderPages() {
		resp, body := get(t, f, c.URL)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<h1>") {
			t.Errorf("GET %s: %d", c.URL, resp.StatusCode)
		}
		for _, tech := range append(c.Technologies, "intercom", "chatwoot", "botpress", "drift", "tiledesk", "openai") {
			if !slices.Contains(c.Static, tech) && strings.Contains(strings.ToLower(string(body)), strings.ToLower(tech)) {
				t.Errorf("%s names %s in its own bytes (the page must show it only once rendered)", c.URL, tech)
			}
		}
		if c.script != "" {
			resp, _ := get(t, f, "https://"+widgetCDNHost+c.scriptPath)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("%s script: %d %v", c.Name, resp.StatusCode, resp.Header)
			}
		}
	}
	if resp, _ := get(t, f, "http://unknown-name.test/"); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("unknown host: %d, want 421", resp.StatusCode)
	}
	if resp, _ := get(t, f, "https://render.test/nope.html"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown render page: %d", resp.StatusCode)
	}
	if f.LeafSPKI() == "" {
		t.Error("no leaf SPKI")
	}
}
