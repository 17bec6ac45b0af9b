package warc

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aicensus/aicensus/internal/warc/warctest"
)

func response(block string) *Record {
	return &Record{Type: TypeResponse, TargetURI: "https://Example.COM:8443/p?q=1", File: "f.warc.gz", Offset: 7, ID: "<urn:x>", Block: []byte(block)}
}

func TestDecodeHTTP(t *testing.T) {
	page := []byte("<html><head><title>t</title></head><body>" + strings.Repeat("hello ", 300) + "</body></html>")
	gz := warctest.Gzip(page)
	for _, tc := range []struct {
		name    string
		block   string
		maxBody int64
		status  int
		headers map[string][]string
		body    string
		kind    Kind
	}{
		{name: "plain", block: "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>x</p>", status: 200,
			headers: map[string][]string{"content-type": {"text/html"}}, body: "<p>x</p>"},
		{name: "lf only, no reason", block: "HTTP/1.0 404\nX-A: 1\n\nbody", status: 404, headers: map[string][]string{"x-a": {"1"}}, body: "body"},
		{name: "http2 status line", block: "HTTP/2 204\r\n\r\n", status: 204, headers: map[string][]string{}, body: ""},
		{name: "repeated and folded headers", block: "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSET-COOKIE: b=2\r\nX-Long: one\r\n  two\r\nbroken line\r\n: empty name\r\n\r\n", status: 200,
			headers: map[string][]string{"set-cookie": {"a=1", "b=2"}, "x-long": {"one two"}}, body: ""},
		{name: "headers only", block: "HTTP/1.1 301 Moved\r\nLocation: /x\r\n", status: 301, headers: map[string][]string{"location": {"/x"}}, body: ""},
		{name: "gzip", block: "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + string(gz), status: 200, body: string(page)},
		{name: "stale gzip header", block: "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + string(page), status: 200, body: string(page)},
		{name: "gzip then chunked", block: "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + string(warctest.Chunked(gz, 100)), status: 200, body: string(page)},
		{name: "stale chunked header", block: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n<html>", status: 200, body: "<html>"},
		{name: "chunked cut short", block: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nwor", status: 200, body: "hellowor", kind: KindDecodeError},
		{name: "gzip cut short", block: "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + string(gz[:len(gz)/2]), status: 200, kind: KindDecodeError},
		{name: "garbage br", block: "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\n\r\n\x00\x01\x02\x03\xff\xfe", status: 200, body: "\x00\x01\x02\x03\xff\xfe", kind: KindDecodeError},
		{name: "unknown coding", block: "HTTP/1.1 200 OK\r\nContent-Encoding: null\r\n\r\nabc", status: 200, body: "abc"},
		{name: "body cap", block: "HTTP/1.1 200 OK\r\n\r\n" + string(page), maxBody: 10, status: 200, body: string(page[:10]), kind: KindBodyTruncated},
		{name: "decompression cap", block: "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + string(gz), maxBody: 100, status: 200, body: string(page[:100]), kind: KindBodyTruncated},
		{name: "not http", block: "220 ftp ready\r\n", kind: KindNonHTTPPayload},
		{name: "bad status", block: "HTTP/1.1 OK\r\n\r\n", kind: KindBadHTTP},
		{name: "short status", block: "HTTP/1.1 20 OK\r\n\r\n", kind: KindBadHTTP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := response(tc.block)
			rec.maxBody = tc.maxBody
			obs, err := rec.Decode()
			var p *Problem
			if err != nil && !errors.As(err, &p) {
				t.Fatalf("error %v is not a *Problem", err)
			}
			if (p == nil) != (tc.kind == "") || (p != nil && p.Kind != tc.kind) {
				t.Fatalf("problem %v, want %q", err, tc.kind)
			}
			if p != nil && (p.File != "f.warc.gz" || p.Offset != 7) {
				t.Errorf("problem location %s@%d", p.File, p.Offset)
			}
			if tc.status == 0 {
				if obs != nil {
					t.Errorf("observation for an unusable record")
				}
				return
			}
			if obs == nil {
				t.Fatal("no observation")
			}
			if obs.StatusCode != tc.status || obs.Host != "example.com" || obs.URL != rec.TargetURI || obs.Ref != "f.warc.gz@7 <urn:x>" {
				t.Errorf("observation %d %q %q %q", obs.StatusCode, obs.Host, obs.URL, obs.Ref)
			}
			if tc.body != "" || tc.kind == "" {
				if string(obs.Body) != tc.body {
					t.Errorf("body %.60q (%d bytes), want %.60q (%d)", obs.Body, len(obs.Body), tc.body, len(tc.body))
				}
			}
			if tc.name == "gzip cut short" && (len(obs.Body) == 0 || !bytes.HasPrefix(page, obs.Body)) {
				t.Errorf("partial body %d bytes is not a prefix of the page", len(obs.Body))
			}
			for k, v := range tc.headers {
				if !slices.Equal(obs.Headers[k], v) {
					t.Errorf("header %s: %q, want %q", k, obs.Headers[k], v)
				}
			}
			if tc.headers != nil && len(obs.Headers) != len(tc.headers) {
				t.Errorf("headers %v, want %v", obs.Headers, tc.headers)
			}
		})
	}
}

func TestDecodeSkipsOtherTypes(t *testing.T) {
	for _, typ := range []string{TypeRequest, TypeRevisit, TypeMetadata, TypeResource, TypeWarcinfo, TypeConversion} {
		rec := &Record{Type: typ, Block: []byte("HTTP/1.1 200 OK\r\n\r\nx")}
		if obs, err := rec.Decode(); obs != nil || err != nil {
			t.Errorf("%s: %v %v", typ, obs, err)
		}
	}
	if obs, err := (&Record{Type: TypeResponse}).Decode(); obs != nil || err != nil {
		t.Errorf("response without block: %v %v", obs, err)
	}
}

func TestDecodeBodySharesBlock(t *testing.T) {
	rec := response("HTTP/1.1 200 OK\r\n\r\nabc")
	obs, err := rec.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if &obs.Body[0] != &rec.Block[len(rec.Block)-3] {
		t.Error("an unencoded body is copied; it should share the block")
	}
}

func TestParseDNS(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block string
		want  []string
		bad   bool
	}{
		{"heritrix", "20080430204825\nwww.archive.org.\t589\tIN\tA\t207.241.229.39\n", []string{"www.archive.org A 207.241.229.39"}, false},
		{"types", "x.org. 60 IN AAAA 2001:db8::1\nX.org. 60 IN NS NS1.x.org.\nx.org. 60 IN SOA ns.x.org. h.x.org. 1 2 3 4 5\n_dmarc.x.org. 60 IN TXT \"v=DMARC1;\" \" p=none\"\nx.org. 60 IN CAA 0 issue \"letsencrypt.org\"",
			[]string{"x.org AAAA 2001:db8::1", "x.org NS ns1.x.org", "x.org SOA ns.x.org", "_dmarc.x.org TXT v=DMARC1; p=none", `x.org CAA 0 issue "letsencrypt.org"`}, false},
		{"one bad line", "20080430204825\nnonsense here\nx.org. 60 IN A 1.2.3.4\n", []string{"x.org A 1.2.3.4"}, true},
		{"nothing", "20080430204825\n", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := ParseDNS([]byte(tc.block))
			if (err != nil) != tc.bad {
				t.Errorf("err %v", err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.Name+" "+r.Type+" "+r.Value)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// A dns: record with nothing parsable is a bad-dns problem.
	rec := &Record{Type: TypeResponse, TargetURI: "dns:x.org", ContentType: "text/dns", Block: []byte("20080430204825\n")}
	if obs, err := rec.Decode(); obs != nil || err == nil || err.(*Problem).Kind != KindBadDNS {
		t.Errorf("empty dns record: %v %v", obs, err)
	}
}

func TestPoolClasses(t *testing.T) {
	for _, tc := range []struct{ n, class int }{{0, 0}, {1, 0}, {4096, 0}, {4097, 1}, {8192, 1}, {8 << 20, 11}, {16 << 20, 12}, {16<<20 + 1, -1}} {
		if got := class(tc.n); got != tc.class {
			t.Errorf("class(%d) = %d, want %d", tc.n, got, tc.class)
		}
	}
	var p blockPool
	b := p.get(5000)
	if len(b) != 5000 || cap(b) != 8192 {
		t.Fatalf("get(5000): len %d cap %d", len(b), cap(b))
	}
	p.put(b)
	p.put(make([]byte, 5000)) // foreign slices are dropped
	if c := p.get(6000); len(c) != 6000 || cap(c) != 8192 {
		t.Errorf("get(6000): len %d cap %d", len(c), cap(c))
	}
	var nilPool *blockPool
	if b := nilPool.get(10); len(b) != 10 {
		t.Error("nil pool get")
	}
	nilPool.put(b)
}
