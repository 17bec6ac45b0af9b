package warc

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/warc/warctest"
)

// outcome is what a read of one archive gives: per record (by Ref) its
// type and a hash of its observation, and the counts.
type outcome struct {
	recs     map[string]string
	problems map[Kind]int64
	records  map[string]int64
}

// sequential reads data with Reader and Decoder on one goroutine.
func sequential(t *testing.T, name string, data []byte) outcome {
	t.Helper()
	o := outcome{recs: map[string]string{}}
	r := NewReader(bytes.NewReader(data), name, 0, Options{})
	var d Decoder
	var st Stats
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		obs, err := d.Decode(rec)
		if p, ok := err.(*Problem); ok {
			st.countProblem(p.Kind, 1)
		}
		o.recs[rec.Ref()] = describe(rec, obs)
	}
	st.Add(r.Stats())
	o.problems, o.records = st.Problems, st.Records
	return o
}

// describe summarises a record and its observation for comparisons.
func describe(rec *Record, obs *model.Observation) string {
	if obs == nil {
		return rec.Type + " " + rec.TargetURI
	}
	return fmt.Sprintf("%s %s %d %x %d", rec.Type, rec.TargetURI, obs.StatusCode, sha256.Sum256(obs.Body), len(obs.DNS))
}

// scanned reads the file name with Scan.
func scanned(t *testing.T, name string, opt ScanOptions) outcome {
	t.Helper()
	o := outcome{recs: map[string]string{}}
	var mu sync.Mutex
	st, err := Scan(context.Background(), []Source{{Name: name, Kind: SourceFile}}, opt, func(_ context.Context, it *Item) error {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := o.recs[it.Record.Ref()]; dup {
			t.Errorf("%s handled twice", it.Record.Ref())
		}
		o.recs[it.Record.Ref()] = describe(it.Record, it.Observation)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	o.problems, o.records = st.Problems, st.Records
	return o
}

func sameOutcome(t *testing.T, label string, got, want outcome) {
	t.Helper()
	if !maps.Equal(got.recs, want.recs) {
		missing, extra := 0, 0
		for k := range want.recs {
			if _, ok := got.recs[k]; !ok {
				missing++
			}
		}
		for k := range got.recs {
			if _, ok := want.recs[k]; !ok {
				extra++
			}
		}
		t.Errorf("%s: %d records (%d missing, %d extra, or observations differ), want %d", label, len(got.recs), missing, extra, len(want.recs))
	}
	if !maps.Equal(got.problems, want.problems) || !maps.Equal(got.records, want.records) {
		t.Errorf("%s: records %v problems %v, want %v %v", label, got.records, got.problems, want.records, want.problems)
	}
}

// checkSplit compares Scan with and without splitting to a sequential read.
func checkSplit(t *testing.T, label string, data []byte) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "x.warc.gz")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want := sequential(t, name, data)
	sameOutcome(t, label+" split", scanned(t, name, ScanOptions{Workers: 3}), want)
	sameOutcome(t, label+" nosplit", scanned(t, name, ScanOptions{Workers: 3, NoSplit: true}), want)
}

func TestSplitMatchesSequential(t *testing.T) {
	for _, f := range corpusFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkSplit(t, filepath.Base(f), data)
		if data[0] != 0x1f {
			continue
		}
		// Every member of these files is cut out as its own piece (the
		// ARC in gzip has no "WARC/" to check and is split on headers only).
		if n, members := countPieces(t, data), len(oracle(t, data)); n != members {
			t.Errorf("%s: %d pieces for %d gzip members", f, n, members)
		}
	}
}

func countPieces(t *testing.T, data []byte) int {
	t.Helper()
	r := newReader(bytes.NewReader(data), "x", 0, Options{}, splitBufSize)
	n := 0
	for {
		_, rec, err := r.nextPiece(false)
		if err == io.EOF {
			return n
		}
		if err != nil || rec != nil {
			t.Fatalf("nextPiece: %v %v", rec, err)
		}
		n++
	}
}

func TestSplitBrokenInput(t *testing.T) {
	data := loadCorpus(t, "servo-warc-tests/Baidu.warc.gz")
	want := oracle(t, data)
	ends := memberEnds(t, data)
	corrupt := bytes.Clone(data)
	mid := want[7].off + (ends[7]-want[7].off)/2
	for i := mid; i < mid+40; i++ {
		corrupt[i] ^= 0x5a
	}
	junk := bytes.Repeat([]byte("junk\x1f\x8b\x08"), 100)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"truncated", data[:len(data)*3/5]},
		{"truncated at a member", data[:want[9].off+5]},
		{"corrupted member", corrupt},
		{"garbage between members", slices.Concat(data[:want[4].off], junk, data[want[4].off:])},
		{"garbage before", slices.Concat(junk, data)},
		{"whole-file gzip", warctest.Gzip(mustGunzip(t, data))},
	} {
		t.Run(tc.name, func(t *testing.T) { checkSplit(t, tc.name, tc.data) })
	}
}

func mustGunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// storedMember gzips b with no compression, so the member's bytes contain
// b's bytes as they are.
func storedMember(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.NoCompression)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = zw.Write(b)
	_ = zw.Close()
	return out.Bytes()
}

