package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/input"
	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/progress"
	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/warc"
)

// ArchiveConfig configures a scan of web archives.
type ArchiveConfig struct {
	// Specs are the archive inputs (files, folders, globs, "-", URLs,
	// Common Crawl paths lists); Base resolves relative paths-list lines.
	Specs []string
	Base  string
	Stdin io.Reader
	// DB is the store path; DBMemory caps DuckDB's buffer memory.
	DB       string
	DBMemory string
	Detector *detect.Detector
	// PerHost aggregates per host instead of per registrable domain.
	PerHost bool
	// Files and Workers size the reader (0: GOMAXPROCS each).
	Files, Workers int
	// Warc are the reader's options (caps, retries).
	Warc warc.Options
	// Resume requires an unfinished scan of the same archives to continue.
	Resume bool
	// OnCommit, if set, is told each time a source's pages and checkpoint
	// are handed to the store (for progress displays and tests).
	OnCommit func(source string, offset int64, done bool)
	// Progress is a terminal for a progress bar, nil for log lines.
	Progress    io.Writer
	Log         *slog.Logger
	ToolVersion string
	Options     any
}

// ArchiveSummary is what an archive scan did.
type ArchiveSummary struct {
	ScanID   int64
	Resumed  bool
	Sources  int
	Skipped  int // sources already read by the resumed scan
	BadLines []warc.BadLine
	Pages    int64 // pages detected on and stored by this run
	Stats    warc.Stats
	Final    store.FinalizeStats
	Statuses map[model.Status]int64
	Elapsed  time.Duration
}

// archiveSpec identifies "the same archive scan" for resume.
type archiveSpec struct {
	Sources        []string `json:"sources"`
	PerHost        bool     `json:"per_host,omitempty"`
	CatalogVersion string   `json:"catalog_version"`
}

// Archive scans web archives: every HTTP response (and dns: record) is
// detected on as a page, pages are stored with per-source checkpoints in the
// same transaction, and when every source is read the pages are aggregated
// into one result per registrable domain (or host). Interrupted or crashed
// scans continue from the checkpoints when run again: every record is
// counted exactly once.
func Archive(ctx context.Context, cfg ArchiveConfig) (ArchiveSummary, error) {
	start := time.Now()
	sum := ArchiveSummary{}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	wopt := cfg.Warc
	if cfg.Stdin != nil {
		wopt.Stdin = cfg.Stdin
	}
	sources, bad, err := warc.Expand(ctx, cfg.Specs, cfg.Base, wopt)
	sum.BadLines = bad
	for _, b := range bad {
		log.Warn("archive list line skipped", "list", b.List, "line", b.Line, "error", b.Err)
	}
	if err != nil {
		return sum, err
	}
	names := make([]string, len(sources))
	resumable := true
	for i, s := range sources {
		names[i] = s.Name
		if s.Name == "-" {
			resumable = false
		}
	}
	sort.Strings(names)
	spec := archiveSpec{Sources: names, PerHost: cfg.PerHost, CatalogVersion: cfg.Detector.Catalog().Version()}
	specJSON, _ := json.Marshal(spec)
	fp := store.Fingerprint(store.KindWARC, strings.Join(names, "\n"), specJSON)
	if cfg.DBMemory == "" {
		cfg.DBMemory = DefaultDBMemory
	}
	st, err := store.Open(ctx, cfg.DB, store.Options{MemoryLimit: cfg.DBMemory, Threads: 1, CheckpointThreshold: "4MB"})
	if err != nil {
		return sum, err
	}
	defer st.Close()
	var sc store.Scan
	if resumable {
		if prev, ok, err := st.FindResumable(ctx, store.KindWARC, fp); err != nil {
			return sum, err
		} else if ok {
			sc, sum.Resumed = prev, true
		}
	}
	if cfg.Resume && !sum.Resumed {
		return sum, ErrNothingToResume
	}
	if !sum.Resumed {
		if !resumable {
			fp = ""
		}
		sc, err = st.CreateScan(ctx, store.ScanSpec{
			Kind: store.KindWARC, Input: strings.Join(cfg.Specs, " "), Options: cfg.Options,
			CatalogVersion: spec.CatalogVersion, ToolVersion: cfg.ToolVersion, Fingerprint: fp,
		})
		if err != nil {
			return sum, err
		}
	} else if err := st.SetScanState(ctx, sc.ID, store.ScanRunning); err != nil {
		return sum, err
	}
	sum.ScanID = sc.ID
	checkpoints, err := st.Checkpoints(ctx, sc.ID)
	if err != nil {
		return sum, err
	}
	var todo []warc.Source
	for _, s := range sources {
		if cp, ok := checkpoints[s.Name]; ok && cp.Done {
			sum.Skipped++
			continue
		}
		todo = append(todo, s)
	}
	sum.Sources = len(sources)
	log.Info("archive scan", "scan", sc.ID, "resumed", sum.Resumed, "sources", len(sources), "to_read", len(todo))

	w, err := st.NewWriter(store.WriterOptions{})
	if err != nil {
		return sum, err
	}
	rep := progress.New(cfg.Progress, -1, cfg.Progress != nil, 10*time.Second, log)
	acc := &pageAccumulator{scanID: sc.ID, w: w, pending: map[string][]pendingPage{}}
	h := &archiveHandler{det: cfg.Detector, perHost: cfg.PerHost, acc: acc, rep: rep}
	opt := warc.ScanOptions{
		Options: wopt, Files: cfg.Files, Workers: cfg.Workers,
		Start: func(s warc.Source) int64 { return checkpoints[s.Name].NextOffset },
		Commit: func(s warc.Source, off int64) {
			acc.commit(context.WithoutCancel(ctx), s.Name, off, false, nil)
			if cfg.OnCommit != nil {
				cfg.OnCommit(s.Name, off, false)
			}
		},
		SourceDone: func(s warc.Source, sst warc.Stats, serr error) {
			counters := map[string]int64{}
			for k, n := range sst.Problems {
				counters["warc_"+string(k)] += n
			}
			for k, n := range sst.Records {
				counters["records_"+k] += n
			}
			if serr != nil {
				log.Warn("archive ended early", "source", s.Name, "error", serr)
			}
			acc.commit(context.WithoutCancel(ctx), s.Name, -1, true, counters)
			if cfg.OnCommit != nil {
				cfg.OnCommit(s.Name, -1, true)
			}
		},
	}
	stats, runErr := warc.Scan(ctx, todo, opt, h.handle)
	sum.Stats, sum.Pages = stats, h.pages.Load()
	if err := acc.error(); err != nil && runErr == nil {
		runErr = err
	}
	closeErr := w.Close()
	rep.Close()
	bctx := context.WithoutCancel(ctx)
	counters := map[string]int64{"archives_read": stats.Sources}
	for k, n := range stats.Problems {
		counters["warc_"+string(k)] += n
	}
	_ = st.AddScanCounters(bctx, sc.ID, counters)
	if runErr == nil && closeErr == nil {
		if sum.Final, err = st.FinalizeArchiveScan(bctx, sc.ID); err != nil {
			runErr = err
		}
	}
	if counts, err := st.StatusCounts(bctx, sc.ID); err == nil {
		sum.Statuses = counts
	}
	state := store.ScanDone
	if runErr != nil || closeErr != nil {
		state = store.ScanInterrupted
	}
	if err := st.SetScanState(bctx, sc.ID, state); err != nil && runErr == nil {
		runErr = err
	}
	if runErr == nil {
		runErr = closeErr
	}
	sum.Elapsed = time.Since(start)
	return sum, runErr
}

