package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/pipeline"
	"github.com/aicensus/aicensus/internal/scan"
)

// runner runs one scan's units on one worker: a single pipeline.RunLive
// (the same probe and detect code as a single-machine scan) fed from the
// units it holds, so a slow host in one unit never idles the pools.
type runner struct {
	w      *worker
	cfg    ScanConfig
	cons   jetstream.Consumer
	prober pipeline.Prober
	det    pipeline.Detector
	closer func()

	fetchWorkers, detectWorkers int
	highWater                   int // fetch another unit while fewer items are pending

	items     chan pipeline.Item
	completed chan *unitRun
	space     chan struct{} // signalled when pending items drop
	stopping  <-chan struct{}

	mu sync.Mutex
	holder
	units  map[string]*unitRun // running units by id
	byLine map[int][]*unitRun  // units waiting for a line's result
}

// unitRun is one unit this worker holds.
type unitRun struct {
	heldUnit
	results   []model.Result
	remaining int
}

func (w *worker) newRunner(ctx context.Context, cfg ScanConfig) (*runner, error) {
	det, err := w.detector(cfg.Catalog)
	if err != nil {
		return nil, err
	}
	fo, dc, po, err := cfg.options()
	if err != nil {
		return nil, err
	}
	if w.opts.Resolvers != nil {
		dc.Servers = w.opts.Resolvers
	}
	sp, err := scan.NewStaticProber(det, dc, fo, po)
	if err != nil {
		return nil, fmt.Errorf("cluster: scan %s: %w", cfg.Key, err)
	}
	cons, err := w.js.Consumer(ctx, UnitsStream, "workers-"+cfg.Key)
	if err != nil {
		sp.Close()
		return nil, fmt.Errorf("cluster: scan %s: units consumer: %w", cfg.Key, err)
	}
	r := &runner{
		w: w, cfg: cfg, cons: cons, prober: sp, det: det,
		closer:        sp.Close,
		fetchWorkers:  firstPositive(w.opts.FetchWorkers, cfg.FetchWorkers, 64),
		detectWorkers: firstPositive(w.opts.DetectWorkers, cfg.DetectWorkers, 0),
		units:         map[string]*unitRun{}, byLine: map[int][]*unitRun{},
	}
	r.holder = newHolder(w, cfg.Key, &r.mu)
	r.highWater = 2 * r.fetchWorkers
	r.items = make(chan pipeline.Item, r.fetchWorkers)
	r.completed = make(chan *unitRun, 16)
	r.space = make(chan struct{}, 1)
	return r, nil
}

func firstPositive(v ...int) int {
	for _, x := range v {
		if x > 0 {
			return x
		}
	}
	return 0
}

func (r *runner) close() { r.closer() }

// run works until ctx ends, then hands back every unit it still holds.
func (r *runner) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	r.stopping = gctx.Done()
	g.Go(func() error {
		_, err := pipeline.RunLive(gctx, pipeline.LiveOptions{
			ScanID: r.cfg.ScanID, FetchWorkers: r.fetchWorkers, DetectWorkers: r.detectWorkers,
		}, &chanSource{ctx: gctx, ch: r.items}, r.prober, r.det, r)
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		return err
	})
	g.Go(func() error { return r.fetchLoop(gctx) })
	g.Go(func() error { return r.publishLoop(gctx) })
	g.Go(func() error { return r.heartbeat(gctx, r.cfg.Heartbeat) })
	err := g.Wait()
	r.handBack()
	return err
}

// chanSource is the pipeline's source: items of the units this worker
// holds, until ctx ends.
type chanSource struct {
	ctx context.Context
	ch  <-chan pipeline.Item
}

func (s *chanSource) Next() (pipeline.Item, error) {
	select {
	case it := <-s.ch:
		return it, nil
	case <-s.ctx.Done():
		return pipeline.Item{}, io.EOF
	}
}