// warcInWARC writes a warcinfo record, then for each n in hidden a
// response whose gzip member (stored, not compressed) holds n whole gzip
// members of WARC records written by the same writer, back to back (a
// .warc.gz inside a WARC), each followed by a normal response. Header
// pattern and a plausible ISIZE occur inside the stored member.
func warcInWARC(t *testing.T, hidden ...int) []byte {
	var plain, gz, inner bytes.Buffer
	wg := warctest.NewWriter(&gz, true)
	_, _ = wg.Write(warctest.Record{Type: TypeWarcinfo, Block: []byte("a: b\r\n")})
	wi := warctest.NewWriter(&inner, true)
	_, _ = wi.Write(warctest.Record{Type: TypeResource, TargetURI: "https://inner.example/", Block: []byte("inner")})
	for _, n := range hidden {
		plain.Reset()
		wp := warctest.NewWriter(&plain, false)
		var body []byte
		for range n {
			body = append(body, inner.Bytes()...)
		}
		_, _ = wp.Write(warctest.Response(fmt.Sprintf("https://hidden%d.example/", n), 200, []string{"Content-Type: application/warc"}, body))
		gz.Write(storedMember(t, plain.Bytes()))
		_, _ = wg.Write(warctest.Response(fmt.Sprintf("https://after%d.example/", n), 200, nil, []byte("after")))
	}
	return gz.Bytes()
}

// TestSplitNoFalseCuts hides member headers (with the ISIZE before them
// that a looser check would accept) inside records: the splitter must cut
// only at real members.
func TestSplitNoFalseCuts(t *testing.T) {
	data := warcInWARC(t, 1, 2, 3, 5)
	if n, members := countPieces(t, data), len(oracle(t, data)); n != members {
		t.Errorf("%d pieces for %d members", n, members)
	}
	checkSplit(t, "warc in warc", data)
}

// TestSplitMultiRecordMembers reads sources whose members hold two
// records (no exact cut): the first such members are read inline, then the
// whole source.
func TestSplitMultiRecordMembers(t *testing.T) {
	var gz, plain bytes.Buffer
	for i := range 6 {
		plain.Reset()
		w := warctest.NewWriter(&plain, false)
		_, _ = w.Write(warctest.Record{Type: TypeRequest, TargetURI: fmt.Sprintf("https://m%d.example/", i), Block: []byte("GET / HTTP/1.1\r\n\r\n")})
		_, _ = w.Write(warctest.Response(fmt.Sprintf("https://m%d.example/", i), 200, nil, []byte("<p>hi</p>")))
		gz.Write(warctest.Gzip(plain.Bytes()))
	}
	checkSplit(t, "two records per member", gz.Bytes())
	r := newReader(bytes.NewReader(gz.Bytes()), "x", 0, Options{}, splitBufSize)
	pieces, recs := 0, 0
	for {
		p, _, err := r.nextPiece(false)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p != nil {
			pieces++
		} else {
			recs++
		}
	}
	if pieces != 0 || recs != 12 || r.unsplit < noSplitAfter {
		t.Errorf("%d pieces, %d records read inline, unsplit %d", pieces, recs, r.unsplit)
	}
}

func TestSplitLargeAndMixedMembers(t *testing.T) {
	var gz bytes.Buffer
	w := warctest.NewWriter(&gz, true)
	_, _ = w.Write(warctest.Response("https://a.example/", 200, nil, []byte("a")))
	big := make([]byte, splitBufSize+1<<20) // incompressible: a member larger than a piece
	_, _ = rand.Read(big)
	_, _ = w.Write(warctest.Response("https://big.example/", 200, []string{"Content-Type: application/octet-stream"}, big))
	_, _ = w.Write(warctest.Response("https://b.example/", 200, nil, []byte("b")))
	// Members with another header (best compression sets XFL): the pieces
	// hold several members.
	var plain bytes.Buffer
	for i := range 5 {
		plain.Reset()
		wp := warctest.NewWriter(&plain, false)
		_, _ = wp.Write(warctest.Response(fmt.Sprintf("https://c%d.example/", i), 200, nil, []byte("c")))
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(plain.Bytes())
		_ = zw.Close()
	}
	_, _ = w.Write(warctest.Response("https://d.example/", 200, nil, []byte("d")))
	checkSplit(t, "large and mixed", gz.Bytes())
}

// TestSplitGzipBodies checks that gzip-encoded bodies, whose headers the
// outer compression stores as they are, are not taken for member starts.
func TestSplitGzipBodies(t *testing.T) {
	b := buildCorpusWARC(t, 21, true) // a seventh gzip-encoded, a seventh gzip+chunked
	data := b.data
	members := len(oracle(t, data))
	pieces := countPieces(t, data)
	gzipped := 0
	for i := range 21 {
		if i%7 == 1 || i%7 == 6 {
			gzipped++
		}
	}
	if pieces != members {
		t.Errorf("%d pieces for %d members (%d gzip-encoded bodies)", pieces, members, gzipped)
	}
	checkSplit(t, "gzip bodies", data)
}
