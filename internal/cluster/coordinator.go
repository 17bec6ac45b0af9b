package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/aicensus/aicensus/internal/input"
	"github.com/aicensus/aicensus/internal/pipeline"
	"github.com/aicensus/aicensus/internal/progress"
	"github.com/aicensus/aicensus/internal/scan"
	"github.com/aicensus/aicensus/internal/store"
)

// DefaultUnitSize is how many input lines a unit holds by default.
const DefaultUnitSize = 100

// ScanOptions configure a cluster scan: the coordinator and its collector.
type ScanOptions struct {
	// Live is the configuration of the same scan on one machine (input,
	// store, detector, fetch and DNS options, pools, resume, JSON output,
	// progress, log, recorded options). Live.Input must be a file (it is
	// read twice); Live.Wrap (a browser) cannot travel to workers.
	Live scan.LiveConfig
	// Catalog says how workers rebuild Live.Detector (catalog paths,
	// no-embedded, detect options). Its Version is set from Live.Detector.
	Catalog CatalogSpec
	// URL of the cluster.
	URL string
	// UnitSize is how many input lines one unit holds (default
	// DefaultUnitSize).
	UnitSize int
	// Settings of the streams and consumers (zero: DefaultSettings).
	Settings Settings
	// Parquet, when set, is a folder that receives the results as Parquet
	// files (one per committed batch) instead of the store's results
	// tables; the store keeps the scan record. See ImportParquet.
	Parquet string
}

// ErrUnitsFailed means some units could not be run by any worker; the scan
// is marked interrupted and running it again retries them.
var ErrUnitsFailed = errors.New("cluster: units failed")

// coordinator is one run of Scan.
type coordinator struct {
	opts   ScanOptions
	cfg    scan.LiveConfig
	log    *slog.Logger
	st     *store.Store
	sc     store.Scan
	key    string
	nc     *nats.Conn
	js     jetstream.JetStream
	kv     jetstream.KeyValue
	sum    scan.Summary
	tab    *unitTable
	stored *store.LineSet // lines stored before this run (read-only while running)
}

// Scan runs a live scan on the cluster to completion, or until ctx ends:
// it creates or resumes the scan record exactly as scan.Live does,
// publishes the units whose lines are not all stored, collects the
// results into the store (or Parquet files) and marks the scan done when
// every unit is in. When ctx ends the scan is marked interrupted and the
// cluster keeps its units and results: running the same scan again
// continues it.
func Scan(ctx context.Context, opts ScanOptions) (scan.Summary, error) {
	start := time.Now()
	c := &coordinator{opts: opts, cfg: opts.Live, log: opts.Live.Log}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.opts.UnitSize <= 0 {
		c.opts.UnitSize = DefaultUnitSize
	}
	c.opts.Settings = c.opts.Settings.withDefaults()
	switch {
	case c.cfg.Input == "" || c.cfg.Input == "-":
		return c.sum, fmt.Errorf("cluster: the input must be a file (it is read twice), not stdin")
	case c.cfg.Wrap != nil:
		return c.sum, fmt.Errorf("cluster: a wrapped prober (browser rendering) cannot run on workers")
	case c.cfg.Detector == nil:
		return c.sum, fmt.Errorf("cluster: no detector")
	}
	c.opts.Catalog.Version = c.cfg.Detector.Catalog().Version()
	if err := c.openScan(ctx); err != nil {
		return c.sum, err
	}
	defer c.st.Close()
	defer func() {
		if c.nc != nil {
			c.nc.Close()
		}
	}()
	runErr := c.run(ctx)
	c.sum.Elapsed = time.Since(start)
	return c.sum, c.close(ctx, runErr)
}

// openScan opens the store and creates or resumes the scan record with
// scan.Live's own identity (scan.LiveRecord), so a scan started on one
// machine can be continued on the cluster and the other way round.
func (c *coordinator) openScan(ctx context.Context) error {
	rec, err := scan.LiveRecord(c.cfg)
	if err != nil {
		return err
	}
	return c.openRecord(ctx, rec, c.cfg.DB, c.cfg.DBMemory)
}

// openRecord opens the store and the scan record, and derives the key.
func (c *coordinator) openRecord(ctx context.Context, rec scan.Record, db, mem string) error {
	var err error
	if c.st, err = scan.OpenStore(ctx, db, mem); err != nil {
		return err
	}
	if c.sc, c.sum.Resumed, err = scan.OpenRecord(ctx, c.st, rec); err != nil {
		c.st.Close()
		return err
	}
	c.sum.ScanID = c.sc.ID
	c.key = scanKey(c.sc.ID, c.sc.Fingerprint, c.sc.StartedAt)
	return nil
}

