package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/aicensus/aicensus/internal/progress"
	"github.com/aicensus/aicensus/internal/scan"
	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/warc"
)

// ArchiveScanOptions configure an archive scan on the cluster (ScanArchive).
type ArchiveScanOptions struct {
	// Archive is the configuration of the same scan on one machine
	// (specs, base, store, detector, per-host, reader options, resume,
	// progress, log, recorded options). Standard input ("-") cannot be
	// read by workers; local archives must be readable at the same path on
	// every worker (give absolute paths: a relative one is resolved in
	// each worker's working directory). Archive.Workers is the reader
	// pool per file on each worker (0: its number of CPUs);
	// Archive.Warc.HTTPClient does not travel.
	Archive scan.ArchiveConfig
	// Catalog says how workers rebuild Archive.Detector. Its Version is
	// set from Archive.Detector.
	Catalog CatalogSpec
	// URL of the cluster.
	URL string
	// Settings of the streams and consumers (zero: DefaultSettings).
	Settings Settings
	// BatchPages is how many pages a worker's results message holds at
	// most (0: DefaultBatchPages).
	BatchPages int
}

// ScanArchive runs an archive scan on the cluster to completion, or until
// ctx ends. It creates or resumes the scan record exactly as scan.Archive
// does (same kind and fingerprint, so either can continue the other),
// publishes one unit per source whose checkpoint is not done, stores the
// workers' page batches with their checkpoints (Writer.WritePages) and,
// once every source is done, aggregates the pages into results
// (FinalizeArchiveScan) and marks the scan done. When ctx ends the scan is
// marked interrupted; the cluster keeps its units and batches and running
// the same scan again continues it.
func ScanArchive(ctx context.Context, opts ArchiveScanOptions) (scan.ArchiveSummary, error) {
	start := time.Now()
	cfg := opts.Archive
	var sum scan.ArchiveSummary
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Detector == nil {
		return sum, fmt.Errorf("cluster: no detector")
	}
	sources, bad, err := scan.ExpandArchives(ctx, cfg)
	sum.BadLines = bad
	if err != nil {
		return sum, err
	}
	for _, s := range sources {
		if s.Kind == warc.SourceStdin {
			return sum, fmt.Errorf("cluster: standard input cannot be read by workers; give archive files or URLs")
		}
	}
	c := &coordinator{log: cfg.Log, opts: ScanOptions{Catalog: opts.Catalog, URL: opts.URL, Settings: opts.Settings.withDefaults()}}
	c.opts.Catalog.Version = cfg.Detector.Catalog().Version()
	if err := c.openRecord(ctx, scan.ArchiveRecord(cfg, sources), cfg.DB, cfg.DBMemory); err != nil {
		return sum, err
	}
	defer c.st.Close()
	defer func() {
		if c.nc != nil {
			c.nc.Close()
		}
	}()
	sum.ScanID, sum.Resumed, sum.Sources = c.sc.ID, c.sum.Resumed, len(sources)
	a := &archiveCoordinator{coordinator: c, cfg: cfg, batch: opts.BatchPages}
	runErr := a.run(ctx, sources, &sum)
	runErr = a.close(ctx, runErr, &sum)
	sum.Elapsed = time.Since(start)
	return sum, runErr
}

// archiveCoordinator is one run of ScanArchive.
type archiveCoordinator struct {
	*coordinator
	cfg   scan.ArchiveConfig
	batch int
	tab   *archiveTable
	col   *pageCollector
}

