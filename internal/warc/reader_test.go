package warc

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/aicensus/aicensus/internal/warc/warctest"
)

const (
	htmlDir   = "../../../shared/corpus/html/trafilatura"
	embedsDir = "../../../shared/research/ai-embeds"
)

// built is a WARC made in the test from real corpus pages with AI embed
// snippets inside, with what each response must decode to.
type built struct {
	data   []byte
	bodies map[string][]byte // target URI -> decoded body
	embeds map[string][]byte // target URI -> embed snippet inside the body
	counts map[string]int64  // records by type
}

func encodeBody(t testing.TB, coding string, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip":
		return warctest.Gzip(b)
	case "br":
		w = brotli.NewWriter(&out)
	case "deflate":
		w, _ = flate.NewWriter(&out, flate.DefaultCompression)
	case "zstd":
		zw, err := zstd.NewWriter(&out)
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	default:
		return b
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// buildCorpusWARC writes n corpus pages (every third with an embed) in
// several encodings, plus the other record types.
func buildCorpusWARC(t testing.TB, n int, gzipPerRecord bool) built {
	t.Helper()
	pages, err := warctest.LoadPages(htmlDir, n)
	if warctest.ErrNoCorpus(err) {
		t.Skipf("corpus pages: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	embeds, err := warctest.LoadEmbeds(embedsDir)
	if warctest.ErrNoCorpus(err) {
		t.Skipf("ai embeds: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := warctest.NewWriter(&buf, gzipPerRecord)
	b := built{bodies: map[string][]byte{}, embeds: map[string][]byte{}, counts: map[string]int64{}}
	write := func(r warctest.Record) {
		if _, err := w.Write(r); err != nil {
			t.Fatal(err)
		}
		if r.Type == "" {
			r.Type = TypeResponse
		}
		b.counts[r.Type]++
	}
	write(warctest.Record{Type: TypeWarcinfo, Block: []byte("software: warctest\r\nformat: WARC File Format 1.1\r\n")})
	codings := []string{"", "gzip", "br", "deflate", "zstd", "chunked", "gzip+chunked"}
	for i, p := range pages {
		html := p.HTML
		if i%3 == 0 {
			e := embeds[(i/3)%len(embeds)]
			html = warctest.Inject(html, e.HTML)
			b.embeds[p.URL] = e.HTML
		}
		b.bodies[p.URL] = html
		coding := codings[i%len(codings)]
		headers := []string{"Content-Type: text/html; charset=utf-8", "Set-Cookie: a=1; Path=/", "Set-Cookie: b=2", "Content-Security-Policy: script-src 'self' https://cdn.example.com"}
		body := html
		if ce, _, _ := strings.Cut(coding, "+"); ce != "" && ce != "chunked" {
			body = encodeBody(t, ce, body)
			headers = append(headers, "Content-Encoding: "+ce)
		}
		if strings.HasSuffix(coding, "chunked") {
			body = warctest.Chunked(body, 4096)
			headers = append(headers, "Transfer-Encoding: chunked")
		} else {
			headers = append(headers, fmt.Sprintf("Content-Length: %d", len(body)))
		}
		write(warctest.Record{Type: TypeRequest, TargetURI: p.URL, Block: []byte("GET / HTTP/1.1\r\nHost: " + p.Host + "\r\n\r\n")})
		write(warctest.Response(p.URL, 200, headers, body))
		write(warctest.Record{Type: TypeMetadata, TargetURI: p.URL, Block: []byte("outlink: https://example.com/\r\n")})
		if i%5 == 0 {
			write(warctest.Record{Type: TypeRevisit, TargetURI: p.URL, Block: warctest.HTTPResponse(200, headers[:1], nil),
				Fields: [][2]string{{"WARC-Refers-To-Target-URI", p.URL}, {"WARC-Refers-To-Date", "2024-05-17T00:00:00Z"}, {"WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"}}})
		}
	}
	write(warctest.DNS("www.Example.com", time.Date(2024, 5, 18, 0, 0, 0, 0, time.UTC),
		"www.example.com.\t300\tIN\tCNAME\tedge.example.net.", "example.com.\t300\tIN\tTXT\t\"openai-domain-verification=dv-abc\"", "example.com.\t300\tIN\tMX\t10 mx.Example.net."))
	b.data = buf.Bytes()
	return b
}

func TestBuiltCorpusWARC(t *testing.T) {
	for _, layout := range []string{"gzip-per-record", "plain", "whole-file-gzip"} {
		t.Run(layout, func(t *testing.T) {
			pages := 40
			if !fullCorpus() {
				pages = 14
			}
			b := buildCorpusWARC(t, pages, layout == "gzip-per-record")
			data := b.data
			if layout == "whole-file-gzip" {
				data = warctest.Gzip(data)
			}
			recs, st := readAllRecords(t, layout, data, Options{KeepBlock: func(typ string) bool { return typ == TypeResponse || typ == TypeRevisit }})
			if st.ProblemTotal() != 0 {
				t.Errorf("problems %v", st.Problems)
			}
			for typ, n := range b.counts {
				if st.Records[typ] != n {
					t.Errorf("%s: %d records, wrote %d", typ, st.Records[typ], n)
				}
			}
			var d Decoder
			seenBodies, seenDNS := 0, 0
			for _, r := range recs {
				obs, err := d.Decode(r)
				if err != nil {
					t.Errorf("%s: %v", r.Ref(), err)
					continue
				}
				if obs == nil {
					continue
				}
				if obs.DNS != nil {
					seenDNS++
					want := []string{"www.example.com CNAME edge.example.net", "example.com TXT openai-domain-verification=dv-abc", "example.com MX mx.example.net"}
					var got []string
					for _, d := range obs.DNS {
						got = append(got, d.Name+" "+d.Type+" "+d.Value)
					}
					if obs.Host != "www.example.com" || !slices.Equal(got, want) {
						t.Errorf("dns observation %s %v", obs.Host, got)
					}
					continue
				}
				seenBodies++
				want := b.bodies[obs.URL]
				if !bytes.Equal(obs.Body, want) {
					t.Errorf("%s: body %d bytes, want %d (%v)", obs.URL, len(obs.Body), len(want), obs.Headers["content-encoding"])
				}
				if e := b.embeds[obs.URL]; e != nil && !bytes.Contains(obs.Body, e) {
					t.Errorf("%s: embed snippet missing", obs.URL)
				}
				if len(obs.Headers["set-cookie"]) != 2 || obs.Headers["content-security-policy"] == nil || obs.StatusCode != 200 {
					t.Errorf("%s: headers %v", obs.URL, obs.Headers)
				}
				if layout == "whole-file-gzip" && r.Offset != 0 {
					t.Errorf("%s: offset %d inside one member", r.Ref(), r.Offset)
				}
			}
			if seenBodies != len(b.bodies) || seenDNS != 1 {
				t.Errorf("%d bodies (want %d), %d dns", seenBodies, len(b.bodies), seenDNS)
			}
		})
	}
}

// TestResumeAtEveryRecord starts a reader at each record's offset, as a
// resumed scan does, and checks it reads exactly the rest.
func TestResumeAtEveryRecord(t *testing.T) {
	for _, gz := range []bool{true, false} {
		b := buildCorpusWARC(t, 12, gz)
		full, _ := readAllRecords(t, "x", b.data, Options{})
		for i, rec := range full {
			r := NewReader(bytes.NewReader(b.data[rec.Offset:]), "x", rec.Offset, Options{})
			var got []*Record
			for {
				g, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, g)
			}
			if len(got) != len(full)-i {
				t.Fatalf("gzip %v: resume at record %d: %d records, want %d", gz, i, len(got), len(full)-i)
			}
			for j, g := range got {
				if g.ID != full[i+j].ID || g.Offset != full[i+j].Offset {
					t.Fatalf("gzip %v: resume at %d: record %d is %s@%d, want %s@%d", gz, i, j, g.ID, g.Offset, full[i+j].ID, full[i+j].Offset)
				}
			}
			if r.Offset() != int64(len(b.data)) {
				t.Fatalf("end offset %d, want %d", r.Offset(), len(b.data))
			}
		}
	}
}

func TestReaderOffsetIsResumePoint(t *testing.T) {
	b := buildCorpusWARC(t, 6, true)
	r := NewReader(bytes.NewReader(b.data), "x", 0, Options{})
	var prevNext int64
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Offset != prevNext {
			t.Fatalf("record at %d, the reader's offset before it was %d", rec.Offset, prevNext)
		}
		prevNext = r.Offset()
	}
}

func TestEmptyAndGarbageInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		kind Kind
	}{
		{"empty", nil, ""},
		{"newlines", []byte("\r\n\r\n"), ""},
		{"text", []byte("hello world\nthis is not a warc\n"), KindBadWARCHeader},
		{"gzip of text", warctest.Gzip([]byte("hello world\n")), KindBadWARCHeader},
		{"gzip header only", warctest.Gzip([]byte("x"))[:10], KindTruncatedGzip},
		{"no type", []byte("WARC/1.0\r\nContent-Length: 0\r\n\r\n\r\n\r\n"), KindBadWARCHeader},
		{"negative length", []byte("WARC/1.0\r\nWARC-Type: resource\r\nContent-Length: -5\r\n\r\n"), KindBadWARCHeader},
		{"short block", []byte("WARC/1.0\r\nWARC-Type: resource\r\nContent-Length: 500\r\n\r\nabc"), KindTruncatedRecord},
		{"arc garbage", []byte("filedesc://x.arc 0.0.0.0 20080430204825 text/plain 3\nabc\nnot an arc header\n"), KindBadWARCHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, st := readAllRecords(t, tc.name, tc.in, Options{})
			if tc.kind == "" && (st.ProblemTotal() != 0 || len(recs) != 0) {
				t.Errorf("%d records, problems %v", len(recs), st.Problems)
			}
			if tc.kind != "" && st.Problems[tc.kind] != 1 {
				t.Errorf("problems %v, want one %s", st.Problems, tc.kind)
			}
		})
	}
}

