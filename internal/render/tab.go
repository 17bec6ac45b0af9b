package render

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/aicensus/aicensus/internal/model"
)

// Errors in Page.Err, matched with errors.Is.
var (
	ErrTabCrashed    = errors.New("the tab crashed")                             // render-crash
	ErrBrowserExited = errors.New("the browser exited")                          // render-crash
	ErrNotLoaded     = errors.New("the page did not finish loading in time")     // render-timeout
	ErrEvalTimeout   = errors.New("the page could not be evaluated in time")     // render-timeout
	ErrPoolClosed    = errors.New("the render pool is closed")                   // render-error
	ErrNavigation    = errors.New("navigation failed")                           // render-error or blocked-private
	ErrBlocked       = errors.New("the page's address is refused by the policy") // blocked-private
)

// setupTimeout bounds opening a tab and preparing it.
const setupTimeout = 15 * time.Second

// pollInterval is how often the settle condition is checked.
const pollInterval = 50 * time.Millisecond

// renderPage renders rawURL in a fresh tab of in, in its own browser
// context (no cookies, storage or cache shared with other pages, and a
// renderer process of its own).
func (p *Pool) renderPage(ctx context.Context, in *instance, rawURL string) (out Page) {
	start := time.Now()
	out.URL = rawURL
	st := newPageState(p.opts.MaxRequests, p.opts.MaxScripts)
	// The tab's context is a child of the browser's; it ends when ctx
	// ends, when setup hangs, or when the page is done.
	pctx, pcancel := context.WithCancel(in.ctx)
	defer pcancel()
	stop := context.AfterFunc(ctx, pcancel)
	defer stop()
	tctx, tcancel := chromedp.NewContext(pctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(st.on))
	defer func() {
		tcancel()
		out.Duration = time.Since(start)
	}()

	if err := p.setupTab(tctx, pcancel, st); err != nil {
		out.Status, out.Err = p.failure(ctx, in, st, fmt.Errorf("open tab: %w", err))
		p.collect(tctx, &out, st, nil)
		return out
	}
	deadline := start.Add(p.opts.PageTimeout)
	committed, end := p.navigate(ctx, tctx, in, st, rawURL, deadline, &out)
	if end || !committed || out.Status == model.StatusRenderCrash || (out.Status == model.StatusRenderError && ctx.Err() != nil) {
		p.collect(tctx, &out, st, nil)
		return out
	}
	p.collect(tctx, &out, st, p.inspect(tctx, st, &out))
	return out
}

// navigate loads rawURL and waits for it to settle, setting out's status.
// committed is false when no document arrived in time; end is true when
// the page is finished (navigation error, blocked document).
func (p *Pool) navigate(ctx, tctx context.Context, in *instance, st *pageState, rawURL string, deadline time.Time, out *Page) (committed, end bool) {
	navCtx, navCancel := context.WithDeadline(tctx, deadline)
	nav, err := chromedp.Call(navCtx, page.Navigate, page.NavigateParams{URL: rawURL})
	navCancel()
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && in.alive():
		out.Status, out.Err = model.StatusRenderTimeout, ErrNotLoaded
		return false, true
	case err != nil:
		out.Status, out.Err = p.failure(ctx, in, st, fmt.Errorf("navigate: %w", err))
		return false, true
	case nav.ErrorText != "":
		out.Status, out.Err = model.StatusRenderError, fmt.Errorf("%w: %s", ErrNavigation, nav.ErrorText)
		if u, ok := p.blockedDocument(st); ok {
			out.Status, out.Err = model.StatusBlockedPrivate, fmt.Errorf("%w: %s", ErrBlocked, u)
		}
		return false, true
	}
	st.mu.Lock()
	st.loader = nav.LoaderID
	st.mu.Unlock()
	if u, ok := p.blockedDocument(st); ok {
		// A plain-http document the proxy refused (redirects to private
		// addresses end here): nothing of the site to see.
		out.Status, out.Err = model.StatusBlockedPrivate, fmt.Errorf("%w: %s", ErrBlocked, u)
		return true, true
	}
	out.Status, out.Err = p.settle(ctx, in, st, deadline)
	return true, false
}

