package cluster

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/progress"
	"github.com/aicensus/aicensus/internal/store"
)

// output is where the collector commits results: the store or Parquet
// files. Only the collector's goroutine uses it.
type output interface {
	// handled returns the input lines whose results the output already
	// holds (the resume set).
	handled(ctx context.Context) (*store.LineSet, error)
	// write queues results; commit makes everything queued durable.
	write(ctx context.Context, rs []model.Result) error
	commit(ctx context.Context) error
	// due reports whether buffered results (n, the oldest waiting for age)
	// should be committed now rather than with the next ones.
	due(n int, age time.Duration) bool
	close() error
}

func (c *coordinator) newOutput(ctx context.Context) (output, error) {
	if c.opts.Parquet != "" {
		return newParquetOutput(c.st, c.opts.Parquet, c.sc.ID)
	}
	w, err := c.st.NewWriter(store.WriterOptions{})
	if err != nil {
		return nil, err
	}
	return &storeOutput{st: c.st, w: w, scanID: c.sc.ID, delay: c.opts.Settings.CollectorDelay}, nil
}

// storeOutput writes through store.Writer, which also refuses a second
// (scan, target).
type storeOutput struct {
	st     *store.Store
	w      *store.Writer
	scanID int64
	delay  time.Duration // Settings.CollectorDelay
}

func (o *storeOutput) handled(ctx context.Context) (*store.LineSet, error) {
	return o.st.StoredLines(ctx, o.scanID)
}

