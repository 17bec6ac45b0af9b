package warc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// flakyServer serves data like a static file server (Range, ETag) but
// drops the connection after cut bytes of each of the first drops
// responses.
type flakyServer struct {
	data    []byte
	cut     int
	drops   int
	noRange bool
	etag    func(n int) string

	mu     sync.Mutex
	n      int
	ranges []string
}

func (f *flakyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.ranges = append(f.ranges, r.Header.Get("Range"))
	f.mu.Unlock()
	if f.etag != nil {
		w.Header().Set("ETag", f.etag(n))
	}
	if f.noRange {
		r.Header.Del("Range")
	}
	var out http.ResponseWriter = w
	if n <= f.drops {
		out = &cutWriter{ResponseWriter: w, left: f.cut}
	}
	http.ServeContent(out, r, "x.warc.gz", time.Time{}, bytes.NewReader(f.data))
}

type cutWriter struct {
	http.ResponseWriter
	left int
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if len(p) <= c.left {
		c.left -= len(p)
		return c.ResponseWriter.Write(p)
	}
	n, _ := c.ResponseWriter.Write(p[:c.left])
	c.ResponseWriter.(http.Flusher).Flush()
	_ = n
	panic(http.ErrAbortHandler) // the server drops the connection
}

func readRemote(t *testing.T, url string, offset int64, opt Options) ([]*Record, Stats, error) {
	t.Helper()
	r, err := Open(context.Background(), Source{Name: url, Kind: SourceHTTP}, offset, opt)
	if err != nil {
		return nil, Stats{}, err
	}
	defer r.Close()
	var recs []*Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, r.Stats(), nil
		}
		if err != nil {
			return recs, r.Stats(), err
		}
		recs = append(recs, rec)
	}
}

func TestRemoteResumesDroppedConnection(t *testing.T) {
	data := loadCorpus(t, "servo-warc-tests/Google.warc.gz")
	local, _ := readAllRecords(t, "x", data, Options{})
	for _, tc := range []struct {
		name    string
		noRange bool
	}{{"range", false}, {"server ignores range", true}} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &flakyServer{data: data, cut: 100_000, drops: 3, noRange: tc.noRange, etag: func(int) string { return `"v1"` }}
			srv := httptest.NewServer(fs)
			defer srv.Close()
			recs, st, err := readRemote(t, srv.URL+"/x.warc.gz", 0, Options{HTTPClient: srv.Client(), KeepBlock: func(string) bool { return true }})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(recs), ids(local)) || st.ProblemTotal() != 0 || st.Bytes != int64(len(data)) {
				t.Fatalf("%d records (want %d), %v", len(recs), len(local), st)
			}
			for i := range recs {
				if recs[i].Offset != local[i].Offset || !bytes.Equal(recs[i].Block, local[i].Block) {
					t.Fatalf("record %d differs from the local read", i)
				}
			}
			if tc.noRange {
				return
			}
			// Three drops after 100 000 bytes each: resumed at those offsets.
			want := []string{"", "bytes=100000-", "bytes=200000-", "bytes=300000-"}
			if !slices.Equal(fs.ranges, want) {
				t.Errorf("requests %q, want %q", fs.ranges, want)
			}
		})
	}
}

