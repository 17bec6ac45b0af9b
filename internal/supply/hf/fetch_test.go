package hf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// pagedServer serves /api/models in pages of two models, with a Link next
// header (absolute on page 1, relative later), failing the first request of
// page 2 with 503 and of page 3 with 429.
func pagedServer(t *testing.T, pages int) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	failed := map[string]bool{}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		cursor := r.URL.Query().Get("cursor")
		p := 1
		if cursor != "" {
			fmt.Sscanf(cursor, "p%d", &p)
		}
		if (p == 2 || p == 3) && !failed[cursor] {
			failed[cursor] = true
			if p == 3 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if p < pages {
			next := fmt.Sprintf("/api/models?cursor=p%d&limit=2", p+1)
			if p == 1 {
				next = srv.URL + next
			}
			w.Header().Add("Link", `<`+next+`>; rel="next"`)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `[{"id":"a/m%d-1","downloads":%d,"downloadsAllTime":%d},{"id":"b/m%d-2","downloads":0,"downloadsAllTime":0}]`, p, p, 10*p, p)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestLoaderFollowsNextWithRetries(t *testing.T) {
	srv, calls := pagedServer(t, 4)
	l := &Loader{Fetcher: &Fetcher{Backoff: time.Millisecond}}
	m, ins, dups, err := l.Load(context.Background(), []string{srv.URL + "/api/models?limit=2"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 8 || ins[0].Pages != 4 || ins[0].Models != 8 || dups != 0 {
		t.Fatalf("rows %d, input %+v, dups %d", m.Len(), ins[0], dups)
	}
	if got := calls.Load(); got != 6 { // 4 pages + 2 retried failures
		t.Fatalf("server saw %d requests, want 6", got)
	}
	if m.ID[6] != "a/m4-1" || m.DownloadsAllTime[6] != 40 {
		t.Fatalf("last page row = %+v", m.Row(6))
	}
}

func TestFetcherStops(t *testing.T) {
	ctx := context.Background()
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	f := &Fetcher{Backoff: time.Millisecond}
	if _, err := f.Fetch(ctx, notFound.URL, func(string, []byte) error { return nil }); !errors.Is(err, ErrHTTPStatus) {
		t.Fatalf("404: %v", err)
	}
	var n atomic.Int32
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer down.Close()
	f.MaxRetries = 2
	if _, err := f.Fetch(ctx, down.URL, func(string, []byte) error { return nil }); !errors.Is(err, ErrHTTPStatus) || n.Load() != 3 {
		t.Fatalf("persistent 502: %v after %d tries", err, n.Load())
	}
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<`+r.URL.Path+`>; rel="next"`)
		w.Write([]byte(`[]`))
	}))
	defer loop.Close()
	f.MaxPages = 3
	pages, err := f.Fetch(ctx, loop.URL+"/x", func(string, []byte) error { return nil })
	if err == nil || pages != 3 {
		t.Fatalf("endless next: %d pages, %v", pages, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.Fetch(cctx, loop.URL, func(string, []byte) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"error":`)) }))
	defer bad.Close()
	l := &Loader{Fetcher: &Fetcher{}}
	if _, _, _, err := l.Load(ctx, []string{bad.URL}); !errors.Is(err, ErrNotModels) || !strings.Contains(err.Error(), bad.URL) {
		t.Fatalf("bad page: %v", err)
	}
}
