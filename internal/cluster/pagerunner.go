package cluster

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/scan"
	"github.com/aicensus/aicensus/internal/warc"
)

// DefaultBatchPages is how many pages a results message of an archive
// unit holds at most: a message is published when it holds this many
// pages, when its oldest page waited pagesMaxWait, and when the source is
// done.
const DefaultBatchPages = 512

const pagesMaxWait = 2 * time.Second

// archiveRunner runs one archive scan's units on one worker: each unit is
// one source, read by scan.ReadPages (scan.Archive's own page detection)
// from the unit's offset; its page batches are published with their
// checkpoint offsets, and the unit is acked after the last one.
type archiveRunner struct {
	w        *worker
	cfg      ScanConfig
	cons     jetstream.Consumer
	det      *detect.Detector
	wopt     warc.Options
	readers  int // reader pool per unit
	parallel int // units read at the same time
	batch    int // pages per results message

	mu sync.Mutex
	holder
}

func (w *worker) newArchiveRunner(ctx context.Context, cfg ScanConfig) (*archiveRunner, error) {
	det, err := w.detector(cfg.Catalog)
	if err != nil {
		return nil, err
	}
	var wopt warc.Options
	if err := setDataFields(&wopt, cfg.Archive.Warc); err != nil {
		return nil, err
	}
	cons, err := w.js.Consumer(ctx, UnitsStream, "workers-"+cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("cluster: scan %s: units consumer: %w", cfg.Key, err)
	}
	r := &archiveRunner{
		w: w, cfg: cfg, cons: cons, det: det, wopt: wopt,
		readers: firstPositive(w.opts.DetectWorkers, cfg.Archive.Workers, runtime.GOMAXPROCS(0)),
		// Two units at a time: one file keeps every reader busy (warc.Scan
		// splits gzip input), the second covers its start and its end.
		parallel: 2,
		batch:    firstPositive(cfg.Archive.BatchPages, DefaultBatchPages),
	}
	r.holder = newHolder(w, cfg.Key, &r.mu)
	return r, nil
}

func (r *archiveRunner) close() {}

// run takes units while fewer than parallel are being read, until ctx
// ends; then it hands back every unit it still holds.
func (r *archiveRunner) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return r.heartbeat(gctx, r.cfg.Heartbeat) })
	slots := make(chan struct{}, r.parallel)
	backoff := 100 * time.Millisecond
	for gctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-gctx.Done():
			continue
		}
		msgs, err := fetchBatch(gctx, r.cons, 1, 2*time.Second)
		if len(msgs) == 0 {
			<-slots
			if err != nil && gctx.Err() == nil {
				r.w.opts.Log.Debug("fetching units", "scan", r.cfg.Key, "err", err)
				select {
				case <-gctx.Done():
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 5*time.Second)
			}
			continue
		}
		backoff = 100 * time.Millisecond
		g.Go(func() error {
			defer func() { <-slots }()
			r.runUnit(gctx, msgs[0])
			return nil
		})
	}
	err := g.Wait()
	r.handBack()
	return err
}

