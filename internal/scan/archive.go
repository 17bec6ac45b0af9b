package scan

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aicensus/aicensus/internal/detect"
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
	cfg.Log = log
	sources, bad, err := ExpandArchives(ctx, cfg)
	sum.BadLines = bad
	if err != nil {
		return sum, err
	}
	st, err := OpenStore(ctx, cfg.DB, cfg.DBMemory)
	if err != nil {
		return sum, err
	}
	defer st.Close()
	sc, resumed, err := OpenRecord(ctx, st, ArchiveRecord(cfg, sources))
	if err != nil {
		return sum, err
	}
	sum.ScanID, sum.Resumed = sc.ID, resumed
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
	wopt := cfg.Warc
	if cfg.Stdin != nil {
		wopt.Stdin = cfg.Stdin
	}
	popt := PageOptions{
		ScanID: sc.ID, Detector: cfg.Detector, PerHost: cfg.PerHost, OnPage: rep.Add, Log: log,
		Scan: warc.ScanOptions{
			Options: wopt, Files: cfg.Files, Workers: cfg.Workers,
			Start: func(s warc.Source) int64 { return checkpoints[s.Name].NextOffset },
		},
	}
	// Pages and checkpoints are stored even while ctx ends: a checkpoint
	// handed over is one the next run can trust.
	wctx := context.WithoutCancel(ctx)
	stats, pages, runErr := ReadPages(ctx, todo, popt, func(_ context.Context, b PageBatch) error {
		if err := w.WritePages(wctx, b.PageBatch); err != nil {
			return fmt.Errorf("store pages of %s: %w", b.Source, err)
		}
		if cfg.OnCommit != nil {
			off := b.NextOffset
			if b.Done {
				off = -1
			}
			cfg.OnCommit(b.Source, off, b.Done)
		}
		return nil
	})
	sum.Stats, sum.Pages = stats, pages
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