// inspect evaluates the probe in a committed page, turning a failed
// evaluation into a status, and ends a renderer that no longer answers.
func (p *Pool) inspect(tctx context.Context, st *pageState, out *Page) *evalOutput {
	var res *evalOutput
	err := p.responsive(tctx, out.Status)
	if err == nil {
		res, err = p.evaluate(tctx, st)
	}
	if err != nil && out.Status == model.StatusOK {
		out.Status, out.Err = model.StatusRenderTimeout, fmt.Errorf("%w: %v", ErrEvalTimeout, err)
		if st.isCrashed() {
			out.Status, out.Err = model.StatusRenderCrash, ErrTabCrashed
		}
	}
	if err != nil && !st.isCrashed() {
		// The renderer is busy (a script that never yields): end it now,
		// from the browser side, so that closing the tab cannot hang.
		cctx, cancel := context.WithTimeout(tctx, time.Second)
		_, _ = chromedp.Call(cctx, page.Crash, cdp.Empty{})
		cancel()
	}
	return res
}

// blockedDocument returns the first main-frame document URL (the page or
// a redirect target) whose destination the proxy refused.
func (p *Pool) blockedDocument(st *pageState) (string, bool) {
	st.mu.Lock()
	docs := append([]string(nil), st.docURLs...)
	st.mu.Unlock()
	for _, u := range docs {
		if p.proxy.wasBlocked(u) {
			return u, true
		}
	}
	return "", false
}

// setupTab opens the tab and prepares it; abort ends a setup that hangs.
func (p *Pool) setupTab(tctx context.Context, abort context.CancelFunc, st *pageState) error {
	timer := time.AfterFunc(setupTimeout, abort)
	defer timer.Stop()
	if err := chromedp.Do(tctx); err != nil {
		return err
	}
	c := chromedp.FromContext(tctx)
	st.mu.Lock()
	st.main = cdp.FrameID(c.Target.TargetID)
	st.mu.Unlock()
	if _, err := cdp.Call(tctx, c.Target, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: p.ua}); err != nil {
		return err
	}
	return nil
}

// settle waits until the page has loaded and its network has been quiet
// for Quiet, the deadline passes, the tab crashes or ctx ends.
func (p *Pool) settle(ctx context.Context, in *instance, st *pageState, deadline time.Time) (model.Status, error) {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		st.mu.Lock()
		loaded := st.loads[st.loader]
		quiet := len(st.inflight) <= p.opts.IdleRequests && time.Since(st.last) >= p.opts.Quiet
		crashed := st.crashed
		st.mu.Unlock()
		switch {
		case crashed:
			return model.StatusRenderCrash, ErrTabCrashed
		case !in.alive():
			return model.StatusRenderCrash, ErrBrowserExited
		case ctx.Err() != nil:
			return model.StatusRenderError, ctx.Err()
		case loaded && quiet:
			return model.StatusOK, nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		case <-timer.C:
			st.mu.Lock()
			loaded = st.loads[st.loader]
			st.mu.Unlock()
			if loaded {
				// Loaded, but requests never stop (polling): good enough.
				return model.StatusOK, nil
			}
			return model.StatusRenderTimeout, ErrNotLoaded
		}
	}
}

// pingTimeout bounds the check that a page that did not load still runs.
const pingTimeout = time.Second

// responsive checks, on a page that did not finish loading, that its
// renderer still answers: a script that never yields would make the full
// evaluation wait for EvalTimeout for nothing.
func (p *Pool) responsive(tctx context.Context, status model.Status) error {
	if status != model.StatusRenderTimeout {
		return nil
	}
	ctx, cancel := context.WithTimeout(tctx, min(pingTimeout, p.opts.EvalTimeout))
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[int]("1"))
	return err
}

