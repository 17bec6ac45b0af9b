package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// syntheticList returns n distinct domain lines of realistic length (the
// median Tranco/Alexa domain is 10 to 14 bytes).
func syntheticList(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "s%07d.com\n", i)
	}
	return b.Bytes()
}

// heapGrowth reads the whole list and returns the live heap growth in bytes
// with the Reader (and so its duplicate set) still reachable.
func heapGrowth(t testing.TB, list []byte, opts Options) (uint64, Stats) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := NewReader(bytes.NewReader(list), opts)
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := r.Stats()
	runtime.KeepAlive(r)
	if after.HeapAlloc < before.HeapAlloc {
		return 0, st
	}
	return after.HeapAlloc - before.HeapAlloc, st
}

// TestDedupMemory checks that the duplicate set costs what docs/input.md
// says (under 64 bytes per distinct target), so that a 1,000,000-line
// input stays far inside the 400 MB budget.
func TestDedupMemory(t *testing.T) {
	const n = 100_000
	list := syntheticList(n)
	grew, st := heapGrowth(t, list, Options{})
	if st.Items != n {
		t.Fatalf("items %d, want %d", st.Items, n)
	}
	perTarget := float64(grew) / n
	t.Logf("duplicate set: %.1f bytes per distinct target", perTarget)
	if perTarget > 64 {
		t.Fatalf("duplicate set costs %.1f bytes per target, want at most 64", perTarget)
	}
	grew, _ = heapGrowth(t, list, Options{KeepDuplicates: true})
	if grew > 1<<20 {
		t.Fatalf("without de-duplication the heap grew by %d bytes; want it flat", grew)
	}
}

// BenchmarkDedupMillion reports the live heap of a Reader that has read
// 1,000,000 distinct targets, with and without its duplicate set.
func BenchmarkDedupMillion(b *testing.B) {
	list := syntheticList(1_000_000)
	for _, keep := range []bool{false, true} {
		b.Run(fmt.Sprintf("keepDuplicates=%v", keep), func(b *testing.B) {
			b.SetBytes(int64(len(list)))
			b.ReportAllocs()
			var grew uint64
			for b.Loop() {
				grew, _ = heapGrowth(b, list, Options{KeepDuplicates: keep})
			}
			// 1e6 targets: live MB and bytes per target are the same number.
			b.ReportMetric(float64(grew)/1e6, "B/target")
		})
	}
}

// BenchmarkReaderAlexa reads the Alexa list (CSV, gzip) with the Reader and,
// as the baseline in the same run, with a bare bufio.Scanner that only splits
// lines and cuts the second field.
func BenchmarkReaderAlexa(b *testing.B) {
	path := corpusFile(b, "alexa-top100k-2015/top-100k.csv.gz")
	gz, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	raw := gunzipBytes(b, gz)
	b.Run("reader", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := NewReader(bytes.NewReader(gz), Options{})
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := r.Next(); err != nil {
					break
				}
			}
		}
	})
	b.Run("baseline-scanner", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			zr, err := gzip.NewReader(bytes.NewReader(gz))
			if err != nil {
				b.Fatal(err)
			}
			seen := map[string]struct{}{}
			sc := bufio.NewScanner(zr)
			for sc.Scan() {
				_, host, _ := strings.Cut(sc.Text(), ",")
				seen[strings.ToLower(host)] = struct{}{}
			}
		}
	})
}

func gunzipBytes(t testing.TB, gz []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
