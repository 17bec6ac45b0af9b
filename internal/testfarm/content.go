package testfarm

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/coregx/ahocorasick"
)

// ErrNoData is wrapped by New when the shared corpus or the embed fixtures
// are missing; tests should t.Skip on it.
var ErrNoData = errors.New("testfarm data not found (../shared/corpus/html and ../shared/research/ai-embeds)")

// page is one real base page, decompressed once and shared by every host
// that serves it (never copied per host).
type page struct {
	name    string // "readability/aclu.html"
	body    []byte
	headEnd int // offset just after the <head ...> tag; -1 when there is none
	bodyEnd int // offset of the last </body>
}

// embedSpec describes one vendor fixture from research/ai-embeds.
type embedSpec struct {
	file    string
	tech    string // catalog name
	version string // expected version, "" when none is asserted
	marker  string // text that must be in the served bytes
	whole   bool   // a self-hosted app template served as the whole page
	header  [2]string
}

// embedSpecs are the fixtures the farm uses and the technology each shows
// (research/ai-embeds/README.md).
var embedSpecs = []embedSpec{
	{file: "botpress-cloud-v0.html", tech: "Botpress", version: "0", marker: "cdn.botpress.cloud/webchat/v0/inject.js"},
	{file: "botpress-cloud-v1.html", tech: "Botpress", version: "1", marker: "hostUrl: 'https://cdn.botpress.cloud/webchat/v1'"},
	{file: "botpress-cloud-v2.html", tech: "Botpress", version: "2", marker: "cdn.botpress.cloud/webchat/v2/inject.js"},
	{file: "botpress-cloud-v3.html", tech: "Botpress", version: "3.2", marker: "cdn.botpress.cloud/webchat/v3.2/inject.js"},
	{file: "botpress-v12.html", tech: "Botpress v12", marker: "/assets/modules/channel-web/inject.js"},
	{file: "openai-chatkit.html", tech: "OpenAI ChatKit", marker: "cdn.platform.openai.com/deployments/chatkit/chatkit.js"},
	{file: "rasa-webchat.html", tech: "Rasa", marker: "cdn.jsdelivr.net/npm/rasa-webchat@1.x.x/lib/index.js"},
	{file: "voiceflow.html", tech: "Voiceflow", marker: "cdn.voiceflow.com/widget-next/bundle.mjs"},
	{file: "chatbase.html", tech: "Chatbase", marker: "www.chatbase.co/embed.min.js"},
	{file: "dialogflow-messenger-es.html", tech: "Dialogflow Messenger", marker: "www.gstatic.com/dialogflow-console/fast/messenger/bootstrap.js"},
	{file: "botframework-webchat.html", tech: "Microsoft Bot Framework Web Chat", marker: "cdn.botframework.com/botframework-webchat/latest/webchat.js"},
	{file: "flowise-embed.html", tech: "Flowise", marker: "cdn.jsdelivr.net/npm/flowise-embed/dist/web.js"},
	{file: "typebot.html", tech: "Typebot", marker: "cdn.jsdelivr.net/npm/@typebot.io/js@0/dist/web.js"},
	{file: "open-webui-app.html", tech: "Open WebUI", whole: true, marker: `<meta name="robots" content="noindex,nofollow" />`},
	{file: "huggingface-chat-ui-app.html", tech: "Hugging Face Chat UI", whole: true, marker: `window.gaId = "%gaId%";`, header: [2]string{"Set-Cookie", "hf-chat=6f1c2a0e-farm; Path=/; HttpOnly; SameSite=Lax"}},
	{file: "flowise-selfhosted-head.html", tech: "Flowise", whole: true, marker: "<title>Flowise - Low-code LLM apps builder</title>"},
	{file: "botpress-v12-example-head.html", tech: "Botpress v12", whole: true, marker: `<script src="assets/modules/channel-web/inject.js"></script>`, header: [2]string{"X-Powered-By", "Botpress"}},
}

// embed is a loaded fixture.
type embed struct {
	embedSpec
	body []byte // the snippet (or whole page) without the fixture's source comment
}

// scriptSpec is a same-site script calling an AI API from the browser.
type scriptSpec struct {
	tech   string
	marker string
	body   string
}

