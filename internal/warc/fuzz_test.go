package warc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/warc/warctest"
)

// FuzzReader feeds arbitrary bytes to the reader and the decoder: they
// must never panic, hang or grow records past the caps, and offsets never
// go backwards.
func FuzzReader(f *testing.F) {
	for _, rel := range []string{"library-test-warcs/warcio-example.warc.gz", "library-test-warcs/warcio-example-iana.org-chunked.warc", "commoncrawl-whirlwind/whirlwind.warc.wet.gz"} {
		if data, err := os.ReadFile(filepath.Join(corpusDir, rel)); err == nil {
			f.Add(data)
		}
	}
	var buf bytes.Buffer
	w := warctest.NewWriter(&buf, false)
	_, _ = w.Write(warctest.Response("https://x.example/", 200, []string{"Content-Encoding: gzip", "Transfer-Encoding: chunked"}, warctest.Chunked(warctest.Gzip([]byte("<html>hi</html>")), 7)))
	_, _ = w.Write(warctest.DNS("x.example", warctest.Record{}.Date, "x.example. 60 IN TXT \"a\""))
	f.Add(buf.Bytes())
	f.Add(warctest.Gzip(buf.Bytes()))
	f.Add([]byte("filedesc://x.arc 0.0.0.0 20080430204825 text/plain 3\nabc\nhttp://a.example/ 1.2.3.4 20080430204825 text/html 19\nHTTP/1.0 200 OK\r\n\r\nx\n"))
	const maxRecord, maxBody = 1 << 16, 1 << 16
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), "fuzz", 0, Options{MaxRecordBytes: maxRecord, MaxBodyBytes: maxBody, KeepBlock: func(string) bool { return true }})
		var d Decoder
		last := int64(-1)
		for i := 0; ; i++ {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next on in-memory input: %v", err)
			}
			if i > len(data) {
				t.Fatal("more records than input bytes")
			}
			if rec.Offset < last || rec.Offset > int64(len(data)) {
				t.Fatalf("offset %d after %d (input %d bytes)", rec.Offset, last, len(data))
			}
			last = rec.Offset
			if int64(len(rec.Block)) != rec.Length || rec.Length > maxRecord {
				t.Fatalf("block %d bytes, length %d", len(rec.Block), rec.Length)
			}
			obs, err := d.Decode(rec)
			var p *Problem
			if err != nil && !errors.As(err, &p) {
				t.Fatalf("decode error %v is not a *Problem", err)
			}
			if obs != nil && int64(len(obs.Body)) > maxBody {
				t.Fatalf("body %d bytes over the cap", len(obs.Body))
			}
		}
		if st := r.Stats(); st.Bytes > int64(len(data)) {
			t.Fatalf("consumed %d of %d bytes", st.Bytes, len(data))
		}
	})
}

// FuzzDecodeHTTP feeds arbitrary response blocks to the decoder.
func FuzzDecodeHTTP(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nSet-Cookie: a=1\r\n\r\n<html></html>"))
	f.Add(append([]byte("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n"), warctest.Gzip([]byte("<p>hello</p>"))...))
	f.Add(append([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: deflate, br\r\n\r\n"), warctest.Chunked([]byte("abc"), 1)...))
	f.Add([]byte("HTTP/1.0 302\nLocation: /x\n folded\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\n\r\n\x28\xb5\x2f\xfd\x00\x00"))
	f.Fuzz(func(t *testing.T, block []byte) {
		rec := &Record{Type: TypeResponse, TargetURI: "https://x.example/", Block: block, maxBody: 4096}
		obs, err := rec.Decode()
		if obs == nil && err == nil {
			t.Fatal("a response record gave neither an observation nor a problem")
		}
		var p *Problem
		if err != nil && !errors.As(err, &p) {
			t.Fatalf("error %v is not a *Problem", err)
		}
		if obs != nil {
			if len(obs.Body) > 4096 {
				t.Fatalf("body %d bytes over the cap", len(obs.Body))
			}
			for k := range obs.Headers {
				if strings.ContainsAny(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
					t.Fatalf("header key %q not lowercase", k)
				}
			}
		}
	})
}

// FuzzParseDNS feeds arbitrary dns: record blocks to ParseDNS.
func FuzzParseDNS(f *testing.F) {
	f.Add([]byte("20080430204825\nwww.archive.org.\t589\tIN\tA\t207.241.229.39\n"))
	f.Add([]byte("x.org. 60 IN TXT \"v=spf1 include:_spf.google.com ~all\"\nx.org. 60 IN MX 10 mx.x.org.\n"))
	f.Add([]byte("$ORIGIN x.org.\n@ 60 IN CNAME y.org.\n"))
	f.Fuzz(func(t *testing.T, block []byte) {
		recs, _ := ParseDNS(block)
		for _, r := range recs {
			if r.Type == "" || (len(r.Name) > 1 && r.Name[len(r.Name)-1] == '.') {
				t.Fatalf("record %+v", r)
			}
		}
	})
}

// FuzzScanSplit scans arbitrary input with the splitting pipeline: it must
// not panic, hang or handle a record twice, and on input the sequential
// reader finds clean it must give exactly the sequential records.
func FuzzScanSplit(f *testing.F) {
	var buf bytes.Buffer
	w := warctest.NewWriter(&buf, true)
	for i := range 4 {
		_, _ = w.Write(warctest.Response(fmt.Sprintf("https://x%d.example/", i), 200, []string{"Content-Encoding: gzip"}, warctest.Gzip([]byte("<html>hi</html>"))))
	}
	f.Add(buf.Bytes())
	f.Add(append(bytes.Clone(buf.Bytes()[:buf.Len()/2]), buf.Bytes()...))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		seen := map[string]bool{}
		var mu sync.Mutex
		st, err := Scan(ctx, []Source{{Name: "-", Kind: SourceStdin}}, ScanOptions{Workers: 3, Options: Options{Stdin: bytes.NewReader(data)}}, func(_ context.Context, it *Item) error {
			mu.Lock()
			defer mu.Unlock()
			if seen[it.Record.Ref()] {
				t.Errorf("%s handled twice", it.Record.Ref())
			}
			seen[it.Record.Ref()] = true
			return nil
		})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		r := NewReader(bytes.NewReader(data), "-", 0, Options{})
		var refs []string
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			refs = append(refs, rec.Ref())
		}
		if r.Stats().ProblemTotal() > 0 {
			return
		}
		if len(refs) != len(seen) || st.ProblemTotal() != 0 {
			t.Fatalf("split read %d records %v, sequential %d clean", len(seen), st.Problems, len(refs))
		}
		for _, ref := range refs {
			if !seen[ref] {
				t.Fatalf("%s missing from the split read", ref)
			}
		}
	})
}
