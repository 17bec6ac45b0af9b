package render

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/aicensus/aicensus/internal/fetch"
	"github.com/aicensus/aicensus/internal/model"
)

// Pool renders pages in headless Chromium: at most Options.Tabs pages at
// once, spread over at most Options.Browsers browser processes (plus, for a
// short while, browsers being replaced that finish their last pages). Each
// page gets a fresh tab in a fresh browser context. A browser is replaced
// after PagesPerBrowser pages, when it exits or crashes, and when its
// processes together use more than MaxBrowserMB; a renderer above
// MaxRendererMB is killed. Every failure is a Page status; Render never
// panics on a page's behalf and a bad page never stops the Pool.
//
// All methods are safe for concurrent use. Close must be called to stop
// the browsers and the proxy.
type Pool struct {
	opts   Options
	script string
	ua     string
	proxy  *proxy
	ctx    context.Context // parent of every browser
	cancel context.CancelFunc
	tabs   chan struct{}
	wg     sync.WaitGroup // Render calls and browser closes in flight
	watch  chan struct{}  // closed when the watchdog has stopped

	mu       sync.Mutex
	slots    []*instance     // the current browser of each slot, or nil
	starting []chan struct{} // non-nil while a slot starts a browser
	live     map[*instance]bool
	nextID   int
	closed   bool
	stats    Stats
}

// Stats counts what a Pool did. Memory figures are proportional set sizes
// (PSS) summed over every process of every browser: what the browsers
// really use, shared pages divided among the processes sharing them.
type Stats struct {
	Pages         int   // pages rendered
	OK            int   // pages with status ok
	Timeouts      int   // render-timeout
	Crashes       int   // render-crash
	Errors        int   // render-error and blocked-private
	BrowserStarts int   // browsers started (replacements included)
	RendererKills int   // renderers killed over MaxRendererMB
	BrowserMemory int64 // bytes at the last sample
	PeakMemory    int64 // the largest BrowserMemory sampled
	// PeakRSS is the largest sum of the processes' resident set sizes: an
	// upper bound that counts shared pages (Chromium's binary, fonts)
	// once per process.
	PeakRSS int64
}

// NewPool starts the proxy and the first browser (so that a missing or
// broken Chromium fails here), and the memory watchdog. The browsers live
// until Close or until ctx ends.
func NewPool(ctx context.Context, opts Options) (*Pool, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	px, err := startProxy(&o)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithCancel(ctx)
	p := &Pool{
		opts:     o,
		script:   o.Probe.compile(o.MaxHTMLBytes),
		proxy:    px,
		ctx:      pctx,
		cancel:   cancel,
		tabs:     make(chan struct{}, o.Tabs),
		watch:    make(chan struct{}),
		slots:    make([]*instance, o.Browsers),
		starting: make([]chan struct{}, o.Browsers),
		live:     map[*instance]bool{},
	}
	in, err := p.start()
	if err != nil {
		cancel()
		px.close()
		return nil, err
	}
	p.ua = o.UserAgent
	if p.ua == "" {
		p.ua = defaultUserAgent(in.ua, fetch.DefaultUserAgent())
	}
	p.slots[0] = in
	go p.watchdog()
	return p, nil
}

// UserAgent is the User-Agent the browsers send.
func (p *Pool) UserAgent() string { return p.ua }

// Render loads rawURL (http or https) in a fresh tab, waits until it has
// settled (or PageTimeout), evaluates the Probe and returns what the
// browser saw. It waits for a free tab first; when ctx ends before one is
// free, or during rendering, the Page has status render-error.
func (p *Pool) Render(ctx context.Context, rawURL string) Page {
	start := time.Now()
	fail := func(err error) Page {
		pg := Page{URL: rawURL, Status: model.StatusRenderError, Err: err, Duration: time.Since(start)}
		p.count(pg)
		return pg
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return fail(ErrPoolClosed)
	}
	p.wg.Add(1)
	p.mu.Unlock()
	defer p.wg.Done()
	select {
	case p.tabs <- struct{}{}:
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	defer func() { <-p.tabs }()
	in, err := p.acquire(ctx)
	if err != nil {
		return fail(err)
	}
	pg := p.renderPage(ctx, in, rawURL)
	pg.Duration = time.Since(start)
	p.release(in)
	if p.isClosed() && pg.Status != model.StatusOK {
		pg.Status, pg.Err = model.StatusRenderError, ErrPoolClosed
	}
	p.count(pg)
	return pg
}

func (p *Pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *Pool) count(pg Page) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Pages++
	switch pg.Status {
	case model.StatusOK:
		p.stats.OK++
	case model.StatusRenderTimeout:
		p.stats.Timeouts++
	case model.StatusRenderCrash:
		p.stats.Crashes++
	default:
		p.stats.Errors++
	}
}

// Stats returns a snapshot of the counters.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// perBrowser is how many tabs one browser should carry.
func (p *Pool) perBrowser() int { return (p.opts.Tabs + p.opts.Browsers - 1) / p.opts.Browsers }

