package render

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/model"
)

// The second shared pool: the test catalog's probe, private addresses
// allowed, browsers replaced every two pages.
var (
	privOnce sync.Once
	privPool *Pool
	privDet  *detect.Detector
	privErr  error
)

func getPrivPool(t *testing.T) (*Pool, *detect.Detector) {
	t.Helper()
	needBrowser(t)
	privOnce.Do(func() {
		cat, err := catalog.Open(true, "testdata/probe.json")
		if err != nil {
			privErr = err
			return
		}
		if privDet, err = detect.New(cat, detect.Options{}); err != nil {
			privErr = err
			return
		}
		privPool, privErr = NewPool(context.Background(), Options{
			Probe: NewProbe(cat), Tabs: 2, Browsers: 2, PagesPerBrowser: 2, AllowPrivate: true,
			PageTimeout: 5 * time.Second, EvalTimeout: 3 * time.Second,
		})
	})
	if privErr != nil {
		t.Fatal(privErr)
	}
	return privPool, privDet
}

const semanticsPage = `<!DOCTYPE html><html><head><title>t</title>
<script>
window.app = {widget: {version: "2.5.1"}};
window["loaded-Dash"] = true;
window.numTech = {build: 42};
window.nullTech = null;
window.throwTech = {}; Object.defineProperty(window.throwTech, "value", {get: function () { throw new Error("no"); }});
window.proxyTech = new Proxy({}, {has: function () { return true; }, get: function () { return function () {}; }});
window.prim = "abc";
window.addEventListener("load", function () { setTimeout(function () { var d = document.createElement("div"); d.id = "late-widget"; document.body.appendChild(d); }, 100); });
</script></head><body>
<p class="note">   Powered by TextDOM v3.1   </p>
<a class="x" href="/attrdom.js?v=1.2" data-v="">x</a>
<script>document.querySelector("a.x").version = "7.4";</script>
</body></html>`

// TestEvaluation pins down what one evaluation reads: global paths with
// Wappalyzer's semantics, selectors (including one the browser rejects),
// text, attributes and properties, and what the detector makes of them.
func TestEvaluation(t *testing.T) {
	pool, det := getPrivPool(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, semanticsPage)
	}))
	defer srv.Close()
	pg := pool.Render(context.Background(), srv.URL+"/")
	if pg.Status != model.StatusOK || pg.Rendered == nil {
		t.Fatalf("status %s: %v", pg.Status, pg.Err)
	}
	r := pg.Rendered
	wantGlobals := map[string]string{
		"app.widget": "", "app.widget.version": "2.5.1", "loaded-Dash": "", "numTech.build": "42",
		"nullTech": "", "proxyTech.anything": "",
	}
	if !maps.Equal(r.Globals, wantGlobals) {
		t.Errorf("globals %v, want %v", r.Globals, wantGlobals)
	}
	if got := slices.Sorted(maps.Keys(r.DOM)); !slices.Equal(got, []string{"a.x", "div#late-widget", "p.note"}) {
		t.Errorf("dom keys %v", got)
	}
	if m := r.DOM["a.x"]; len(m) != 1 || !maps.Equal(m[0].Attributes, map[string]string{"href": "/attrdom.js?v=1.2", "data-v": ""}) ||
		!maps.Equal(m[0].Properties, map[string]string{"version": "7.4"}) {
		t.Errorf("a.x: %+v", m)
	}
	if m := r.DOM["p.note"]; len(m) != 1 || m[0].Text != "Powered by TextDOM v3.1" {
		t.Errorf("p.note: %+v", m)
	}
	if pg.StatusCode != 200 || pg.Headers["content-type"] == nil || pg.FinalURL != srv.URL+"/" {
		t.Errorf("document: %d %v %s", pg.StatusCode, pg.Headers, pg.FinalURL)
	}
	if !slices.Contains(r.Requests, srv.URL+"/") {
		t.Errorf("requests %v lack the page", r.Requests)
	}
	got := map[string]string{}
	for _, d := range det.Detect(pg.Observation()) {
		got[d.Technology] = d.Version
	}
	want := map[string]string{
		"NestedJS": "2.5.1", "DashJS": "", "NumberJS": "", "NullJS": "", "ProxyJS": "",
		"ExistsDOM": "", "TextDOM": "3.1", "AttrDOM": "1.2", "PropDOM": "7.4",
	}
	if !maps.Equal(got, want) {
		t.Errorf("detections %v, want %v", got, want)
	}
}

