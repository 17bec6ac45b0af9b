package scan

import (
	"context"
	"log/slog"
	"mime"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/input"
	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/warc"
)

// PageBatch is a checkpointed run of pages of one archive source, as
// ReadPages hands it over: store.PageBatch (pages, the checkpoint
// NextOffset, Done, counters) plus where its coverage starts and the record
// offset of every page.
//
// Coverage: the batch holds the pages of every record of Source whose
// offset is in [Start, NextOffset), or at or after Start when Done. The
// first batch of a source starts at the offset the read started at; each
// later one starts where the previous one ended. So a store that holds
// exactly the pages of the records before checkpoint C can take any batch
// with Start <= C by keeping the pages whose Offsets are >= C (this is how
// cluster scans drop what a re-run of a file repeats).
type PageBatch struct {
	store.PageBatch
	// Start is where this batch's coverage begins.
	Start int64
	// Offsets[i] is the source offset of the record Pages[i] was read
	// from (warc.Record.Offset: a resume point).
	Offsets []int64
}

// PageOptions configure ReadPages.
type PageOptions struct {
	// ScanID is copied into every batch.
	ScanID   int64
	Detector *detect.Detector
	// PerHost aggregates per host instead of per registrable domain (it
	// sets Page.Target).
	PerHost bool
	// Scan configures warc.Scan: reader options, Files, Workers, Queue and
	// Start (nil: every source from its start). Commit and SourceDone are
	// ReadPages' own and must be nil.
	Scan warc.ScanOptions
	// OnPage, if set, is called for every page detected on (not for
	// records that could not be parsed), from several goroutines.
	OnPage func(model.Status)
	// Log receives a warning for every source that ended early (nil: none).
	Log *slog.Logger
}

// ReadPages reads sources with warc.Scan, turns every HTML response (and
// dns: record, and captured script) into a store.Page with its detections,
// and hands the pages to sink in checkpointed batches: a batch is made
// each time warc.Scan commits an offset (it then holds the pages of the
// records before it) and once more when a source ends (Done, with the
// source's counters: "warc_<problem kind>" and "records_<type>"). Pages of
// records after the committed offset wait for a later batch even when a
// worker handled them early, so a batch never covers a record that is not
// in it or in an earlier batch.
//
// sink is called from warc.Scan's goroutines: in order and never
// concurrently for one source, concurrently for different sources; it
// should return quickly (it holds up its source). It owns the batch. A sink
// error stops the read; ReadPages returns it. The stats and the number of
// pages detected on are returned in every case.
func ReadPages(ctx context.Context, sources []warc.Source, opt PageOptions, sink func(context.Context, PageBatch) error) (warc.Stats, int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	acc := &pageAccumulator{scanID: opt.ScanID, sink: sink, cancel: cancel, pending: map[string][]pendingPage{}, last: map[string]int64{}}
	for _, s := range sources {
		if opt.Scan.Start != nil {
			acc.last[s.Name] = opt.Scan.Start(s)
		}
	}
	h := &pageHandler{det: opt.Detector, perHost: opt.PerHost, acc: acc, onPage: opt.OnPage}
	sopt := opt.Scan
	sopt.Commit = func(s warc.Source, off int64) {
		acc.commit(ctx, s.Name, off, false, nil)
	}
	sopt.SourceDone = func(s warc.Source, sst warc.Stats, serr error) {
		if serr != nil && opt.Log != nil {
			opt.Log.Warn("archive ended early", "source", s.Name, "error", serr)
		}
		counters := map[string]int64{}
		for k, n := range sst.Problems {
			counters["warc_"+string(k)] += n
		}
		for k, n := range sst.Records {
			counters["records_"+k] += n
		}
		acc.commit(ctx, s.Name, -1, true, counters)
	}
	stats, err := warc.Scan(ctx, sources, sopt, h.handle)
	if serr := acc.error(); serr != nil {
		err = serr
	}
	return stats, h.pages.Load(), err
}

// pageHandler turns records into pages.
type pageHandler struct {
	det     *detect.Detector
	perHost bool
	acc     *pageAccumulator
	onPage  func(model.Status)
	pages   atomic.Int64
}

// handle is called by warc.Scan's workers for every record.
func (h *pageHandler) handle(ctx context.Context, it *warc.Item) error {
	rec := it.Record
	if rec.Type != "response" {
		return nil
	}
	obs := it.Observation
	if obs == nil {
		// An HTTP response that could not be parsed still tells that the
		// site was captured: a parse-error page, unless a good page of the
		// domain makes it ok.
		if it.Problem == nil || rec.TargetURI == "" {
			return nil
		}
		host := hostOf(rec.TargetURI)
		if host == "" {
			return nil
		}
		p := h.page(host, rec)
		p.Status, p.Error = model.StatusParseError, it.Problem.Error()
		h.acc.add(rec.File, rec.Offset, p)
		return nil
	}
	kind := contentKind(obs)
	if kind == kindSkip {
		return nil
	}
	host := obs.Host
	if host == "" {
		host = hostOf(rec.TargetURI)
	}
	if host == "" {
		return nil
	}
	p := h.page(host, rec)
	p.URL, p.HTTPStatus = obs.URL, obs.StatusCode
	if obs.StatusCode >= 400 {
		p.Status = model.StatusHTTPError
	}
	detObs := obs
	if kind == kindScript {
		// A captured script is a linked script of the site's pages.
		detObs = &model.Observation{URL: obs.URL, Host: host, Time: obs.Time, Ref: obs.Ref,
			Scripts: []model.Script{{URL: obs.URL, Body: obs.Body}}}
	}
	p.Detections = h.det.Detect(detObs) // strings only: nothing refers to the recycled record
	h.acc.add(rec.File, rec.Offset, p)
	h.pages.Add(1)
	if h.onPage != nil {
		if p.Status == "" {
			h.onPage(model.StatusOK)
		} else {
			h.onPage(p.Status)
		}
	}
	return nil
}