func (c *coordinator) run(ctx context.Context) error {
	out, err := c.newOutput(ctx)
	if err != nil {
		return err
	}
	if c.stored, err = out.handled(ctx); err != nil {
		out.close()
		return err
	}
	if c.tab, err = buildUnits(c.cfg, c.opts.UnitSize, c.stored); err != nil {
		out.close()
		return err
	}
	c.sum.Read, c.sum.Skipped = c.tab.items, c.tab.initiallyDone
	c.log.Info("cluster scan", "scan", c.sc.ID, "key", c.key, "resumed", c.sum.Resumed, "units", len(c.tab.units),
		"units_left", len(c.tab.units)-c.tab.doneUnits, "items", c.tab.items, "stored", c.tab.initiallyDone)

	nc, js, err := connect(ctx, c.opts.URL, "aicensus coordinator", c.log)
	if err != nil {
		out.close()
		return err
	}
	c.nc, c.js = nc, js // closed by Scan after close has cleaned up
	if err := c.setup(ctx); err != nil {
		out.close()
		return err
	}
	cons, err := js.Consumer(ctx, ResultsStream, "collector-"+c.key)
	if err != nil {
		out.close()
		return fmt.Errorf("cluster: collector consumer: %w", err)
	}
	rep := progress.New(c.cfg.Progress, int64(c.tab.items), c.cfg.Progress != nil, 10*time.Second, c.log)
	rep.AddSkipped(int64(c.tab.initiallyDone))
	col := &collector{c: c, cons: cons, out: out, rep: rep, json: c.cfg.JSON}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.publishUnits(gctx) })
	g.Go(func() error { return col.run(gctx) })
	runErr := g.Wait()
	closeErr := out.close()
	rep.Close()
	c.sum.Written = int(col.written)
	c.sum.Input = c.tab.input
	if runErr == nil {
		runErr = closeErr
	}
	if runErr == nil && len(c.tab.failed) > 0 {
		runErr = c.tab.failedError()
	}
	return runErr
}

// setup creates the streams, this scan's consumers and its configuration
// entry (which starts the workers).
func (c *coordinator) setup(ctx context.Context) error {
	s := c.opts.Settings
	if err := c.setupBus(ctx); err != nil {
		return err
	}
	cfg, err := newScanConfig(c.key, c.sc.ID, c.opts.Catalog, c.cfg.Fetch, c.cfg.DNS, c.cfg.Probe, s)
	if err != nil {
		return err
	}
	cfg.FetchWorkers, cfg.DetectWorkers, cfg.ToolVersion = c.cfg.FetchWorkers, c.cfg.DetectWorkers, c.cfg.ToolVersion
	cfg.UnitSize = c.opts.UnitSize
	return c.putConfig(ctx, cfg)
}

// setupBus creates the streams and this scan's consumers.
func (c *coordinator) setupBus(ctx context.Context) error {
	s := c.opts.Settings
	kv, err := ensureStreams(ctx, c.js, s)
	if err != nil {
		return err
	}
	c.kv = kv
	if _, err := c.js.CreateOrUpdateConsumer(ctx, UnitsStream, s.workersConsumer(c.key)); err != nil {
		return fmt.Errorf("cluster: workers consumer: %w", err)
	}
	// The collector's consumer is made afresh: results a crashed collector
	// had received but not acked come again at once instead of after its
	// ack wait (acked ones are gone from the work-queue stream).
	if err := c.js.DeleteConsumer(ctx, ResultsStream, "collector-"+c.key); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("cluster: collector consumer: %w", err)
	}
	if _, err := c.js.CreateConsumer(ctx, ResultsStream, s.collectorConsumer(c.key)); err != nil {
		return fmt.Errorf("cluster: collector consumer: %w", err)
	}
	return nil
}

// putConfig publishes the scan's configuration, which starts the workers.
func (c *coordinator) putConfig(ctx context.Context, cfg ScanConfig) error {
	b, _ := json.Marshal(cfg)
	if _, err := c.kv.Put(ctx, c.key, b); err != nil {
		return fmt.Errorf("cluster: publish scan configuration: %w", err)
	}
	return nil
}