// scripts are served at scriptPath on KindScript and KindRobots hosts.
var scripts = []scriptSpec{
	{tech: "OpenAI", marker: `fetch("https://api.openai.com/v1/chat/completions"`, body: `// site assistant: asks the model from the visitor's browser
async function askAssistant(prompt) {
  const res = await fetch("https://api.openai.com/v1/chat/completions", {
    method: "POST",
    headers: {"Content-Type": "application/json", "Authorization": "Bearer " + window.ASSISTANT_KEY},
    body: JSON.stringify({model: "gpt-4o-mini", messages: [{role: "user", content: prompt}]})
  });
  const data = await res.json();
  return data.choices[0].message.content;
}
document.addEventListener("DOMContentLoaded", function () { window.askAssistant = askAssistant; });
`},
	{tech: "Anthropic", marker: `"anthropic-dangerous-direct-browser-access": "true"`, body: `// help widget: talks to Claude straight from the page
async function askClaude(question) {
  const res = await fetch("https://api.anthropic.com/v1/messages", {
    method: "POST",
    headers: {
      "x-api-key": window.HELP_KEY,
      "anthropic-version": "2023-06-01",
      "anthropic-dangerous-direct-browser-access": "true",
      "content-type": "application/json"
    },
    body: JSON.stringify({model: "claude-3-5-haiku-latest", max_tokens: 512, messages: [{role: "user", content: question}]})
  });
  return (await res.json()).content[0].text;
}
window.askClaude = askClaude;
`},
}

const scriptPath = "/static/app.js"

// scriptTag is inserted after <head> on script hosts.
var scriptTag = []byte(`<script src="` + scriptPath + `" defer></script>`)

// corpusDirs are the page sources under Config.CorpusDir. trafilatura is
// left out: some of its pages carry real Intercom/HubSpot/Zendesk widgets.
var corpusDirs = []string{"readability", "htmlparser-benchmark"}

// aiMarkers exclude base pages that mention any AI or chat vendor, so the
// ground truth can say "no AI technology" for the base page; they also drop
// pages with <base> (which would move the linked script) and meta refresh.
// Matched on the lowercased page. Over-excluding (article text, "adrift")
// is harmless: about 320 of 388 pages remain.
var aiMarkers = []string{
	"openai", "chatgpt", "anthropic", "claude.ai", "gemini", "generativelanguage", "mistral.ai", "cohere",
	"huggingface", "hf.space", "gradio", "ollama", ":11434",
	"botpress", "bpcontent", "chatbase", "dialogflow", "df-messenger", "voiceflow", "rasa", "flowise", "typebot",
	"botframework", "webchat", "chatkit", "sveltekit", "openwebui", "open-webui", "open webui", "open_webui",
	"intercom", "zendesk", "zdassets", "drift", "tidio", "livechat", "crisp", "tawk", "olark", "freshchat",
	"freshworks", "hubspot", "usemessages", "ada.support", "kapa.ai", "landbot", "manychat", "yellowmessenger",
	"lptag", "liveperson", "elevenlabs", "vapi", "retellai", "inkeep", "mendable", "askai", "watson",
	"lex-web-ui", "kore.ai", "botsonic", "customgpt", "chatling", "zapier", "copilot", "chatbot",
	"<base ", "<base>", "<base\t", "<base\n", "<base\r",
	"http-equiv=refresh", `http-equiv="refresh"`, "http-equiv='refresh'",
}

// markerMatcher finds aiMarkers in lowercased pages.
type markerMatcher struct {
	ac    *ahocorasick.Automaton
	lower []byte // scratch buffer, reused across pages
}

func newMarkerMatcher() (*markerMatcher, error) {
	ac, err := ahocorasick.NewBuilder().AddStrings(aiMarkers).Build()
	if err != nil {
		return nil, fmt.Errorf("build page filter: %w", err)
	}
	return &markerMatcher{ac: ac}, nil
}

// match reports whether body contains a marker, ignoring ASCII case.
func (m *markerMatcher) match(body []byte) bool {
	m.lower = append(m.lower[:0], body...)
	for i, c := range m.lower {
		if 'A' <= c && c <= 'Z' {
			m.lower[i] = c + 'a' - 'A'
		}
	}
	_, found := m.ac.Find(m.lower, 0) // IsMatch re-runs its prefilter per byte run: quadratic on long pages
	return found
}

