package detect

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/matcher"
	"github.com/aicensus/aicensus/internal/model"
)

// TestGateBoundsPageGroup: the page group's search starts where the gate
// found its first literal (Gate.From), which is only right if no group
// literal occurs before. Real vendor snippets are put into real pages at
// the start, the middle and the end; the group must find from there what
// it finds from offset 0, and detection must equal the unprefiltered one.
func TestGateBoundsPageGroup(t *testing.T) {
	files, snippets := loadSnippets(t)
	pages := loadPages(t, "readability")
	if len(pages) > 40 {
		pages = pages[:40]
	}
	ai, _ := detectors(t)
	var plain *Detector
	if !raceEnabled {
		cat, err := catalog.Open(false)
		if err != nil {
			t.Fatal(err)
		}
		if plain, err = New(cat, Options{plain: true}); err != nil {
			t.Fatal(err)
		}
	}
	placements, bounded := 0, 0
	for pi, p := range pages {
		for si, s := range snippets {
			if (pi+si)%3 != 0 {
				continue // a third of the pairs keeps the test quick
			}
			for _, at := range []int{0, len(p.body) / 2, len(p.body)} {
				placements++
				body := slices.Concat(p.body[:at], s, p.body[at:])
				from := ai.gate.From(body)
				if from < 0 {
					t.Fatalf("%s + %s at %d: the gate stayed shut", p.name, files[si], at)
				}
				if from > 0 {
					bounded++
				}
				lower := matcher.Lower(nil, body)
				var all, after [][2]int32
				ai.bodyGroup.Find(lower, func(m int, h matcher.Hit) { all = append(all, [2]int32{int32(m), h.Start}) })
				ai.bodyGroup.FindFrom(lower, from, func(m int, h matcher.Hit) { after = append(after, [2]int32{int32(m), h.Start}) })
				if !slices.Equal(all, after) {
					t.Fatalf("%s + %s at %d: from %d loses hits:\n all   %v\n after %v", p.name, files[si], at, from, all, after)
				}
				if plain != nil && pi%8 == 0 { // plain evaluation is slow
					obs := &model.Observation{URL: "https://" + p.name, Body: body}
					if a, b := ai.Detect(obs), plain.Detect(obs); !reflect.DeepEqual(a, b) {
						t.Fatalf("%s + %s at %d: detections differ:\n bounded %+v\n plain   %+v", p.name, files[si], at, a, b)
					}
				}
			}
		}
	}
	if bounded == 0 {
		t.Fatal("the gate never bounded the search: the test checks nothing")
	}
	t.Logf("%d snippet placements, %d with the group's search bounded", placements, bounded)
}

// loadSnippets reads the real vendor snippets of research/ai-embeds without
// their source comment.
func loadSnippets(t testing.TB) (files []string, snippets [][]byte) {
	t.Helper()
	files, _ = filepath.Glob(filepath.Join(shared(t, "research/ai-embeds"), "*.html"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		snippets = append(snippets, sourceComment.ReplaceAll(b, nil))
	}
	return files, snippets
}

// withSnippets returns pages each with one snippet (in turn) put before its
// last </body>, where vendors tell sites to paste them, or at its end.
func withSnippets(pages []corpusPage, snippets [][]byte) []corpusPage {
	out := make([]corpusPage, len(pages))
	for i, p := range pages {
		at := bytes.LastIndex(p.body, []byte("</body>"))
		if at < 0 {
			at = len(p.body)
		}
		out[i] = corpusPage{name: p.name, body: slices.Concat(p.body[:at], snippets[i%len(snippets)], p.body[at:])}
	}
	return out
}