func (h *pageHandler) page(host string, rec *warc.Record) store.Page {
	t, err := input.Normalize(host, input.NormalizeOptions{AllowIP: true})
	if err != nil {
		t = input.Target{Host: host, Domain: host}
	}
	target := t.Domain
	if h.perHost {
		target = t.Host
	}
	return store.Page{Target: target, Domain: t.Domain, Host: t.Host, URL: rec.TargetURI, Time: rec.Date, Ref: rec.Ref()}
}

type contentClass int

const (
	kindSkip contentClass = iota
	kindPage
	kindScript
)

// contentKind decides what a captured response is for detection: an HTML
// page (also DNS records and responses without a usable type that look like
// HTML), a script (seen as a linked script of the site), or neither
// (images, fonts, styles, media, data).
func contentKind(obs *model.Observation) contentClass {
	if obs.URL == "" || len(obs.DNS) > 0 && len(obs.Body) == 0 {
		return kindPage // dns: records
	}
	ct := ""
	if v := obs.Headers["content-type"]; len(v) > 0 {
		ct = v[0]
	}
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case mt == "text/html", mt == "application/xhtml+xml":
		return kindPage
	case strings.Contains(mt, "javascript"), strings.Contains(mt, "ecmascript"):
		return kindScript
	case mt == "", mt == "text/plain", mt == "application/octet-stream":
		if looksHTML(obs.Body) {
			return kindPage
		}
	}
	return kindSkip
}

func looksHTML(b []byte) bool {
	head := strings.ToLower(string(b[:min(len(b), 512)]))
	return strings.Contains(head, "<html") || strings.Contains(head, "<!doctype html") || strings.Contains(head, "<head")
}

func hostOf(raw string) string {
	if strings.HasPrefix(raw, "dns:") {
		return strings.ToLower(strings.TrimPrefix(raw, "dns:"))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// pendingPage is a page waiting for its source's checkpoint to cover it.
type pendingPage struct {
	offset int64
	page   store.Page
}

// pageAccumulator holds pages per source until warc.Scan commits an offset
// past them, then hands them to the sink with that checkpoint: a crash
// loses only pages whose records will be read again, and no page is
// stored twice (records after the checkpoint stay pending even when a
// worker handled them early).
type pageAccumulator struct {
	scanID  int64
	sink    func(context.Context, PageBatch) error
	cancel  context.CancelFunc
	mu      sync.Mutex
	pending map[string][]pendingPage
	last    map[string]int64 // last offset committed per source (the start offset at first)
	err     error
}

func (a *pageAccumulator) add(src string, off int64, p store.Page) {
	a.mu.Lock()
	a.pending[src] = append(a.pending[src], pendingPage{offset: off, page: p})
	a.mu.Unlock()
}

// commit hands src's pages before off (all of them when done) to the sink
// with the checkpoint; off < 0 (done) keeps the last committed offset.
func (a *pageAccumulator) commit(ctx context.Context, src string, off int64, done bool, counters map[string]int64) {
	a.mu.Lock()
	start := a.last[src]
	if off < 0 {
		off = start // done: the end offset was committed just before
	}
	a.last[src] = off
	b := PageBatch{Start: start, PageBatch: store.PageBatch{ScanID: a.scanID, Source: src, NextOffset: off, Done: done, Counters: counters}}
	rest := a.pending[src][:0]
	for _, pp := range a.pending[src] {
		if done || pp.offset < off {
			b.Pages = append(b.Pages, pp.page)
			b.Offsets = append(b.Offsets, pp.offset)
		} else {
			rest = append(rest, pp)
		}
	}
	// Pages in record order: the store numbers them in arrival order, and
	// FinalizeArchiveScan breaks ties between captures of the same second
	// by that number, so the order must not depend on which worker
	// finished first.
	sort.Sort(byOffset(b))
	if len(rest) == 0 {
		delete(a.pending, src)
	} else {
		a.pending[src] = rest
	}
	failed := a.err != nil
	a.mu.Unlock()
	if failed {
		return
	}
	if err := a.sink(ctx, b); err != nil {
		a.mu.Lock()
		if a.err == nil {
			a.err = err
		}
		a.mu.Unlock()
		a.cancel()
	}
}

// byOffset sorts a batch's pages by record offset.
type byOffset PageBatch

func (b byOffset) Len() int           { return len(b.Pages) }
func (b byOffset) Less(i, j int) bool { return b.Offsets[i] < b.Offsets[j] }
func (b byOffset) Swap(i, j int) {
	b.Pages[i], b.Pages[j] = b.Pages[j], b.Pages[i]
	b.Offsets[i], b.Offsets[j] = b.Offsets[j], b.Offsets[i]
}

func (a *pageAccumulator) error() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}