// evaluate runs the probe in the page.
func (p *Pool) evaluate(tctx context.Context, st *pageState) (*evalOutput, error) {
	ectx, cancel := context.WithTimeout(tctx, p.opts.EvalTimeout)
	defer cancel()
	ms := runtime.TimeDelta(p.opts.EvalTimeout.Milliseconds())
	raw, err := chromedp.Run(ectx, chromedp.Evaluate[[]byte](p.script, func(ep *runtime.EvaluateParams) {
		ep.Timeout = ms
		ep.Silent = new(true)
	}))
	if err != nil {
		return nil, err
	}
	r, u, err := p.opts.Probe.decodeEval(raw, p.opts.MaxHTMLBytes)
	if err != nil {
		return nil, fmt.Errorf("decode evaluation: %w", err)
	}
	return &evalOutput{rendered: r, url: u}, nil
}

type evalOutput struct {
	rendered *model.Rendered
	url      string
}

// collect fills out from what the tab gathered: requests, the main
// document's response (and body), the evaluation, blocked requests.
func (p *Pool) collect(tctx context.Context, out *Page, st *pageState, res *evalOutput) {
	st.mu.Lock()
	reqs := append([]string(nil), st.requests...)
	doc, hasDoc := st.docs[st.main]
	crashed := st.crashed
	scripts := append([]scriptReq(nil), st.scripts...)
	st.mu.Unlock()
	var r *model.Rendered
	if res != nil {
		r = res.rendered
		out.FinalURL = res.url
	}
	if len(reqs) > 0 {
		if r == nil {
			r = &model.Rendered{}
		}
		r.Requests = reqs
	}
	out.Rendered = r
	if hasDoc {
		out.StatusCode = doc.status
		out.Headers = headerMap(doc.headers)
		if out.FinalURL == "" {
			out.FinalURL = doc.url
		}
		if p.opts.DocumentBody && !crashed && tctx.Err() == nil {
			bctx, cancel := context.WithTimeout(tctx, p.opts.EvalTimeout)
			body, err := chromedp.Call(bctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: doc.reqID})
			cancel()
			if err == nil {
				out.Body = body.Body[:min(len(body.Body), p.opts.MaxHTMLBytes)]
			}
		}
	}
	if !crashed && tctx.Err() == nil {
		out.Scripts = p.scriptBodies(tctx, scripts)
	}
	for _, u := range reqs {
		if p.proxy.wasBlocked(u) {
			out.Blocked = append(out.Blocked, u)
		}
	}
}

// scriptBodies fetches the kept scripts' bodies from the browser, within
// ScriptBudget.
func (p *Pool) scriptBodies(tctx context.Context, scripts []scriptReq) []model.Script {
	var out []model.Script
	left := p.opts.ScriptBudget
	for _, s := range scripts {
		if left <= 0 {
			break
		}
		ctx, cancel := context.WithTimeout(tctx, p.opts.EvalTimeout)
		body, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: s.id})
		cancel()
		if err != nil {
			continue
		}
		b := body.Body[:min(len(body.Body), left)]
		left -= len(b)
		out = append(out, model.Script{URL: s.url, Body: b})
	}
	return out
}

// exitGrace is how long failure waits for a browser's exit to be noticed.
const exitGrace = 500 * time.Millisecond

// failure names why a page could not be rendered: the tab or the browser
// died, the caller gave up, or anything else.
func (p *Pool) failure(ctx context.Context, in *instance, st *pageState, err error) (model.Status, error) {
	if in.alive() && ctx.Err() == nil {
		// A killed browser first shows as a lost connection; its exit is
		// noticed a moment later. Give it that moment before calling the
		// failure a plain render error.
		t := time.NewTimer(exitGrace)
		select {
		case <-in.ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	switch {
	case st.isCrashed():
		return model.StatusRenderCrash, ErrTabCrashed
	case !in.alive():
		return model.StatusRenderCrash, fmt.Errorf("%w: %v", ErrBrowserExited, err)
	case ctx.Err() != nil:
		return model.StatusRenderError, fmt.Errorf("%w (%v)", err, ctx.Err())
	}
	return model.StatusRenderError, err
}

func (s *pageState) isCrashed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.crashed
}

// headerMap converts protocol headers to lowercase names and value lists
// (the browser joins repeated headers with newlines).
func headerMap(h network.Headers) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, v := range h {
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		k = strings.ToLower(k)
		out[k] = append(out[k], strings.Split(s, "\n")...)
	}
	return out
}