// archiveHandler turns records into pages.
type archiveHandler struct {
	det     *detect.Detector
	perHost bool
	acc     *pageAccumulator
	rep     *progress.Reporter
	pages   atomic.Int64
}

// handle is called by warc.Scan's workers for every record.
func (h *archiveHandler) handle(ctx context.Context, it *warc.Item) error {
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
	if p.Status == "" {
		h.rep.Add(model.StatusOK)
	} else {
		h.rep.Add(p.Status)
	}
	return nil
}

func (h *archiveHandler) page(host string, rec *warc.Record) store.Page {
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
// past them, then writes them with that checkpoint in one transaction: a
// crash loses only pages whose records will be read again, and no page is
// stored twice (records after the checkpoint stay pending even when a
// worker handled them early).
type pageAccumulator struct {
	scanID  int64
	w       *store.Writer
	mu      sync.Mutex
	pending map[string][]pendingPage
	last    map[string]int64 // last offset committed per source
	err     error
}

func (a *pageAccumulator) add(src string, off int64, p store.Page) {
	a.mu.Lock()
	a.pending[src] = append(a.pending[src], pendingPage{offset: off, page: p})
	a.mu.Unlock()
}

// commit writes src's pages before off (all of them when done) with the
// checkpoint.
func (a *pageAccumulator) commit(ctx context.Context, src string, off int64, done bool, counters map[string]int64) {
	a.mu.Lock()
	if a.last == nil {
		a.last = map[string]int64{}
	}
	if off < 0 {
		off = a.last[src] // done: the end offset was committed just before
	}
	a.last[src] = off
	var batch []store.Page
	rest := a.pending[src][:0]
	for _, pp := range a.pending[src] {
		if done || pp.offset < off {
			batch = append(batch, pp.page)
		} else {
			rest = append(rest, pp)
		}
	}
	if len(rest) == 0 {
		delete(a.pending, src)
	} else {
		a.pending[src] = rest
	}
	a.mu.Unlock()
	err := a.w.WritePages(ctx, store.PageBatch{ScanID: a.scanID, Source: src, NextOffset: off, Done: done, Pages: batch, Counters: counters})
	if err != nil {
		a.mu.Lock()
		if a.err == nil {
			a.err = fmt.Errorf("store pages of %s: %w", src, err)
		}
		a.mu.Unlock()
	}
}

func (a *pageAccumulator) error() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}