// runUnit reads one unit's source and publishes its pages, then acks it.
func (r *archiveRunner) runUnit(ctx context.Context, msg jetstream.Msg) {
	var delivery uint64
	if md, err := msg.Metadata(); err == nil {
		delivery = md.NumDelivered
	}
	u, err := decodeUnit(msg.Data())
	if err == nil && u.Scan != r.cfg.Key {
		err = fmt.Errorf("unit %s belongs to scan %s, not %s", u.ID, u.Scan, r.cfg.Key)
	}
	if err == nil && u.Kind != KindWARC {
		err = fmt.Errorf("unit %s: %w: a %s unit in an archive scan", u.ID, ErrUnsupportedUnit, u.Kind)
	}
	if err == nil && u.WARC.Source == "-" {
		err = fmt.Errorf("unit %s: standard input cannot be read on a worker", u.ID)
	}
	if err != nil {
		r.w.failUnit(ctx, r.cfg, msg, u, delivery, err)
		return
	}
	au := &heldUnit{unit: u, msg: msg, delivery: delivery}
	r.add(au)
	r.w.event(Event{Kind: EventUnitStart, Scan: r.cfg.Key, Unit: u.ID, Delivery: delivery})
	if delivery > uint64(r.cfg.MaxAttempts) {
		r.deadLetter(ctx, au)
		return
	}
	src := warc.Source{Name: u.WARC.Source, Kind: warc.SourceFile}
	if strings.HasPrefix(src.Name, "http://") || strings.HasPrefix(src.Name, "https://") {
		src.Kind = warc.SourceHTTP
	}
	pub := &pagePublisher{r: r, unit: u.ID}
	opt := scan.PageOptions{
		ScanID: r.cfg.ScanID, Detector: r.det, PerHost: r.cfg.Archive.PerHost, Log: r.w.opts.Log,
		Scan: warc.ScanOptions{Options: r.wopt, Files: 1, Workers: r.readers,
			Start: func(warc.Source) int64 { return u.WARC.Offset }},
	}
	_, pages, err := scan.ReadPages(ctx, []warc.Source{src}, opt, pub.add)
	if err == nil {
		err = pub.flush(ctx) // nothing is left after the source's last batch, but be sure
	}
	if err != nil {
		if ctx.Err() == nil {
			r.nak(au, r.cfg.NakDelay, err)
		}
		return // when stopping, handBack hands it back
	}
	r.ack(au, int(pages))
}

// deadLetter ends a unit delivered more than MaxAttempts times: its source
// is marked done with what was stored of it, counted as
// cluster_dead_letter in the scan's counters (as an unreadable archive is
// counted as warc_open_error), so the scan can finish.
func (r *archiveRunner) deadLetter(ctx context.Context, au *heldUnit) {
	cause := fmt.Errorf("cluster: unit %s (%s) was delivered %d times (max attempts %d) without being read to its end; the rest of the archive was not read",
		au.unit.ID, au.unit.WARC.Source, au.delivery, r.cfg.MaxAttempts)
	r.w.opts.Log.Error("archive unit failed too often; marked done", "unit", au.unit.ID, "deliveries", au.delivery)
	m := &pageMsg{Version: WireVersion, ScanID: r.cfg.ScanID, Source: au.unit.WARC.Source, Done: true,
		Counters: map[string]int64{deadLetterCounter: 1}}
	pub := &pagePublisher{r: r, unit: au.unit.ID, cur: m}
	if err := pub.flush(ctx); err != nil {
		if ctx.Err() == nil {
			r.nak(au, r.cfg.NakDelay, err)
		}
		return
	}
	r.w.event(Event{Kind: EventUnitDead, Scan: r.cfg.Key, Unit: au.unit.ID, Delivery: au.delivery, Err: cause.Error()})
	r.ack(au, 0)
}

// pagePublisher gathers one unit's page batches (scan.ReadPages hands
// them over in order, one at a time) into results messages.
type pagePublisher struct {
	r     *archiveRunner
	unit  string
	cur   *pageMsg
	since time.Time
}

// add is ReadPages' sink.
func (p *pagePublisher) add(ctx context.Context, b scan.PageBatch) error {
	if p.cur == nil {
		p.cur = &pageMsg{Version: WireVersion, ScanID: b.ScanID, Source: b.Source, Start: b.Start}
		p.since = time.Now()
	}
	p.cur.merge(b)
	if b.Done || len(p.cur.Pages) >= p.r.batch || time.Since(p.since) >= pagesMaxWait {
		return p.flush(ctx)
	}
	return nil
}

// flush publishes what was gathered, cut to the server's max payload.
func (p *pagePublisher) flush(ctx context.Context) error {
	if p.cur == nil {
		return nil
	}
	m := p.cur
	p.cur = nil
	r := p.r
	parts, data, err := r.w.codec.encodePages(m, r.w.maxPayload-4096)
	if err != nil {
		return err
	}
	for i, part := range parts {
		nm := &nats.Msg{Subject: resultsPrefix + r.cfg.Key, Data: data[i], Header: nats.Header{}}
		nm.Header.Set(hdrUnit, p.unit)
		nm.Header.Set(hdrEncoding, "zstd+json pages")
		if err := r.w.publishResults(ctx, nm, part.id(p.unit), r.cfg.Heartbeat); err != nil {
			return err
		}
	}
	return nil
}