// publishUnits reads the input again and publishes every unit that is not
// all stored, with its id as Nats-Msg-Id: a unit published again within
// the dedup window (a coordinator restart) is dropped by the server.
func (c *coordinator) publishUnits(ctx context.Context) error {
	in, err := input.Open(c.cfg.Input, c.cfg.InputOptions)
	if err != nil {
		return fmt.Errorf("scan: input: %w", err)
	}
	defer in.Close()
	size, index := c.opts.UnitSize, 0
	var items []Item
	var published, dups int
	var pending []jetstream.PubAckFuture
	flushUnit := func() error {
		if index >= len(c.tab.units) {
			return fmt.Errorf("scan: input: it changed while the scan started (more than %d units)", len(c.tab.units))
		}
		// items holds the unit's lines not stored before this run (the
		// table itself belongs to the collector's goroutine).
		if len(items) > 0 {
			unit := &Unit{Version: WireVersion, Kind: KindDomains, ID: unitID(c.key, size, index), Scan: c.key, Items: items}
			f, err := c.publishAsync(ctx, unit)
			if err != nil {
				return err
			}
			pending = append(pending, f)
			published++
		}
		items, index = items[:0], index+1
		if len(pending) >= 256 {
			n, err := c.waitAcks(ctx, pending)
			dups += n
			pending = pending[:0]
			return err
		}
		return nil
	}
	for n := 0; ; n++ {
		it, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("scan: input: %w", err)
		}
		if !c.stored.Has(it.Line) {
			items = append(items, itemOf(inputItem(it)))
		}
		if (n+1)%size == 0 {
			if err := flushUnit(); err != nil {
				return err
			}
		}
	}
	if index < len(c.tab.units) {
		if err := flushUnit(); err != nil {
			return err
		}
	}
	n, err := c.waitAcks(ctx, pending)
	dups += n
	if err != nil {
		return err
	}
	c.log.Info("units published", "scan", c.sc.ID, "published", published, "already_in_stream", dups,
		"skipped_stored", len(c.tab.units)-published)
	return nil
}

func (c *coordinator) publishAsync(ctx context.Context, u *Unit) (jetstream.PubAckFuture, error) {
	b, err := encodeUnit(u)
	if err != nil {
		return nil, err
	}
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 5*time.Second) {
		f, err := c.js.PublishAsync(unitsPrefix+c.key, b, jetstream.WithMsgID(u.ID))
		if err == nil {
			return f, nil
		}
		c.log.Warn("publishing units; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
	}
}

// waitAcks waits for the server's acknowledgements and republishes units
// whose publication failed (same id: at most once in the stream). It
// returns how many the server reported as duplicates.
func (c *coordinator) waitAcks(ctx context.Context, fs []jetstream.PubAckFuture) (int, error) {
	dups := 0
	for _, f := range fs {
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				dups++
			}
		case err := <-f.Err():
			m := f.Msg()
			for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 5*time.Second) {
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				ack, perr := c.js.PublishMsg(pctx, m, jetstream.WithMsgID(m.Header.Get(jetstream.MsgIDHeader)))
				cancel()
				if perr == nil {
					if ack.Duplicate {
						dups++
					}
					break
				}
				c.log.Warn("publishing a unit again", "err", err, "retry_err", perr)
				select {
				case <-ctx.Done():
					return dups, ctx.Err()
				case <-time.After(backoff):
				}
			}
		case <-ctx.Done():
			return dups, ctx.Err()
		}
	}
	return dups, nil
}

// close records the outcome: counters, state, and, when every unit is in,
// removes the scan's configuration, consumers and leftovers from the
// cluster.
func (c *coordinator) close(ctx context.Context, runErr error) error {
	bctx := context.WithoutCancel(ctx)
	if c.tab != nil {
		_ = c.st.AddScanCounters(bctx, c.sc.ID, map[string]int64{
			"input_lines": int64(c.tab.input.Lines), "input_invalid": int64(c.tab.input.Invalid),
			"input_duplicates": int64(c.tab.input.Duplicates),
		})
	}
	if counts, err := c.st.StatusCounts(bctx, c.sc.ID); err == nil && c.opts.Parquet == "" {
		c.sum.Statuses = counts
	}
	done := runErr == nil && c.tab != nil && c.tab.complete()
	state := store.ScanInterrupted
	if done {
		state = store.ScanDone
	}
	if err := c.st.SetScanState(bctx, c.sc.ID, state); err != nil && runErr == nil {
		runErr = err
	}
	if done && c.js != nil {
		c.cleanup(bctx)
	}
	return runErr
}