// usable reports whether in may take another page.
func (p *Pool) usable(in *instance) bool {
	return in != nil && !in.retired && in.alive() && in.pages < p.opts.PagesPerBrowser
}

// acquire returns a browser for one page, starting one in a free slot when
// no running browser has room.
func (p *Pool) acquire(ctx context.Context) (*instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.closed {
			return nil, ErrPoolClosed
		}
		best, free := -1, -1
		var wait chan struct{}
		for i, in := range p.slots {
			switch {
			case p.usable(in):
				if best < 0 || in.active < p.slots[best].active {
					best = i
				}
			case p.starting[i] != nil:
				wait = p.starting[i]
			case free < 0:
				free = i
			}
		}
		if best >= 0 && (free < 0 || p.slots[best].active < p.perBrowser()) {
			in := p.slots[best]
			in.active++
			in.pages++
			return in, nil
		}
		if free >= 0 {
			if err := p.replace(free); err != nil {
				return nil, err
			}
			continue
		}
		// Every slot is starting a browser: wait for one.
		p.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
		}
		p.mu.Lock()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// replace starts a new browser in slot i, retiring the old one. It is
// called with p.mu held and returns with it held (unlocked while the
// browser starts).
func (p *Pool) replace(i int) error {
	if old := p.slots[i]; old != nil {
		p.retire(old)
		p.slots[i] = nil
	}
	ch := make(chan struct{})
	p.starting[i] = ch
	p.mu.Unlock()
	in, err := p.start()
	p.mu.Lock()
	p.starting[i] = nil
	close(ch)
	if err != nil {
		return err
	}
	if p.closed {
		p.retire(in)
		return ErrPoolClosed
	}
	p.slots[i] = in
	return nil
}

// start launches one browser.
func (p *Pool) start() (*instance, error) {
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	p.mu.Unlock()
	in, err := startInstance(p.ctx, id, &p.opts, p.proxy.addr())
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.live[in] = true
	p.stats.BrowserStarts++
	p.mu.Unlock()
	return in, nil
}

// release ends a page on in and retires in when it has rendered its share
// or died. Called without p.mu.
func (p *Pool) release(in *instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	in.active--
	if in.retired || !in.alive() || in.pages >= p.opts.PagesPerBrowser {
		p.retire(in)
	}
}

// retire marks in as taking no more pages and closes it once its pages are
// done. Called with p.mu held.
func (p *Pool) retire(in *instance) {
	in.retired = true
	if in.active > 0 || !p.live[in] {
		return
	}
	delete(p.live, in)
	for i, s := range p.slots {
		if s == in {
			p.slots[i] = nil
		}
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		in.close()
	}()
}

// Close stops every browser (pages in flight end with render-error), waits
// for them and for Render calls to return, and stops the proxy. It is safe
// to call more than once.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.watch
		return nil
	}
	p.closed = true
	var all []*instance
	for in := range p.live {
		all = append(all, in)
	}
	clear(p.live)
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, in := range all {
		wg.Go(in.close)
	}
	wg.Wait()
	p.wg.Wait()
	p.cancel()
	<-p.watch
	p.proxy.close()
	return nil
}

// watchdog samples the browsers' memory every WatchInterval: it kills
// renderers above MaxRendererMB (their tab reports render-crash), retires
// browsers above MaxBrowserMB and records the peak.
func (p *Pool) watchdog() {
	defer close(p.watch)
	tick := time.NewTicker(p.opts.WatchInterval)
	defer tick.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-tick.C:
		}
		p.sample()
	}
}

// sample is one watchdog round.
func (p *Pool) sample() {
	p.mu.Lock()
	var ins []*instance
	for in := range p.live {
		if in.pid > 0 {
			ins = append(ins, in)
		}
	}
	p.mu.Unlock()
	if len(ins) == 0 {
		return
	}
	procs := readProcs()
	maxRenderer := int64(p.opts.MaxRendererMB) << 20
	var total, rss int64
	kills := 0
	over := map[*instance]bool{}
	for _, in := range ins {
		var sum int64
		for _, pr := range procs.tree(in.pid) {
			sum += pr.mem
			rss += pr.rss
			if pr.renderer && pr.mem > maxRenderer {
				if syscall.Kill(pr.pid, syscall.SIGKILL) == nil {
					kills++
				}
			}
		}
		total += sum
		if sum > int64(p.opts.MaxBrowserMB)<<20 {
			over[in] = true
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.RendererKills += kills
	p.stats.BrowserMemory = total
	p.stats.PeakMemory = max(p.stats.PeakMemory, total)
	p.stats.PeakRSS = max(p.stats.PeakRSS, rss)
	for in := range over {
		if p.live[in] {
			p.retire(in)
		}
	}
}

// String describes the pool's settings.
func (p *Pool) String() string {
	return fmt.Sprintf("render pool: %d tabs over %d browsers (%s), %s per page", p.opts.Tabs, p.opts.Browsers, p.opts.ExecPath, p.opts.PageTimeout)
}