func (a *archiveCoordinator) run(ctx context.Context, sources []warc.Source, sum *scan.ArchiveSummary) error {
	checkpoints, err := a.st.Checkpoints(ctx, a.sc.ID)
	if err != nil {
		return err
	}
	a.tab = newArchiveTable(sources, checkpoints)
	sum.Skipped = a.tab.initiallyDone
	units := a.tab.units(a.key)
	a.log.Info("cluster archive scan", "scan", a.sc.ID, "key", a.key, "resumed", a.sum.Resumed,
		"sources", len(sources), "to_read", len(units))
	if !filepath.IsAbs(firstLocal(sources)) && firstLocal(sources) != "" {
		a.log.Warn("archive paths are relative: workers resolve them in their own working directory", "example", firstLocal(sources))
	}
	w, err := a.st.NewWriter(store.WriterOptions{})
	if err != nil {
		return err
	}
	rep := progress.New(a.cfg.Progress, -1, a.cfg.Progress != nil, 10*time.Second, a.log)
	a.col = &pageCollector{c: a.coordinator, tab: a.tab, w: w, rep: rep, sum: sum}
	runErr := a.start(ctx, units)
	closeErr := w.Close()
	rep.Close()
	if runErr == nil {
		runErr = closeErr
	}
	if runErr == nil && len(a.tab.failed) > 0 {
		runErr = a.tab.failedError()
	}
	return runErr
}