// cleanup removes a finished scan from the cluster. Failures are logged:
// leftovers are harmless (results expire after ResultsMaxAge).
func (c *coordinator) cleanup(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if c.kv != nil {
		if err := c.kv.Purge(ctx, c.key); err != nil {
			c.log.Warn("removing the scan configuration", "err", err)
		}
	}
	for _, x := range []struct{ stream, consumer, subject string }{
		{UnitsStream, "workers-" + c.key, unitsPrefix + c.key},
		{ResultsStream, "collector-" + c.key, resultsPrefix + c.key},
	} {
		if err := c.js.DeleteConsumer(ctx, x.stream, x.consumer); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			c.log.Warn("removing a consumer", "consumer", x.consumer, "err", err)
		}
		s, err := c.js.Stream(ctx, x.stream)
		if err == nil {
			err = s.Purge(ctx, jetstream.WithPurgeSubject(x.subject))
		}
		if err != nil {
			c.log.Warn("purging the scan's messages", "stream", x.stream, "err", err)
		}
	}
}

// inputItem converts an input item as scan.Live's source does.
func inputItem(it input.Item) pipeline.Item {
	return pipeline.Item{Line: it.Line, Raw: it.Raw, Host: it.Target.Host, Domain: it.Target.Domain, Err: it.Err}
}

// unitTable is what the coordinator knows of every unit: its first line,
// its size and how many of its lines are handled.
type unitTable struct {
	units         []unitInfo
	items         int
	initiallyDone int
	doneUnits     int
	failed        map[int]string // unit index -> why no worker could run it
	input         input.Stats
}

type unitInfo struct {
	first   int   // first input line
	n       int32 // items
	initial int32 // items stored before this run
	done    int32 // items handled (stored before or during this run)
}

// buildUnits reads the input once and cuts it into units of size items.
func buildUnits(cfg scan.LiveConfig, size int, stored *store.LineSet) (*unitTable, error) {
	in, err := input.Open(cfg.Input, cfg.InputOptions)
	if err != nil {
		return nil, fmt.Errorf("scan: input: %w", err)
	}
	defer in.Close()
	t := &unitTable{failed: map[int]string{}}
	for {
		it, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("scan: input: %w", err)
		}
		if t.items%size == 0 {
			t.units = append(t.units, unitInfo{first: it.Line})
		}
		u := &t.units[len(t.units)-1]
		u.n++
		if stored.Has(it.Line) {
			u.initial++
			u.done++
			t.initiallyDone++
		}
		t.items++
	}
	for _, u := range t.units {
		if u.done == u.n {
			t.doneUnits++
		}
	}
	t.input = in.Stats()
	return t, nil
}

// unitOf returns the index of the unit holding line.
func (t *unitTable) unitOf(line int) int {
	lo, hi := 0, len(t.units)
	for lo < hi {
		m := (lo + hi) / 2
		if t.units[m].first <= line {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// handle records one newly handled line.
func (t *unitTable) handle(line int) {
	k := t.unitOf(line)
	if k < 0 {
		return
	}
	u := &t.units[k]
	if u.done < u.n {
		if u.done++; u.done == u.n {
			t.doneUnits++
			delete(t.failed, k)
		}
	}
}

// complete reports whether every unit is in.
func (t *unitTable) complete() bool { return t.doneUnits == len(t.units) }

// resolved reports whether every unit is in or failed.
func (t *unitTable) resolved() bool { return t.doneUnits+len(t.failed) >= len(t.units) }

func (t *unitTable) failedError() error {
	return failedUnitsError(t.failed, len(t.units), "units could not be run", func(k int) string {
		return fmt.Sprintf("unit %d (lines from %d)", k, t.units[k].first)
	})
}

// failedUnitsError names the first five failed units (by index, described
// by name) out of total, for a scan that ends with units no worker could
// run.
func failedUnitsError(failed map[int]string, total int, what string, name func(k int) string) error {
	keys := make([]int, 0, len(failed))
	for k := range failed {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for i, k := range keys {
		if i == 5 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, name(k)+": "+failed[k])
	}
	return fmt.Errorf("%w: %d of %d %s: %s; the scan is interrupted, run it again to retry them",
		ErrUnitsFailed, len(failed), total, what, strings.Join(parts, "; "))
}