func (o *storeOutput) write(ctx context.Context, rs []model.Result) error {
	for _, r := range rs {
		if err := o.w.Write(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func (o *storeOutput) commit(ctx context.Context) error { return o.w.Flush(ctx) }
func (o *storeOutput) close() error                     { return o.w.Close() }

// storeCommitRows: the store output commits at this many results or when
// the oldest has waited Settings.CollectorDelay, like a single-machine
// scan's store.Writer (its defaults). A commit per results message made
// the collector's DuckDB write and sync its log once per unit, which cost
// the cluster about a tenth of a single-machine scan's CPU.
const storeCommitRows = 1000

func (o *storeOutput) due(n int, age time.Duration) bool {
	return n >= storeCommitRows || age >= o.delay
}

// collector consumes the scan's results stream: it drops lines already
// handled, commits the rest, and only then acks the messages, so a
// collector that dies redelivers everything it had not committed.
type collector struct {
	c       *coordinator
	cons    jetstream.Consumer
	out     output
	rep     *progress.Reporter
	json    io.Writer
	enc     *json.Encoder
	codec   *codec
	handled store.LineSet // lines handled in this run
	written int64
	dups    int64

	pending []jetstream.Msg // absorbed, to ack after the next commit
	fresh   []model.Result  // absorbed, not yet committed
	since   time.Time       // when the oldest pending message was absorbed
}

func (col *collector) run(ctx context.Context) error {
	cd, err := newCodec()
	if err != nil {
		return err
	}
	defer cd.close()
	col.codec = cd
	tab := col.c.tab
	maxPending := 3 * col.c.opts.Settings.CollectorBatch // below the consumer's MaxAckPending
	err = consumeResults(ctx, col.cons, col.c.opts.Settings.CollectorBatch, col.c.log, tab.resolved,
		func(msgs []jetstream.Msg) error {
			if err := col.absorb(ctx, msgs); err != nil {
				return err
			}
			if len(col.pending) >= maxPending || col.out.due(len(col.fresh), time.Since(col.since)) || col.allIn() {
				return col.flush(ctx)
			}
			return nil
		},
		func() error {
			if len(col.pending) > 0 { // idle: commit what waits
				return col.flush(ctx)
			}
			return nil
		})
	if err != nil {
		return err
	}
	col.c.log.Info("every unit is in", "scan", col.c.sc.ID, "written", col.written, "duplicates_dropped", col.dups)
	return nil
}

// consumeResults fetches messages in batches of up to n until done
// reports true, handing each batch to handle; idle runs after a fetch that
// found nothing. A failed fetch (NATS restarting) is retried with backoff.
// It returns handle's or idle's first error, or ctx's.
func consumeResults(ctx context.Context, cons jetstream.Consumer, n int, log *slog.Logger,
	done func() bool, handle func([]jetstream.Msg) error, idle func() error) error {
	backoff := 100 * time.Millisecond
	for !done() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		msgs, err := fetchBatch(ctx, cons, n, time.Second)
		if len(msgs) > 0 {
			backoff = 100 * time.Millisecond
			if err := handle(msgs); err != nil {
				return err
			}
			continue
		}
		if err := idle(); err != nil {
			return err
		}
		if err != nil && ctx.Err() == nil {
			log.Debug("fetching results", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}
	return nil
}

// absorb decodes fetched results messages and queues their new results in
// the output; the messages are acked by the next flush.
func (col *collector) absorb(ctx context.Context, msgs []jetstream.Msg) error {
	if len(col.pending) == 0 {
		col.since = time.Now()
	}
	var fresh []model.Result
	for _, m := range msgs {
		unit := m.Headers().Get(hdrUnit)
		if why := m.Headers().Get(hdrFailed); why != "" {
			col.fail(unit, why)
			col.pending = append(col.pending, m)
			continue
		}
		rs, err := col.codec.decode(m.Data())
		if err != nil {
			// Kept in the stream (a newer aicensus may read it); the scan
			// ends with an error naming the unit instead of waiting.
			col.fail(unit, "its results cannot be read: "+err.Error())
			_ = m.NakWithDelay(col.c.opts.Settings.NakDelay)
			continue
		}
		col.pending = append(col.pending, m)
		for _, r := range rs {
			switch {
			case r.ScanID != col.c.sc.ID:
				col.c.log.Warn("result of another scan dropped", "scan_id", r.ScanID, "target", r.Target, "unit", unit)
				continue
			case col.c.stored.Has(r.Line) || col.handled.Has(r.Line):
				col.dups++
				continue
			}
			col.handled.Add(r.Line)
			fresh = append(fresh, r)
		}
	}
	col.fresh = append(col.fresh, fresh...)
	return col.out.write(ctx, fresh)
}

// allIn reports whether every input line is now stored or absorbed: no
// more results are due, so waiting for a fuller batch would only delay the
// end of the scan.
func (col *collector) allIn() bool {
	return col.c.tab.initiallyDone+col.handled.Len() >= col.c.tab.items
}

// flush commits everything absorbed, then acks its messages. A crash
// before the commit redelivers them all; a crash (or a lost ack) after it
// redelivers messages whose lines are then dropped as handled.
func (col *collector) flush(ctx context.Context) error {
	if err := col.out.commit(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	for _, m := range col.pending {
		_ = m.Ack()
	}
	for _, r := range col.fresh {
		col.c.tab.handle(r.Line)
		col.rep.Add(r.Status)
		if col.json != nil {
			if col.enc == nil {
				col.enc = json.NewEncoder(col.json)
				col.enc.SetEscapeHTML(false)
			}
			if err := col.enc.Encode(r); err != nil {
				return err
			}
		}
	}
	col.written += int64(len(col.fresh))
	clear(col.pending)
	clear(col.fresh)
	col.pending, col.fresh = col.pending[:0], col.fresh[:0]
	return nil
}

// fail records a unit no worker could run, so the scan ends (interrupted)
// instead of waiting for it.
func (col *collector) fail(unit, why string) {
	col.c.log.Error("unit failed", "unit", unit, "err", why)
	k, ok := unitIndex(unit, col.c.key, col.c.opts.UnitSize)
	if !ok || k >= len(col.c.tab.units) {
		return
	}
	if u := col.c.tab.units[k]; u.done < u.n {
		col.c.tab.failed[k] = why
	}
}

// unitIndex parses "<key>.<size>.<index>" of this scan and unit size.
func unitIndex(id, key string, size int) (int, bool) {
	rest, ok := strings.CutPrefix(id, key+".")
	if !ok {
		return 0, false
	}
	s, idx, ok := strings.Cut(rest, ".")
	if !ok || s != strconv.Itoa(size) {
		return 0, false
	}
	k, err := strconv.Atoi(idx)
	return k, err == nil && k >= 0
}