func TestRemoteStartAtOffset(t *testing.T) {
	data := loadCorpus(t, "servo-warc-tests/Google.warc.gz")
	local, _ := readAllRecords(t, "x", data, Options{})
	fs := &flakyServer{data: data}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	k := len(local) / 2
	recs, _, err := readRemote(t, srv.URL+"/x.warc.gz", local[k].Offset, Options{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(recs), ids(local[k:])) || recs[0].Offset != local[k].Offset {
		t.Errorf("%d records from offset %d, want %d", len(recs), local[k].Offset, len(local)-k)
	}
	if fs.ranges[0] != fmt.Sprintf("bytes=%d-", local[k].Offset) {
		t.Errorf("first request range %q", fs.ranges[0])
	}
}

func TestRemoteFailures(t *testing.T) {
	data := loadCorpus(t, "servo-warc-tests/Baidu.warc.gz")
	t.Run("not found", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		_, _, err := readRemote(t, srv.URL+"/x.warc.gz", 0, Options{HTTPClient: srv.Client()})
		var p *Problem
		if !errors.As(err, &p) || p.Kind != KindOpenError || !strings.Contains(err.Error(), "404") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("keeps dropping", func(t *testing.T) {
		fs := &flakyServer{data: data, cut: 5000, drops: 1000}
		srv := httptest.NewServer(fs)
		defer srv.Close()
		fs.cut = 0 // after the first response, every response is empty
		_, st, err := readRemote(t, srv.URL+"/x.warc.gz", 0, Options{HTTPClient: srv.Client(), Retries: 2})
		var p *Problem
		if !errors.As(err, &p) || p.Kind != KindReadError || st.Problems[KindReadError] != 1 {
			t.Errorf("err %v, stats %v", err, st)
		}
	})
	t.Run("file changed", func(t *testing.T) {
		fs := &flakyServer{data: data, cut: 50_000, drops: 1, etag: func(n int) string { return fmt.Sprintf(`"v%d"`, n) }}
		srv := httptest.NewServer(fs)
		defer srv.Close()
		_, _, err := readRemote(t, srv.URL+"/x.warc.gz", 0, Options{HTTPClient: srv.Client()})
		if !errors.Is(err, errChanged) || len(fs.ranges) != 2 {
			t.Errorf("err %v after %d requests", err, len(fs.ranges))
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		fs := &flakyServer{data: data, cut: 0, drops: 1000}
		srv := httptest.NewServer(fs)
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Open(ctx, Source{Name: srv.URL, Kind: SourceHTTP}, 0, Options{HTTPClient: srv.Client()})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err %v", err)
		}
	})
}

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in           string
		start, total int64
		ok           bool
	}{
		{"bytes 100-199/1000", 100, 1000, true},
		{"bytes 0-0/*", 0, -1, true},
		{"bytes */1000", 0, 1000, true},
		{"bytes x-1/2", 0, 0, false},
		{"items 1-2/3", 0, 0, false},
		{"", 0, 0, false},
	} {
		s, tot, ok := parseContentRange(tc.in)
		if s != tc.start || tot != tc.total || ok != tc.ok {
			t.Errorf("%q: %d %d %v", tc.in, s, tot, ok)
		}
	}
}

// stallServer serves data with Range support, but its first response
// stops sending after cut bytes and keeps the connection open.
type stallServer struct {
	data   []byte
	cut    int
	mu     sync.Mutex
	n      int
	ranges []string
}

func (f *stallServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.ranges = append(f.ranges, r.Header.Get("Range"))
	f.mu.Unlock()
	w.Header().Set("ETag", `"v1"`)
	if n == 1 {
		w.Header().Set("Content-Length", fmt.Sprint(len(f.data)))
		_, _ = w.Write(f.data[:f.cut])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // stall until the client gives up
		return
	}
	http.ServeContent(w, r, "x.warc.gz", time.Time{}, bytes.NewReader(f.data))
}

func TestRemoteResumesStalledConnection(t *testing.T) {
	data := loadCorpus(t, "servo-warc-tests/Baidu.warc.gz")
	local, _ := readAllRecords(t, "x", data, Options{})
	fs := &stallServer{data: data, cut: 70_000}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	recs, st, err := readRemote(t, srv.URL+"/x.warc.gz", 0, Options{HTTPClient: srv.Client(), IdleTimeout: 200 * time.Millisecond, KeepBlock: func(string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(recs), ids(local)) || st.ProblemTotal() != 0 {
		t.Fatalf("%d records (want %d), %v", len(recs), len(local), st)
	}
	if !slices.Equal(fs.ranges, []string{"", "bytes=70000-"}) {
		t.Errorf("requests %q", fs.ranges)
	}
}