// start connects, publishes the configuration and the units, and collects
// until every source is done (or failed).
func (a *archiveCoordinator) start(ctx context.Context, units []*Unit) error {
	nc, js, err := connect(ctx, a.opts.URL, "aicensus coordinator", a.log)
	if err != nil {
		return err
	}
	a.nc, a.js = nc, js // closed by ScanArchive after close has cleaned up
	if err := a.setupBus(ctx); err != nil {
		return err
	}
	scfg, err := a.scanConfig()
	if err != nil {
		return err
	}
	if err := a.putConfig(ctx, scfg); err != nil {
		return err
	}
	if a.col.cons, err = js.Consumer(ctx, ResultsStream, "collector-"+a.key); err != nil {
		return fmt.Errorf("cluster: collector consumer: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.publish(gctx, units) })
	g.Go(func() error { return a.col.run(gctx) })
	return g.Wait()
}

// scanConfig is the configuration workers receive: the catalog, the
// reader options and the consumer settings (no fetch or DNS options:
// archive units do not probe).
func (a *archiveCoordinator) scanConfig() (ScanConfig, error) {
	wo := a.cfg.Warc
	wo.HTTPClient, wo.Stdin = nil, nil
	wf, err := dataFields(&wo)
	if err != nil {
		return ScanConfig{}, err
	}
	s := a.opts.Settings
	return ScanConfig{
		Version: WireVersion, Key: a.key, ScanID: a.sc.ID, Catalog: a.opts.Catalog,
		Heartbeat: s.Heartbeat, MaxAttempts: s.MaxAttempts, NakDelay: s.NakDelay, ToolVersion: a.cfg.ToolVersion,
		DetectWorkers: a.cfg.Workers, UnitSize: 1, Kind: store.KindWARC,
		Archive: &ArchiveSettings{PerHost: a.cfg.PerHost, Warc: wf, Workers: a.cfg.Workers, BatchPages: a.batch},
	}, nil
}

// publish publishes the units (ids are stable, so a restarted coordinator's
// units within the dedup window are dropped by the server).
func (a *archiveCoordinator) publish(ctx context.Context, units []*Unit) error {
	var pending []jetstream.PubAckFuture
	dups := 0
	for _, u := range units {
		f, err := a.publishAsync(ctx, u)
		if err != nil {
			return err
		}
		pending = append(pending, f)
		if len(pending) >= 256 {
			n, err := a.waitAcks(ctx, pending)
			dups += n
			if err != nil {
				return err
			}
			pending = pending[:0]
		}
	}
	n, err := a.waitAcks(ctx, pending)
	dups += n
	if err != nil {
		return err
	}
	a.log.Info("units published", "scan", a.sc.ID, "published", len(units), "already_in_stream", dups,
		"skipped_done", a.tab.initiallyDone)
	return nil
}

// close records the outcome: counters, the aggregation when every source
// is done, state, and the cluster's cleanup.
func (a *archiveCoordinator) close(ctx context.Context, runErr error, sum *scan.ArchiveSummary) error {
	bctx := context.WithoutCancel(ctx)
	if a.col != nil {
		counters := map[string]int64{"archives_read": sum.Stats.Sources}
		for k, n := range sum.Stats.Problems {
			counters["warc_"+string(k)] += n
		}
		_ = a.st.AddScanCounters(bctx, a.sc.ID, counters)
	}
	done := runErr == nil && a.tab != nil && a.tab.complete()
	if done {
		var err error
		if sum.Final, err = a.st.FinalizeArchiveScan(bctx, a.sc.ID); err != nil {
			runErr, done = err, false
		}
	}
	if counts, err := a.st.StatusCounts(bctx, a.sc.ID); err == nil {
		sum.Statuses = counts
	}
	state := store.ScanInterrupted
	if done {
		state = store.ScanDone
	}
	if err := a.st.SetScanState(bctx, a.sc.ID, state); err != nil && runErr == nil {
		runErr = err
	}
	if done && a.js != nil {
		a.cleanup(bctx)
	}
	return runErr
}

func firstLocal(sources []warc.Source) string {
	for _, s := range sources {
		if s.Kind == warc.SourceFile {
			return s.Name
		}
	}
	return ""
}

// archiveTable is what the coordinator knows of every source: its unit
// index (its position in name order), its stored checkpoint and whether it
// is done. Only the collector's goroutine uses it while the scan runs.
type archiveTable struct {
	sources       []warc.Source // in name order
	index         map[string]int
	next          []int64 // stored checkpoint offset
	done          []bool  // stored as done (or absorbed as done, awaiting commit)
	initiallyDone int
	doneUnits     int            // done and committed
	failed        map[int]string // unit index -> why no worker could run it
}

func newArchiveTable(sources []warc.Source, cps map[string]store.Checkpoint) *archiveTable {
	sorted := append([]warc.Source(nil), sources...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	t := &archiveTable{sources: sorted, index: map[string]int{}, next: make([]int64, len(sorted)),
		done: make([]bool, len(sorted)), failed: map[int]string{}}
	for i, s := range sorted {
		t.index[s.Name] = i
		cp := cps[s.Name]
		t.next[i], t.done[i] = cp.NextOffset, cp.Done
		if cp.Done {
			t.initiallyDone++
		}
	}
	t.doneUnits = t.initiallyDone
	return t
}

// units returns a unit for every source not done, starting at its
// checkpoint.
func (t *archiveTable) units(key string) []*Unit {
	var out []*Unit
	for i, s := range t.sources {
		if t.done[i] {
			continue
		}
		out = append(out, &Unit{Version: WireVersion, Kind: KindWARC, ID: warcUnitID(key, i), Scan: key,
			WARC: &WARCFile{Source: s.Name, Offset: t.next[i]}})
	}
	return out
}

func (t *archiveTable) complete() bool { return t.doneUnits == len(t.sources) }
func (t *archiveTable) resolved() bool { return t.doneUnits+len(t.failed) >= len(t.sources) }

func (t *archiveTable) failedError() error {
	return failedUnitsError(t.failed, len(t.sources), "archives could not be read", func(k int) string {
		return fmt.Sprintf("unit %d (%s)", k, t.sources[k].Name)
	})
}

// warcUnitID is the id of the unit of source index i: "<key>.warc.<i>".
// Indexes follow the sorted source names, which the scan's fingerprint
// fixes, so ids are stable across coordinator restarts.
func warcUnitID(key string, i int) string { return fmt.Sprintf("%s.warc.%d", key, i) }

// warcUnitIndex parses warcUnitID.
func warcUnitIndex(id, key string) (int, bool) {
	rest, ok := strings.CutPrefix(id, key+".warc.")
	if !ok {
		return 0, false
	}
	k, err := strconv.Atoi(rest)
	return k, err == nil && k >= 0
}