// TestRecycle: browsers are replaced after PagesPerBrowser pages and after
// the browser process dies; a page in flight when it dies gets
// render-crash, and the next page works.
func TestRecycle(t *testing.T) {
	pool, _ := getPrivPool(t)
	hang := make(chan struct{})
	defer close(hang)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		fmt.Fprint(w, "<!DOCTYPE html><title>p</title><p>page</p>")
	}))
	defer srv.Close()
	starts := pool.Stats().BrowserStarts
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			if pg := pool.Render(context.Background(), srv.URL+"/p"+strconv.Itoa(i)); pg.Status != model.StatusOK {
				t.Errorf("page %d: %s %v", i, pg.Status, pg.Err)
			}
		})
	}
	wg.Wait()
	if got := pool.Stats().BrowserStarts - starts; got < 2 {
		t.Errorf("%d browser starts for 6 pages at 2 per browser, want at least 2 more", got)
	}
	pool.mu.Lock()
	if n := len(pool.live); n > 2*pool.opts.Browsers {
		t.Errorf("%d browsers alive, want at most %d", n, 2*pool.opts.Browsers)
	}
	pool.mu.Unlock()
	// Kill the browser under a page that is waiting for its document.
	done := make(chan Page)
	go func() { done <- pool.Render(context.Background(), srv.URL+"/hang") }()
	var in *instance
	for range 200 {
		pool.mu.Lock()
		for _, s := range pool.slots {
			if s != nil && s.active > 0 {
				in = s
			}
		}
		pool.mu.Unlock()
		if in != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if in == nil {
		t.Fatal("no browser took the page")
	}
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(in.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	pg := <-done
	if pg.Status != model.StatusRenderCrash || !errors.Is(pg.Err, ErrBrowserExited) {
		t.Errorf("page under a killed browser: %s %v, want render-crash (browser exited)", pg.Status, pg.Err)
	}
	if pg := pool.Render(context.Background(), srv.URL+"/after"); pg.Status != model.StatusOK {
		t.Errorf("page after the browser died: %s %v", pg.Status, pg.Err)
	}
}

// TestPrivateAddresses: a page on a refused address is blocked-private and
// its server sees nothing; with AllowPrivate the same page loads.
func TestPrivateAddresses(t *testing.T) {
	f := getFixture(t)
	port, accepted := listen127002(t)
	for _, u := range []string{
		"http://127.0.0.2:" + strconv.Itoa(port) + "/",
		"https://127.0.0.2:" + strconv.Itoa(port) + "/",
	} {
		pg := f.pool.Render(context.Background(), u)
		if pg.Status != model.StatusBlockedPrivate || !errors.Is(pg.Err, ErrBlocked) || !slices.Contains(pg.Blocked, u) {
			t.Errorf("%s: %s %v blocked %v, want blocked-private", u, pg.Status, pg.Err, pg.Blocked)
		}
	}
	if n := accepted(); n != 0 {
		t.Fatalf("127.0.0.2 accepted %d connections from the browser", n)
	}
	pool, _ := getPrivPool(t)
	pg := pool.Render(context.Background(), "http://127.0.0.2:"+strconv.Itoa(port)+"/")
	if pg.Status != model.StatusOK || accepted() == 0 {
		t.Errorf("with AllowPrivate: %s %v, %d connections", pg.Status, pg.Err, accepted())
	}
}

// TestRenderCancel: a caller that gives up gets render-error at once.
func TestRenderCancel(t *testing.T) {
	pool, _ := getPrivPool(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if pg := pool.Render(ctx, "http://127.0.0.1:1/"); pg.Status != model.StatusRenderError || !errors.Is(pg.Err, context.Canceled) {
		t.Errorf("cancelled: %s %v", pg.Status, pg.Err)
	}
}
