package detect

import (
	"os"
	"reflect"
	"runtime"
	"sync/atomic"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/model"
)

// TestPrefilterLosesNothing is the matcher's contract on real data: over
// the pages of corpus/html, with the AI catalog and with webappanalyzer
// merged in, detection with the literal prefilters (Aho-Corasick, windows,
// reverse-inner, selector literals) gives exactly what plain evaluation of
// every expression over every text gives.
//
// Plain evaluation of 14,000 expressions is slow (it is what wappalyzergo
// does), so by default the webappanalyzer run covers the readability pages;
// AICENSUS_FULL_DIFFERENTIAL=1 runs it over all 1,420 pages. Under -race
// it is skipped: scripts/test runs it once more without -race.
func TestPrefilterLosesNothing(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("slow: plain evaluation of every expression (scripts/test runs it without -race)")
	}
	wa := shared(t, "fingerprints/webappanalyzer")
	sources := []string{"readability", "trafilatura", "htmlparser-benchmark"}
	for _, c := range []struct {
		name    string
		paths   []string
		sources []string
	}{
		{"ai", nil, sources},
		{"ai+webappanalyzer", []string{wa}, sources[:1]},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.paths != nil && os.Getenv("AICENSUS_FULL_DIFFERENTIAL") != "" {
				c.sources = sources
			}
			cat, err := catalog.Open(false, c.paths...)
			if err != nil {
				t.Fatal(err)
			}
			fast, err := New(cat, Options{MinConfidence: -1})
			if err != nil {
				t.Fatal(err)
			}
			plain, err := New(cat, Options{MinConfidence: -1, plain: true})
			if err != nil {
				t.Fatal(err)
			}
			var all []corpusPage
			for _, src := range c.sources {
				all = append(all, loadPages(t, src)...)
			}
			var diffs atomic.Int64
			var g errgroup.Group
			g.SetLimit(runtime.GOMAXPROCS(0))
			for _, p := range all {
				g.Go(func() error {
					obs := &model.Observation{URL: "https://" + p.name, Body: p.body}
					a, b := fast.Detect(obs), plain.Detect(obs)
					if !reflect.DeepEqual(a, b) {
						diffs.Add(1)
						t.Errorf("%s: prefiltered and plain detections differ:\nfast:  %+v\nplain: %+v", p.name, a, b)
					}
					return nil
				})
			}
			g.Wait()
			t.Logf("%d pages, %d differences", len(all), diffs.Load())
		})
	}
}