var (
	headOpen  = regexp.MustCompile(`(?i)<head(?:\s[^>]*)?>`)
	bodyClose = regexp.MustCompile(`(?i)</body\s*>`)
	bodyOpen  = regexp.MustCompile(`(?i)<body(?:\s[^>]*)?>`)
)

// loadPages reads and filters the base pages, sorted by name so that host
// assignment is deterministic.
func loadPages(corpusDir string, limit int) ([]*page, error) {
	mm, err := newMarkerMatcher()
	if err != nil {
		return nil, err
	}
	var pages []*page
	seen := 0
	for _, d := range corpusDirs {
		files, err := filepath.Glob(filepath.Join(corpusDir, d, "pages", "*.html.gz"))
		if err != nil {
			return nil, fmt.Errorf("list pages %s: %w", d, err)
		}
		slices.Sort(files)
		seen += len(files)
		for _, f := range files {
			if limit > 0 && len(pages) >= limit {
				break
			}
			body, err := gunzipFile(f)
			if err != nil {
				return nil, err
			}
			if p, ok := newPage(mm, d+"/"+strings.TrimSuffix(filepath.Base(f), ".gz"), body); ok {
				pages = append(pages, p)
			}
		}
	}
	if seen == 0 {
		return nil, fmt.Errorf("load pages from %s: %w", corpusDir, ErrNoData)
	}
	if len(pages) == 0 {
		return nil, fmt.Errorf("load pages from %s: no usable page: %w", corpusDir, ErrNoData)
	}
	return pages, nil
}

// newPage indexes a base page; ok is false for pages the farm cannot use
// (vendor markers, <base>, meta refresh, no </body>).
func newPage(mm *markerMatcher, name string, body []byte) (*page, bool) {
	if mm.match(body) {
		return nil, false
	}
	closes := bodyClose.FindAllIndex(body, -1)
	if len(closes) == 0 {
		return nil, false
	}
	p := &page{name: name, body: body, headEnd: -1, bodyEnd: closes[len(closes)-1][0]}
	if loc := headOpen.FindIndex(body); loc != nil && loc[1] <= p.bodyEnd {
		p.headEnd = loc[1]
	}
	return p, true
}

func gunzipFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open page %s: %w", path, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("gunzip page %s: %w", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gunzip page %s: %w", path, err)
	}
	return b, nil
}

// loadEmbeds reads every fixture of embedSpecs, drops its source comment
// and, for full documents inserted into a page, keeps the <body> content.
func loadEmbeds(dir string) ([]*embed, error) {
	out := make([]*embed, 0, len(embedSpecs))
	for _, s := range embedSpecs {
		b, err := os.ReadFile(filepath.Join(dir, s.file))
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("load embed %s: %w", s.file, ErrNoData)
		}
		if err != nil {
			return nil, fmt.Errorf("load embed %s: %w", s.file, err)
		}
		b = stripSourceComment(b)
		if !s.whole {
			b = bodyContent(b)
		}
		if !bytes.Contains(b, []byte(s.marker)) {
			return nil, fmt.Errorf("load embed %s: marker %q not in the fixture", s.file, s.marker)
		}
		out = append(out, &embed{embedSpec: s, body: b})
	}
	return out, nil
}

// stripSourceComment drops the leading "<!-- source: ... -->" line the
// fixtures carry: it names the vendor and is not part of the real snippet.
func stripSourceComment(b []byte) []byte {
	t := bytes.TrimLeft(b, " \t\r\n")
	if !bytes.HasPrefix(t, []byte("<!--")) {
		return b
	}
	end := bytes.Index(t, []byte("-->"))
	if end < 0 {
		return b
	}
	return bytes.TrimLeft(t[end+3:], "\r\n")
}

// bodyContent returns what is between <body> and </body> of a full
// document, or b itself when it is a fragment.
func bodyContent(b []byte) []byte {
	open := bodyOpen.FindIndex(b)
	closes := bodyClose.FindAllIndex(b, -1)
	if open == nil || len(closes) == 0 || closes[len(closes)-1][0] < open[1] {
		return b
	}
	return b[open[1]:closes[len(closes)-1][0]]
}
