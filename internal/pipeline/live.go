package pipeline

import (
	"context"
	"errors"
	"io"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/aicensus/aicensus/internal/model"
)

// Item is one input record of a live scan: a valid target or an invalid
// line (Err set), which still becomes a result.
type Item struct {
	Line   int    // 1-based input line
	Raw    string // the input text
	Host   string // normalised target host
	Domain string // registrable domain of Host
	Err    error  // why the line is not a valid target
}

// Source yields Items; Next returns io.EOF after the last one.
type Source interface {
	Next() (Item, error)
}

// Fetched is what a Prober learnt about one host.
type Fetched struct {
	Obs       model.Observation
	Status    model.Status
	Err       error
	Redirects []string
	// Release, if set, is called once detection is done with Obs: the
	// prober may then reuse the page and script bodies.
	Release func()
}

// Prober looks at one host (DNS, HTTP, optionally a browser). It must
// return one Fetched per call whatever happens, and return promptly when
// ctx ends.
type Prober interface {
	Probe(ctx context.Context, host string) Fetched
}

// Detector turns an observation into detections; it must be safe for
// concurrent use and keep nothing of the observation's bodies once Detect
// returns (the prober may reuse them).
type Detector interface {
	Detect(obs *model.Observation) []model.Detection
}

// Sink receives every result, from one goroutine.
type Sink interface {
	Write(ctx context.Context, r model.Result) error
}

// LiveOptions size a live scan's pools.
type LiveOptions struct {
	ScanID int64
	// FetchWorkers probe hosts concurrently (I/O bound); default 64.
	FetchWorkers int
	// DetectWorkers run the detector (CPU bound); default GOMAXPROCS.
	DetectWorkers int
	// Skip reports input lines whose result is already stored (resume).
	Skip func(line int) bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// LiveStats counts what a live scan did.
type LiveStats struct {
	Read    int // items read from the source
	Skipped int // items skipped because already stored
	Written int // results written to the sink
}

// fetchedItem travels from the fetch pool to the detect pool.
type fetchedItem struct {
	item    Item
	fetched Fetched
	start   time.Time
}

// RunLive scans every item of src: invalid lines become invalid-input
// results, valid hosts are probed by prober on FetchWorkers goroutines and
// detected by det on DetectWorkers goroutines, and every result goes to sink
// from a single goroutine. Memory is bounded by the pools and their small
// queues, whatever the input size. A panic while handling one item becomes
// that item's internal-error result.
//
// When ctx ends, reading stops, items whose probe was cut short are dropped
// (they were not completed, so a resumed scan redoes them) and RunLive
// returns ctx's error after the sink has received every completed result.
func RunLive(ctx context.Context, opts LiveOptions, src Source, prober Prober, det Detector, sink Sink) (LiveStats, error) {
	if opts.FetchWorkers <= 0 {
		opts.FetchWorkers = 64
	}
	if opts.DetectWorkers <= 0 {
		opts.DetectWorkers = runtime.GOMAXPROCS(0)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	var stats LiveStats
	// The sink keeps running until every result is in, even after ctx
	// ends, so its own context is not cancelled with the scan's.
	sinkCtx := context.WithoutCancel(ctx)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	g, gctx := errgroup.WithContext(runCtx)
	items := make(chan Item, opts.FetchWorkers)
	fetched := make(chan fetchedItem, opts.DetectWorkers*2)
	results := make(chan model.Result, opts.DetectWorkers*4)

	g.Go(func() error {
		defer close(items)
		for {
			it, err := src.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			stats.Read++
			if opts.Skip != nil && opts.Skip(it.Line) {
				stats.Skipped++
				continue
			}
			select {
			case items <- it:
			case <-gctx.Done():
				return nil
			}
		}
	})

	fetchers, _ := errgroup.WithContext(gctx)
	for range opts.FetchWorkers {
		fetchers.Go(func() error {
			for it := range items {
				if gctx.Err() != nil {
					continue // drain: the scan is stopping
				}
				start := now()
				if it.Err != nil {
					r := baseResult(opts.ScanID, it, start)
					r.Status, r.Error = model.StatusInvalidInput, it.Err.Error()
					results <- r
					continue
				}
				var f Fetched
				if err := Recover(func() error { f = prober.Probe(gctx, it.Host); return nil }); err != nil {
					r := baseResult(opts.ScanID, it, start)
					r.Status, r.Error = model.StatusInternalError, err.Error()
					results <- r
					continue
				}
				if gctx.Err() != nil {
					continue // cut short: not a result, redone on resume
				}
				fetched <- fetchedItem{item: it, fetched: f, start: start}
			}
			return nil
		})
	}
	g.Go(func() error {
		err := fetchers.Wait()
		close(fetched)
		return err
	})

	detectors, _ := errgroup.WithContext(gctx)
	for range opts.DetectWorkers {
		detectors.Go(func() error {
			for fi := range fetched {
				r := baseResult(opts.ScanID, fi.item, fi.start)
				f := &fi.fetched
				r.Status, r.URL, r.HTTPStatus, r.Redirects, r.DNS = f.Status, f.Obs.URL, f.Obs.StatusCode, f.Redirects, f.Obs.DNS
				if f.Err != nil {
					r.Error = f.Err.Error()
				}
				if err := Recover(func() error { r.Detections = det.Detect(&f.Obs); return nil }); err != nil {
					r.Status, r.Error, r.Detections = model.StatusInternalError, err.Error(), nil
				}
				if f.Release != nil {
					f.Release()
				}
				if r.Detections == nil {
					r.Detections = []model.Detection{}
				}
				r.DurationMS = now().Sub(fi.start).Milliseconds()
				results <- r
			}
			return nil
		})
	}
	g.Go(func() error {
		err := detectors.Wait()
		close(results)
		return err
	})

	var sinkErr error
	for r := range results {
		if sinkErr != nil {
			continue // drain so the pools can finish
		}
		if err := sink.Write(sinkCtx, r); err != nil {
			sinkErr = err
			stop() // no point in scanning what cannot be stored
			continue
		}
		stats.Written++
	}
	err := g.Wait()
	switch {
	case sinkErr != nil:
		return stats, sinkErr
	case err != nil:
		return stats, err
	}
	return stats, ctx.Err()
}

func baseResult(scanID int64, it Item, start time.Time) model.Result {
	r := model.Result{ScanID: scanID, Target: it.Host, Line: it.Line, Domain: it.Domain, Time: start.UTC(), Detections: []model.Detection{}}
	if it.Raw != it.Host {
		r.Input = it.Raw
	}
	if r.Target == "" {
		r.Target = it.Raw // invalid lines are stored under their text
	}
	if r.Target == "" {
		r.Target = "(empty line)"
	}
	return r
}
