package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sharedDir returns a folder of ../shared or skips the test.
func sharedDir(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not available (%s): %v", p, err)
	}
	return p
}

func TestEmbeddedLoadsClean(t *testing.T) {
	c, err := Open(false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() < 60 {
		t.Errorf("embedded AI catalog has %d technologies, want at least 60", c.Len())
	}
	for _, tech := range c.Technologies() {
		if !tech.AI {
			t.Errorf("%s: embedded technology not marked AI", tech.Name)
		}
		if tech.License == "" || len(tech.Sources) == 0 {
			t.Errorf("%s: missing license or sources", tech.Name)
		}
		for _, p := range tech.Patterns {
			if p.Source == "" || p.Class == "" {
				t.Errorf("%s: pattern %q has no source or class", tech.Name, p.Raw)
			}
		}
	}
}

func TestWebappanalyzerLoadsClean(t *testing.T) {
	dir := sharedDir(t, "fingerprints/webappanalyzer")
	start := time.Now()
	wa, err := Open(true, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d technologies in %v", wa.Len(), time.Since(start))
	if wa.Len() != 7586 || len(wa.Categories()) != 109 {
		t.Errorf("got %d technologies and %d categories, want 7586 and 109", wa.Len(), len(wa.Categories()))
	}
	merged, err := Open(false, dir)
	if err != nil {
		t.Fatal(err)
	}
	emb, _ := Open(false)
	// Ours wins on a name clash.
	for _, tech := range emb.Technologies() {
		m, _ := merged.Lookup(tech.Name)
		if !m.AI || !strings.HasPrefix(m.Origin, "embedded:") {
			t.Errorf("%s: merged catalog took %s, want the embedded definition", tech.Name, m.Origin)
		}
	}
	if want := wa.Len(); merged.Len() < want {
		t.Errorf("merged has %d technologies, want at least %d", merged.Len(), want)
	}
}

func TestProblemsNameFileTechnologyField(t *testing.T) {
	dir := t.TempDir()
	bad := `{
  "Good": {"cats": [1], "website": "https://x", "html": "ok"},
  "BadRegex": {"cats": [1], "website": "https://x", "html": ["a(b"]},
  "BadTag": {"cats": [1], "website": "https://x", "scriptSrc": ["x\\;confidence:200"]},
  "NoCats": {"website": "https://x"},
  "BadCat": {"cats": [99], "website": "https://x"},
  "BadImplies": {"cats": [1], "website": "https://x", "implies": "Nowhere"},
  "BadVersion": {"cats": [1], "website": "https://x", "html": "v(1)\\;version"},
  "BadSelector": {"cats": [1], "website": "https://x", "dom": "div[["},
  "BadDNS": {"cats": [1], "website": "https://x", "dns": {"XYZ": "a"}},
  "BadClass": {"cats": [1], "website": "https://x", "html": "abc\\;class:rumour"}
}`
	os.WriteFile(filepath.Join(dir, "t.json"), []byte(`{"categories": {"1": {"name": "CMS", "priority": 1}}, "technologies": `+bad+`}`), 0o644)
	_, err := Open(true, filepath.Join(dir, "t.json"))
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("want a LoadError, got %v", err)
	}
	want := map[string]string{
		"BadRegex": "html", "BadTag": "scriptSrc", "NoCats": "cats", "BadCat": "cats",
		"BadImplies": "implies", "BadVersion": "html", "BadSelector": "dom", "BadDNS": "dns", "BadClass": "html",
	}
	got := map[string]string{}
	for _, p := range le.Problems {
		if !strings.HasSuffix(p.File, "t.json") {
			t.Errorf("problem without its file: %v", p)
		}
		got[p.Technology] = p.Field
	}
	for tech, field := range want {
		if got[tech] != field {
			t.Errorf("%s: problem field %q, want %q (all: %v)", tech, got[tech], field, le)
		}
	}
	if _, ok := got["Good"]; ok {
		t.Errorf("Good reported as a problem: %v", le)
	}
}

func TestBrokenJSONNamesLine(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "broken.json")
	os.WriteFile(p, []byte("{\n  \"A\": {\"cats\": [1],\n  \"website\": }\n}"), 0o644)
	_, err := Open(true, p)
	if err == nil || !strings.Contains(err.Error(), "broken.json") || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("want an error naming broken.json line 3, got %v", err)
	}
}

func TestEvalVersion(t *testing.T) {
	for _, c := range []struct {
		tmpl   string
		groups []string
		want   string
	}{
		{`\1`, []string{"x", "2.1"}, "2.1"},
		{`\1?next:legacy`, []string{"x", "y"}, "next"},
		{`\1?next:legacy`, []string{"x", ""}, "legacy"},
		{`\1?\1:\2`, []string{"x", "", "9"}, "9"},
		{`v\1.\2`, []string{"x", "3", "4"}, "v3.4"},
		{`\3`, []string{"x"}, ""},
		{``, []string{"x"}, ""},
	} {
		if got := EvalVersion(c.tmpl, c.groups); got != c.want {
			t.Errorf("EvalVersion(%q, %q) = %q, want %q", c.tmpl, c.groups, got, c.want)
		}
	}
}

func BenchmarkLoadWebappanalyzer(b *testing.B) {
	dir := sharedDir(b, "fingerprints/webappanalyzer")
	for b.Loop() {
		if _, err := Open(false, dir); err != nil {
			b.Fatal(err)
		}
	}
}
