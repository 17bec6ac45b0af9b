package render

import (
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/inspector"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"

	"github.com/aicensus/aicensus/internal/model"
)

// Page is the outcome of rendering one URL. Its slices and maps are owned
// by the caller.
type Page struct {
	// URL is the URL that was requested.
	URL string
	// FinalURL is the document's URL when rendering ended (after
	// redirects, client-side ones included); "" when nothing committed.
	FinalURL string
	// Status is ok, render-timeout (the load event did not fire within
	// PageTimeout), render-crash (the tab crashed or was killed over its
	// memory cap), blocked-private (the page's own address is refused by
	// the policy) or render-error (any other failure: navigation error,
	// browser start, closed pool).
	Status model.Status
	// Err explains a Status other than ok.
	Err error
	// StatusCode and Headers are those of the main document's final
	// response (header names lowercase); 0 and nil when none arrived.
	StatusCode int
	Headers    map[string][]string
	// Body is the main document as the server sent it (decoded), when
	// Options.DocumentBody is set, cut to MaxHTMLBytes.
	Body []byte
	// Scripts are the first Options.MaxScripts scripts the page loaded,
	// with their bodies (the last one cut at ScriptBudget).
	Scripts []model.Script
	// Rendered is what the browser saw. It is set whenever anything was
	// collected, also for render-timeout and render-crash pages (requests
	// made before the end, and globals/DOM/HTML when the page could still
	// be evaluated); nil otherwise.
	Rendered *model.Rendered
	// Blocked lists request URLs (Rendered.Requests members) whose
	// destination the address policy refused.
	Blocked []string
	// Duration is the wall time of Render: waiting for a free tab, tab
	// setup and teardown included.
	Duration time.Duration
}

// Observation returns an Observation of the page for the detector: the
// document's URL, host, status, headers and body (when kept) as static
// facts, and Rendered.
func (p *Page) Observation() *model.Observation {
	u := p.FinalURL
	if u == "" {
		u = p.URL
	}
	obs := &model.Observation{URL: u, StatusCode: p.StatusCode, Headers: p.Headers, Body: p.Body, Scripts: p.Scripts, Rendered: p.Rendered, Time: time.Now()}
	if pu, err := url.Parse(u); err == nil {
		obs.Host = strings.ToLower(pu.Hostname())
	}
	return obs
}

// scriptReq is a script response whose body may be kept.
type scriptReq struct {
	url string
	id  network.RequestID
}

// docResponse is a main-frame document response.
type docResponse struct {
	url     string
	status  int
	headers network.Headers
	reqID   network.RequestID
}

// pageState collects a tab's events. The listener runs on chromedp's
// reading goroutine and only takes the lock briefly.
type pageState struct {
	maxReq int

	mu       sync.Mutex
	main     cdp.FrameID // set before navigation
	requests []string
	seen     map[string]bool
	inflight map[network.RequestID]bool
	last     time.Time             // last network or load event
	loader   cdp.LoaderID          // the main frame's current navigation
	loads    map[cdp.LoaderID]bool // main-frame loaders whose load fired
	docs     map[cdp.FrameID]docResponse
	docURLs  []string    // main-frame document requests, redirects included
	scripts  []scriptReq // script responses, in order (up to maxScripts)
	maxScr   int
	crashed  bool
}

func newPageState(maxReq, maxScripts int) *pageState {
	return &pageState{
		maxReq:   maxReq,
		maxScr:   maxScripts,
		seen:     map[string]bool{},
		inflight: map[network.RequestID]bool{},
		loads:    map[cdp.LoaderID]bool{},
		docs:     map[cdp.FrameID]docResponse{},
		last:     time.Now(),
	}
}

// on handles one event of the tab.
func (s *pageState) on(ev any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		s.last = time.Now()
		s.inflight[ev.RequestID] = true
		if ev.Request != nil {
			s.addRequest(ev.Request.URL)
			if ev.Type == network.ResourceTypeDocument && s.isMain(ev.FrameID) && len(s.docURLs) < 64 {
				s.docURLs = append(s.docURLs, ev.Request.URL)
			}
		}
	case *network.EventWebSocketCreated:
		s.last = time.Now()
		s.addRequest(ev.URL)
	case *network.EventLoadingFinished:
		s.last = time.Now()
		delete(s.inflight, ev.RequestID)
	case *network.EventLoadingFailed:
		s.last = time.Now()
		delete(s.inflight, ev.RequestID)
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument && ev.Response != nil {
			s.docs[ev.FrameID] = docResponse{url: ev.Response.URL, status: int(ev.Response.Status), headers: ev.Response.Headers, reqID: ev.RequestID}
		}
		if ev.Type == network.ResourceTypeScript && ev.Response != nil && ev.Response.Status == 200 && len(s.scripts) < s.maxScr {
			s.scripts = append(s.scripts, scriptReq{url: ev.Response.URL, id: ev.RequestID})
		}
	case *page.EventLifecycleEvent:
		switch ev.Name {
		case "init":
			// A new document in some frame; only the main frame's count
			// (the caller sets loader after Navigate).
			if s.loader != "" && ev.LoaderID != s.loader && s.isMain(ev.FrameID) {
				s.loader = ev.LoaderID
				s.last = time.Now()
			}
		case "load":
			if s.isMain(ev.FrameID) {
				s.loads[ev.LoaderID] = true
				s.last = time.Now()
			}
		}
	case *inspector.EventTargetCrashed:
		s.crashed = true
	}
}

// isMain reports whether id is the main frame (a page target's id is its
// main frame's id).
func (s *pageState) isMain(id cdp.FrameID) bool { return id == s.main }

// addRequest keeps the distinct http(s) and ws(s) URLs, in order, up to
// maxReq.
func (s *pageState) addRequest(u string) {
	if !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") ||
		strings.HasPrefix(u, "ws://") || strings.HasPrefix(u, "wss://")) {
		return
	}
	if s.seen[u] || len(s.requests) >= s.maxReq {
		return
	}
	s.seen[u] = true
	s.requests = append(s.requests, u)
}