func TestOnProblemAndNonHTTP(t *testing.T) {
	var buf bytes.Buffer
	w := warctest.NewWriter(&buf, true)
	_, _ = w.Write(warctest.Record{Type: TypeResponse, TargetURI: "https://a.example/", Block: []byte("220 ftp server ready\r\n")})
	off, _ := w.WriteRaw([]byte("garbage that is not a record"))
	_, _ = w.Write(warctest.Record{Type: TypeResponse, TargetURI: "https://b.example/", Block: []byte("HTTP/1.1 2x0 OK\r\n\r\n")})
	_, _ = w.Write(warctest.Response("https://C.example:8443/x", 404, []string{"Server: x"}, []byte("nope")))
	var seen []*Problem
	recs, st := readAllRecords(t, "p.warc.gz", buf.Bytes(), Options{OnProblem: func(p *Problem) { seen = append(seen, p) }})
	if len(recs) != 3 || len(seen) != 1 || seen[0].Kind != KindBadWARCHeader || seen[0].Offset != off || seen[0].File != "p.warc.gz" || st.ProblemTotal() != 1 {
		t.Fatalf("%d records, problems %v", len(recs), seen)
	}
	var kinds []Kind
	for _, r := range recs {
		obs, err := r.Decode()
		var p *Problem
		if err != nil {
			p = err.(*Problem)
			kinds = append(kinds, p.Kind)
			if obs != nil {
				t.Errorf("%s: observation with %v", r.Ref(), err)
			}
			continue
		}
		if obs.Host != "c.example" || obs.StatusCode != 404 || string(obs.Body) != "nope" {
			t.Errorf("observation %s %d %q", obs.Host, obs.StatusCode, obs.Body)
		}
	}
	if !slices.Equal(kinds, []Kind{KindNonHTTPPayload, KindBadHTTP}) {
		t.Errorf("decode problems %v", kinds)
	}
}

