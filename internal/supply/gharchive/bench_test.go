package gharchive

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/aicensus/aicensus/internal/supply/gharchive/ghatest"
)

// genArchive returns n events of the ghatest mix, gzip-compressed, and the
// raw size.
func genArchive(b *testing.B, n int) ([]byte, int64) {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	cw := &countWriter{w: zw}
	w := &ghatest.Writer{W: cw}
	w.Mix(rand.New(rand.NewPCG(1, 2)), n, 20000, 0.1)
	if err := w.Err(); err != nil {
		b.Fatal(err)
	}
	zw.Close()
	return gz.Bytes(), cw.n
}

type countWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}

// BenchmarkRead1M decodes 1,000,000 generated GH Archive events (gzip)
// next to the bare gunzip of the same bytes.
func BenchmarkRead1M(b *testing.B) {
	gz, rawSize := genArchive(b, 1_000_000)
	b.Logf("1M events: %d MB raw, %d MB gzip", rawSize>>20, len(gz)>>20)
	b.Run("baseline-gunzip", func(b *testing.B) {
		b.SetBytes(rawSize)
		buf := make([]byte, 1<<20)
		for b.Loop() {
			zr, _ := gzip.NewReader(bytes.NewReader(gz))
			for {
				if _, err := zr.Read(buf); err != nil {
					break
				}
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		b.SetBytes(rawSize)
		b.ReportAllocs()
		for b.Loop() {
			st, err := Read(context.Background(), bytes.NewReader(gz), Options{}, func(*Event) error { return nil })
			if err != nil || st.Lines != 1_000_000 {
				b.Fatal(st, err)
			}
		}
	})
}
