package detect

import (
	"bytes"
	"testing"

	"golang.org/x/net/html"

	"github.com/aicensus/aicensus/internal/matcher"
	"github.com/aicensus/aicensus/internal/model"
)

func totalBytes(pages []corpusPage) int64 {
	var n int64
	for _, p := range pages {
		n += int64(len(p.body))
	}
	return n
}

// BenchmarkReadability measures detection over the 130 readability pages
// next to the tokenize-only floor, in the same run: compare the MB/s.
func BenchmarkReadability(b *testing.B) {
	pages := loadPages(b, "readability")
	ai, full := detectors(b)
	n := totalBytes(pages)
	b.Run("baseline=lower+tokenize", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			for _, p := range pages {
				buf = matcher.Lower(buf, p.body)
				z := html.NewTokenizer(bytes.NewReader(p.body))
				for z.Next() != html.ErrorToken {
				}
			}
		}
	})
	for _, c := range []struct {
		name string
		d    *Detector
	}{{"catalog=ai", ai}, {"catalog=ai+webappanalyzer", full}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				for _, p := range pages {
					c.d.Detect(&model.Observation{URL: "https://example.test/", Body: p.body})
				}
			}
		})
	}
}