func TestReadErrorIsFatal(t *testing.T) {
	b := buildCorpusWARC(t, 3, true)
	r := NewReader(io.MultiReader(bytes.NewReader(b.data[:len(b.data)/2]), errReader{}), "x", 0, Options{})
	var err error
	for err == nil {
		_, err = r.Next()
	}
	var p *Problem
	if err == io.EOF || !asProblem(err, &p) || p.Kind != KindReadError {
		t.Fatalf("err %v, want a read-error problem", err)
	}
	if _, err2 := r.Next(); err2 != err {
		t.Errorf("second Next: %v", err2)
	}
	if r.Stats().Problems[KindReadError] != 1 {
		t.Errorf("stats %v", r.Stats())
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, fmt.Errorf("disk on fire") }

func asProblem(err error, p **Problem) bool {
	q, ok := err.(*Problem)
	*p = q
	return ok
}

func TestGzipMemberWithTwoRecords(t *testing.T) {
	// Some writers put a warcinfo and the first record in one member.
	var plain bytes.Buffer
	w := warctest.NewWriter(&plain, false)
	_, _ = w.Write(warctest.Record{Type: TypeWarcinfo, Block: []byte("a: b\r\n")})
	_, _ = w.Write(warctest.Response("https://x.example/", 200, nil, []byte("hi")))
	first := warctest.Gzip(plain.Bytes())
	var rest bytes.Buffer
	w2 := warctest.NewWriter(&rest, true)
	_, _ = w2.Write(warctest.Response("https://y.example/", 200, nil, []byte("yo")))
	data := slices.Concat(first, rest.Bytes())
	recs, st := readAllRecords(t, "m", data, Options{})
	if len(recs) != 3 || st.ProblemTotal() != 0 {
		t.Fatalf("%d records %v", len(recs), st)
	}
	if recs[0].Offset != 0 || recs[1].Offset != 0 || recs[2].Offset != int64(len(first)) {
		t.Errorf("offsets %d %d %d", recs[0].Offset, recs[1].Offset, recs[2].Offset)
	}
	_ = gzip.NewReader
}

func TestResyncOnNextLine(t *testing.T) {
	// A stray line right before a record must not cost that record.
	var buf bytes.Buffer
	w := warctest.NewWriter(&buf, false)
	_, _ = w.Write(warctest.Response("https://a.example/", 200, nil, []byte("a")))
	_, _ = w.WriteRaw([]byte("stray line\r\n"))
	_, _ = w.Write(warctest.Response("https://b.example/", 200, nil, []byte("b")))
	recs, st := readAllRecords(t, "s", buf.Bytes(), Options{})
	if len(recs) != 2 || st.Problems[KindBadWARCHeader] != 1 {
		t.Errorf("%d records, %v", len(recs), st.Problems)
	}
}
