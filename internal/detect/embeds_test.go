package detect

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
)

// embedTech maps the technology names of ai-embeds/README.md to catalog
// names (the README names products and generations; the catalog keeps one
// technology per licence and deployment model).
var embedTech = map[string]struct{ name, version string }{
	"Botpress v12 self-hosted":         {"Botpress v12", ""},
	"Botpress v12 server page":         {"Botpress v12", ""},
	"Botpress Cloud webchat v0":        {"Botpress", "0"},
	"Botpress Cloud webchat v1":        {"Botpress", "1"},
	"Botpress Cloud webchat v2":        {"Botpress", "2"},
	"Botpress Cloud webchat v3":        {"Botpress", "3.2"},
	"OpenAI ChatKit":                   {"OpenAI ChatKit", ""},
	"Rasa (botfront rasa-webchat)":     {"Rasa", ""},
	"Voiceflow (current)":              {"Voiceflow", ""},
	"Chatbase":                         {"Chatbase", ""},
	"Dialogflow Messenger (ES)":        {"Dialogflow Messenger", ""},
	"Microsoft Bot Framework Web Chat": {"Microsoft Bot Framework Web Chat", ""},
	"Flowise embed":                    {"Flowise", ""},
	"Flowise UI (older release)":       {"Flowise", ""},
	"Typebot":                          {"Typebot", ""},
	"Open WebUI (2024 template)":       {"Open WebUI", ""},
	"HF chat-ui (template)":            {"Hugging Face Chat UI", ""},
}

var sourceComment = regexp.MustCompile(`^\s*<!--.*?-->\s*`)

// TestAIEmbedsDetect checks that every real vendor snippet of
// research/ai-embeds is detected as the technology its README names. The
// first line of each file is a comment naming its source; it is removed so
// that only the published snippet counts.
func TestAIEmbedsDetect(t *testing.T) {
	dir := shared(t, "research/ai-embeds")
	ai, _ := detectors(t)
	f, err := os.Open(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) < 4 || !strings.HasSuffix(strings.TrimSpace(cells[1]), ".html") {
			continue
		}
		file, tech := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])
		want, ok := embedTech[tech]
		if !ok {
			t.Errorf("%s: README technology %q has no catalog mapping", file, tech)
			continue
		}
		rows++
		t.Run(file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			body = sourceComment.ReplaceAll(body, nil)
			dets := ai.Detect(&model.Observation{URL: "https://customer.example/", Body: body})
			for _, d := range dets {
				if d.Technology != want.name {
					continue
				}
				if want.version != "" && d.Version != want.version {
					t.Errorf("%s detected with version %q, want %q", d.Technology, d.Version, want.version)
				}
				if len(d.Evidence) == 0 {
					t.Errorf("%s detected without evidence", d.Technology)
				}
				for _, e := range d.Evidence {
					if e.Match == "" && e.Signal != "implies" || !e.Class.Valid() {
						t.Errorf("%s: incomplete evidence %+v", d.Technology, e)
					}
				}
				return
			}
			t.Errorf("%s not detected; got %v", want.name, names(dets))
		})
	}
	if rows < 15 {
		t.Errorf("read only %d fixture rows from the README", rows)
	}
}

func names(dets []model.Detection) []string {
	var out []string
	for _, d := range dets {
		out = append(out, d.Technology)
	}
	return out
}
