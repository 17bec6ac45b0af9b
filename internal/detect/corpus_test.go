package detect

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aicensus/aicensus/internal/catalog"
)

// shared returns a path under ../shared or skips the test.
func shared(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not available (%s): %v", p, err)
	}
	return p
}

type corpusPage struct {
	name string
	body []byte
}

// loadPages reads every gzip page of one corpus/html source, sorted by name.
func loadPages(t testing.TB, source string) []corpusPage {
	t.Helper()
	dir := shared(t, filepath.Join("corpus", "html", source, "pages"))
	files, _ := filepath.Glob(filepath.Join(dir, "*.html.gz"))
	sort.Strings(files)
	var out []corpusPage
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, corpusPage{name: source + "/" + strings.TrimSuffix(filepath.Base(f), ".html.gz"), body: b})
	}
	return out
}

var (
	detOnce sync.Once
	detAI   *Detector
	detFull *Detector
	detErr  error
)

// detectors returns the AI-only and the AI+webappanalyzer detectors.
func detectors(t testing.TB) (ai, full *Detector) {
	t.Helper()
	wa := shared(t, "fingerprints/webappanalyzer")
	detOnce.Do(func() {
		var c *catalog.Catalog
		if c, detErr = catalog.Open(false); detErr != nil {
			return
		}
		if detAI, detErr = New(c, Options{}); detErr != nil {
			return
		}
		if c, detErr = catalog.Open(false, wa); detErr != nil {
			return
		}
		detFull, detErr = New(c, Options{})
	})
	if detErr != nil {
		t.Fatal(detErr)
	}
	return detAI, detFull
}
