package detect

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		wl, gl := strings.Split(string(want), "\n"), strings.Split(got, "\n")
		t.Errorf("%s differs from the detections (want %d lines, got %d); first differences:\n%s",
			path, len(wl), len(gl), diffLines(wl, gl, 20))
	}
}

// diffLines lists up to n lines only in a (-) or only in b (+).
func diffLines(a, b []string, n int) string {
	in := func(xs []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range xs {
			m[x] = true
		}
		return m
	}
	ia, ib := in(a), in(b)
	var out []string
	for _, x := range a {
		if !ib[x] && len(out) < n {
			out = append(out, "- "+x)
		}
	}
	for _, x := range b {
		if !ia[x] && len(out) < n {
			out = append(out, "+ "+x)
		}
	}
	return strings.Join(out, "\n")
}

// describe renders detections for a golden file, one line per detection
// with every piece of its evidence, so a reviewer can check each one.
func describe(page string, dets []model.Detection, evidence bool) []string {
	var out []string
	for _, d := range dets {
		line := fmt.Sprintf("%s\t%s\tv=%s\tconf=%d\t%v", page, d.Technology, d.Version, d.Confidence, d.Classes())
		if evidence {
			var ev []string
			for _, e := range d.Evidence {
				ev = append(ev, fmt.Sprintf("%s[%s] %q => %q", e.Signal, e.Class, e.Pattern, oneLine(e.Match)))
			}
			sort.Strings(ev)
			line += "\n\t" + strings.Join(ev, "\n\t")
		}
		out = append(out, line)
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestAICorpusGolden runs the AI catalog over all 1,420 real pages of
// corpus/html. Every detection, with its evidence, is in
// testdata/ai-corpus.golden and was reviewed by reading the evidence.
func TestAICorpusGolden(t *testing.T) {
	ai, _ := detectors(t)
	var lines []string
	n := 0
	for _, src := range []string{"readability", "trafilatura", "htmlparser-benchmark"} {
		for _, p := range loadPages(t, src) {
			n++
			lines = append(lines, describe(p.name, ai.Detect(&model.Observation{URL: "https://" + p.name, Body: p.body}), true)...)
		}
	}
	if n != 1420 {
		t.Errorf("read %d pages, want 1420", n)
	}
	golden(t, "ai-corpus.golden", strings.Join(lines, "\n")+"\n")
}

// TestReadabilityWebappanalyzerGolden runs the webappanalyzer database
// (with the AI catalog) over the 130 readability pages.
func TestReadabilityWebappanalyzerGolden(t *testing.T) {
	_, full := detectors(t)
	var lines []string
	for _, p := range loadPages(t, "readability") {
		lines = append(lines, describe(p.name, full.Detect(&model.Observation{URL: "https://" + p.name, Body: p.body}), false)...)
	}
	golden(t, "readability-webappanalyzer.golden", strings.Join(lines, "\n")+"\n")
}

// TestArticleWordsNeverCount: pages that talk about AI vendors, quote API
// hosts in prose, or carry them in JSON data blocks detect nothing.
func TestArticleWordsNeverCount(t *testing.T) {
	ai, _ := detectors(t)
	pages := map[string]string{
		"prose": `<html><head><title>Chatbots are everywhere</title></head><body><article>
<p>OpenAI's ChatGPT and Anthropic's Claude lead the chatbot market. Botpress, Voiceflow,
Dialogflow, Rasa and Flowise compete for developers; Intercom and Drift add AI agents.</p>
<p>Developers call api.openai.com or api.anthropic.com from their servers; some embed
cdn.botpress.cloud/webchat/v2/inject.js or www.chatbase.co/embed.min.js on their sites.</p>
<pre><code>&lt;script src="https://cdn.botpress.cloud/webchat/v3.2/inject.js"&gt;&lt;/script&gt;</code></pre>
</article></body></html>`,
		"json-data": `<html><body><script type="application/ld+json">{"@type":"Article","articleBody":
"How to call api.openai.com/v1/chat/completions with anthropic-dangerous-direct-browser-access"}</script>
<script id="__NEXT_DATA__" type="application/json">{"text":"window.botpress.init and voiceflow.chat.load( and cdn.botpress.cloud/webchat/v2/inject.js"}</script>
</body></html>`,
	}
	for name, body := range pages {
		var ai0 []string
		for _, d := range ai.Detect(&model.Observation{URL: "https://news.example/", Body: []byte(body)}) {
			ai0 = append(ai0, d.Technology+" via "+d.Evidence[0].Signal+": "+d.Evidence[0].Match)
		}
		if len(ai0) > 0 {
			t.Errorf("%s: article words counted as deployments: %v", name, ai0)
		}
	}
}