// fetchLoop takes units while fewer than highWater items are pending.
func (r *runner) fetchLoop(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		r.mu.Lock()
		pending := len(r.byLine)
		r.mu.Unlock()
		if pending >= r.highWater {
			select {
			case <-r.space:
			case <-ctx.Done():
			}
			continue
		}
		msgs, err := fetchBatch(ctx, r.cons, 1, 2*time.Second)
		for _, msg := range msgs {
			r.start(ctx, msg)
		}
		switch {
		case len(msgs) > 0:
			backoff = 100 * time.Millisecond
		case err != nil && ctx.Err() == nil:
			r.w.opts.Log.Debug("fetching units", "scan", r.cfg.Key, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}
	return nil
}

// fetchBatch pulls up to n messages: it waits at most wait for the first,
// then takes whatever else is available without waiting. Having no message
// at the end of the wait is not an error.
func fetchBatch(ctx context.Context, cons jetstream.Consumer, n int, wait time.Duration) ([]jetstream.Msg, error) {
	fctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	batch, err := cons.Fetch(1, jetstream.FetchContext(fctx))
	if err != nil {
		if fctx.Err() != nil {
			return nil, nil
		}
		return nil, err
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	err = batch.Error()
	if err != nil && (fctx.Err() != nil || errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)) {
		err = nil
	}
	if err != nil || len(msgs) == 0 || n == 1 {
		return msgs, err
	}
	// Then whatever else is there, without waiting.
	more, err := cons.FetchNoWait(n - 1)
	if err != nil {
		return msgs, nil
	}
	for m := range more.Messages() {
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// start registers a received unit and feeds its items to the pipeline.
func (r *runner) start(ctx context.Context, msg jetstream.Msg) {
	var delivery uint64
	if md, err := msg.Metadata(); err == nil {
		delivery = md.NumDelivered
	}
	u, err := decodeUnit(msg.Data())
	if err == nil && u.Scan != r.cfg.Key {
		err = fmt.Errorf("unit %s belongs to scan %s, not %s", u.ID, u.Scan, r.cfg.Key)
	}
	if err == nil && u.Kind != KindDomains {
		err = fmt.Errorf("unit %s: %w: %s units belong to an archive scan, and this scan is live", u.ID, ErrUnsupportedUnit, u.Kind)
	}
	if err != nil {
		r.fail(ctx, msg, u, delivery, err)
		return
	}
	r.w.event(Event{Kind: EventUnitStart, Scan: r.cfg.Key, Unit: u.ID, Delivery: delivery, Items: len(u.Items)})
	if delivery > uint64(r.cfg.MaxAttempts) {
		r.deadLetter(ctx, msg, u, delivery)
		return
	}
	ur := &unitRun{heldUnit: heldUnit{unit: u, msg: msg, delivery: delivery}}
	var fresh []pipeline.Item
	r.mu.Lock()
	if old, ok := r.units[u.ID]; ok {
		// Redelivered while still running here: keep running it and ack
		// the newest delivery.
		old.msg, old.delivery = msg, delivery
		r.mu.Unlock()
		return
	}
	seen := make(map[int]bool, len(u.Items))
	for _, it := range u.Items {
		if seen[it.Line] {
			continue
		}
		seen[it.Line] = true
		waiting := r.byLine[it.Line]
		if len(waiting) == 0 {
			fresh = append(fresh, it.pipelineItem())
		}
		r.byLine[it.Line] = append(waiting, ur)
		ur.remaining++
	}
	r.addLocked(&ur.heldUnit)
	if ur.remaining > 0 {
		r.units[u.ID] = ur
	}
	r.mu.Unlock()
	if ur.remaining == 0 {
		r.complete(ur)
		return
	}
	for _, it := range fresh {
		select {
		case r.items <- it:
		case <-ctx.Done():
			return // handed back by run
		}
	}
}

// Write is the pipeline's sink: it hands a result to every unit waiting
// for its line and queues complete units for publishing.
func (r *runner) Write(_ context.Context, res model.Result) error {
	r.mu.Lock()
	waiting := r.byLine[res.Line]
	delete(r.byLine, res.Line)
	var done []*unitRun
	for _, u := range waiting {
		u.results = append(u.results, res)
		if u.remaining--; u.remaining == 0 {
			delete(r.units, u.unit.ID)
			done = append(done, u)
		}
	}
	r.mu.Unlock()
	select {
	case r.space <- struct{}{}:
	default:
	}
	for _, u := range done {
		r.complete(u)
	}
	return nil
}

// complete queues a unit for publishing; when the runner is stopping the
// unit stays held and handBack returns it.
func (r *runner) complete(u *unitRun) {
	select {
	case r.completed <- u:
	case <-r.stopping:
	}
}

func (r *runner) publishLoop(ctx context.Context) error {
	for {
		select {
		case u := <-r.completed:
			r.finish(ctx, u)
		case <-ctx.Done():
			return nil
		}
	}
}

// finish publishes a unit's results, then acks it. When the results cannot
// be published for 2 heartbeats (the cluster is unreachable), the unit is
// handed back with a delay; when the runner stops, it is handed back at
// once (by handBack).
func (r *runner) finish(ctx context.Context, u *unitRun) {
	msgs, err := r.w.codec.encode(u.results, r.w.maxPayload-4096)
	if err != nil {
		r.nak(&u.heldUnit, r.cfg.NakDelay, err)
		return
	}
	subject := resultsPrefix + r.cfg.Key
	for i, data := range msgs {
		id := fmt.Sprintf("%s/%d/%d-%d", u.unit.ID, u.delivery, i+1, len(msgs))
		m := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
		m.Header.Set(hdrUnit, u.unit.ID)
		m.Header.Set(hdrEncoding, "zstd+json")
		if err := r.publish(ctx, m, id); err != nil {
			if ctx.Err() == nil {
				r.nak(&u.heldUnit, r.cfg.NakDelay, err)
			}
			return // when stopping, handBack hands it back
		}
	}
	r.ack(&u.heldUnit, len(u.results))
}

// publish sends one results message with its message id, retrying until
// it is stored, ctx ends, or 2 heartbeats passed.
func (r *runner) publish(ctx context.Context, m *nats.Msg, id string) error {
	return r.w.publishResults(ctx, m, id, r.cfg.Heartbeat)
}

// publishResults is runner.publish for any kind of scan.
func (w *worker) publishResults(ctx context.Context, m *nats.Msg, id string, heartbeat time.Duration) error {
	deadline := time.Now().Add(2 * heartbeat)
	backoff := 100 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := w.js.PublishMsg(pctx, m, jetstream.WithMsgID(id))
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("publish results %s: %w", id, err)
		}
		w.opts.Log.Debug("publish results; retrying", "id", id, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// deadLetter turns a unit that was delivered too often into internal-error
// results naming it (invalid lines stay invalid-input), through the same
// pipeline, and publishes them like any other results.
func (r *runner) deadLetter(ctx context.Context, msg jetstream.Msg, u *Unit, delivery uint64) {
	cause := fmt.Errorf("cluster: unit %s was delivered %d times (max attempts %d) without its results being published; its domains were not scanned",
		u.ID, delivery, r.cfg.MaxAttempts)
	items := make([]pipeline.Item, len(u.Items))
	for i, it := range u.Items {
		items[i] = it.pipelineItem()
	}
	ur := &unitRun{heldUnit: heldUnit{unit: u, msg: msg, delivery: delivery}}
	sink := &collectSink{}
	_, err := pipeline.RunLive(ctx, pipeline.LiveOptions{ScanID: r.cfg.ScanID, FetchWorkers: 1, DetectWorkers: 1},
		&sliceSource{items: items}, deadProber{cause}, noDetector{}, sink)
	if err != nil {
		return // stopping: the unit comes back after its ack wait
	}
	ur.results = sink.results
	r.add(&ur.heldUnit)
	r.w.opts.Log.Error("unit failed too often; stored as internal errors", "unit", u.ID, "deliveries", delivery)
	r.w.event(Event{Kind: EventUnitDead, Scan: r.cfg.Key, Unit: u.ID, Delivery: delivery, Items: len(items), Err: cause.Error()})
	r.complete(ur)
}

// fail reports a unit this worker cannot run at all (it cannot be decoded,
// or its kind or version is unknown here) to the collector, so that the
// coordinator ends the scan with an error naming it instead of waiting, and
// hands it back with a delay: the unit stays in the queue for a worker
// that can run it (or until an operator purges it), never lost silently.
// Each delivery's notice has its own id, so a restarted coordinator hears
// of the failure again.
func (r *runner) fail(ctx context.Context, msg jetstream.Msg, u *Unit, delivery uint64, cause error) {
	r.w.failUnit(ctx, r.cfg, msg, u, delivery, cause)
}

// failUnit is runner.fail for any kind of scan.
func (w *worker) failUnit(ctx context.Context, cfg ScanConfig, msg jetstream.Msg, u *Unit, delivery uint64, cause error) {
	id := ""
	if u != nil {
		id = u.ID
	}
	w.opts.Log.Error("cannot run unit", "unit", id, "delivery", delivery, "err", cause)
	m := &nats.Msg{Subject: resultsPrefix + cfg.Key, Header: nats.Header{}}
	m.Header.Set(hdrUnit, id)
	m.Header.Set(hdrFailed, cause.Error())
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := w.js.PublishMsg(pctx, m, jetstream.WithMsgID(fmt.Sprintf("failed/%s/%d", id, delivery))); err != nil {
		w.opts.Log.Warn("reporting a failed unit", "unit", id, "err", err)
	}
	_ = msg.NakWithDelay(cfg.NakDelay)
	w.event(Event{Kind: EventUnitFailed, Scan: cfg.Key, Unit: id, Delivery: delivery, Err: cause.Error()})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// deadProber gives every host of a dead-lettered unit an internal error.
type deadProber struct{ err error }

func (d deadProber) Probe(_ context.Context, host string) pipeline.Fetched {
	return pipeline.Fetched{Obs: model.Observation{Host: host}, Status: model.StatusInternalError, Err: d.err}
}

type noDetector struct{}

func (noDetector) Detect(*model.Observation) []model.Detection { return nil }

type sliceSource struct{ items []pipeline.Item }

func (s *sliceSource) Next() (pipeline.Item, error) {
	if len(s.items) == 0 {
		return pipeline.Item{}, io.EOF
	}
	it := s.items[0]
	s.items = s.items[1:]
	return it, nil
}

type collectSink struct{ results []model.Result }

func (c *collectSink) Write(_ context.Context, r model.Result) error {
	c.results = append(c.results, r)
	return nil
}
