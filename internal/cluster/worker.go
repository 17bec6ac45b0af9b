package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/store"
)

// WorkerOptions configure RunWorker. Only URL is required: everything about
// a scan comes with the scan (ScanConfig); the other fields are local
// overrides.
type WorkerOptions struct {
	// URL of the cluster, e.g. nats://nats-0:4222,nats://nats-1:4222.
	URL string
	// Name identifies the worker in logs and events (default host-pid).
	Name string
	// FetchWorkers and DetectWorkers size this worker's pools (0: the
	// coordinator's values).
	FetchWorkers, DetectWorkers int
	// CatalogPaths, when not nil, replace the scan's --catalog paths
	// (catalog files kept elsewhere on this machine); the resulting catalog
	// version must still be the scan's.
	CatalogPaths []string
	// Resolvers, when not nil, replace the scan's DNS servers.
	Resolvers []string
	// Detector, when set and built from the scan's catalog version, is used
	// instead of rebuilding one (in-process workers of `--cluster
	// embedded`).
	Detector *detect.Detector
	// Log receives diagnostics (nil: none).
	Log *slog.Logger
	// Events, when set, is called for every unit and scan event, from
	// several goroutines.
	Events func(Event)

	// bucketPoll is how often a worker looks for the scans bucket while
	// it does not exist (default 1 s); tests make it long to check that
	// the server's advisory alone wakes the worker.
	bucketPoll time.Duration
}

// EventKind names a worker event.
type EventKind string

// Worker events.
const (
	EventScanStart   EventKind = "scan-start"   // the worker took up a scan
	EventScanRefused EventKind = "scan-refused" // the worker cannot run a scan (Err says why)
	EventUnitStart   EventKind = "unit-start"   // a unit was received
	EventUnitDone    EventKind = "unit-done"    // its results are published and it was acked
	EventUnitNak     EventKind = "unit-nak"     // it was handed back (shutdown or transient failure)
	EventUnitDead    EventKind = "unit-dead"    // delivery > MaxAttempts: internal-error results
	EventUnitFailed  EventKind = "unit-failed"  // it cannot be run here (Err says why); handed back with a delay
)

// Event is something a worker did, for logs, tests and metrics.
type Event struct {
	Kind     EventKind `json:"kind"`
	Worker   string    `json:"worker"`
	Scan     string    `json:"scan"`
	Unit     string    `json:"unit,omitempty"`
	Delivery uint64    `json:"delivery,omitempty"`
	Items    int       `json:"items,omitempty"`
	Err      string    `json:"err,omitempty"`
}

// RunWorker runs units of every scan on the cluster until ctx ends, then
// hands back (naks) the units it holds and returns nil. It follows the
// scans bucket: a scan appearing starts a runner (unless its catalog cannot
// be reproduced here: then it logs why and leaves the scan's units to other
// workers), a scan disappearing (finished) stops it.
func RunWorker(ctx context.Context, opts WorkerOptions) error {
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Name == "" {
		host, _ := os.Hostname()
		opts.Name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	nc, js, err := connect(ctx, opts.URL, "aicensus worker "+opts.Name, opts.Log)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer nc.Close()
	cd, err := newCodec()
	if err != nil {
		return err
	}
	defer cd.close()
	w := &worker{opts: opts, js: js, codec: cd, maxPayload: int(nc.MaxPayload()), runners: map[string]*runnerHandle{}, detectors: map[string]*detect.Detector{}}
	defer w.stopAll()
	return w.follow(ctx)
}

type worker struct {
	opts       WorkerOptions
	js         jetstream.JetStream
	codec      *codec
	maxPayload int

	g         errgroup.Group
	runners   map[string]*runnerHandle    // by scan key; owned by follow
	detectors map[string]*detect.Detector // by catalog spec; owned by follow
}

// detector returns the detector of a scan's catalog, built once per
// catalog spec for the worker's life (a detector is immutable).
func (w *worker) detector(spec CatalogSpec) (*detect.Detector, error) {
	if d := w.opts.Detector; d != nil && d.Catalog().Version() == spec.Version {
		return d, nil
	}
	b, _ := json.Marshal(struct {
		Spec  CatalogSpec
		Local []string
	}{spec, w.opts.CatalogPaths})
	if d, ok := w.detectors[string(b)]; ok {
		return d, nil
	}
	d, err := spec.Detector(w.opts.CatalogPaths)
	if err != nil {
		return nil, err
	}
	w.detectors[string(b)] = d
	return d, nil
}

// bucketCreatedSubject is the JetStream advisory the server publishes when
// the scans bucket's stream is created.
const bucketCreatedSubject = "$JS.EVENT.ADVISORY.STREAM.CREATED.KV_" + ScansBucket

type runnerHandle struct {
	value  []byte             // the configuration it runs
	cancel context.CancelFunc // nil when refused
}

func (w *worker) event(e Event) {
	e.Worker = w.opts.Name
	if w.opts.Events != nil {
		w.opts.Events(e)
	}
}

// follow watches the scans bucket, recreating the watch after errors (a
// NATS restart), until ctx ends. While the bucket does not exist (workers
// started before any coordinator), the server's advisory that it was
// created wakes the worker at once; polling is the fallback for servers
// that do not let it subscribe to advisories.
func (w *worker) follow(ctx context.Context) error {
	poll := w.opts.bucketPoll
	if poll <= 0 {
		poll = time.Second
	}
	created := make(chan struct{}, 1)
	sub, err := w.js.Conn().Subscribe(bucketCreatedSubject, func(*nats.Msg) {
		select {
		case created <- struct{}{}:
		default:
		}
	})
	if err == nil {
		defer sub.Unsubscribe()
		_ = w.js.Conn().Flush() // subscribed before the first look
	} else {
		w.opts.Log.Debug("no advisories; polling for the scans bucket", "err", err)
	}
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		kv, err := w.js.KeyValue(ctx, ScansBucket)
		if err == nil {
			err = w.watch(ctx, kv)
		}
		if ctx.Err() != nil {
			break
		}
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			w.opts.Log.Debug("no scans yet; waiting for a coordinator")
			backoff = poll
		} else if err != nil {
			w.opts.Log.Warn("watching scans", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-created:
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	return nil
}

func (w *worker) watch(ctx context.Context, kv jetstream.KeyValue) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watcher, err := kv.WatchAll(wctx)
	if err != nil {
		return err
	}
	defer watcher.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-watcher.Updates():
			if !ok {
				return errors.New("scans watch ended")
			}
			if e != nil {
				w.update(ctx, e)
			}
		}
	}
}

// update starts, restarts or stops the runner of one scan.
func (w *worker) update(ctx context.Context, e jetstream.KeyValueEntry) {
	key := e.Key()
	old, had := w.runners[key]
	if had && e.Operation() == jetstream.KeyValuePut && bytes.Equal(old.value, e.Value()) {
		return // the same configuration put again (a coordinator restart)
	}
	if had {
		if old.cancel != nil {
			old.cancel()
		}
		delete(w.runners, key)
	}
	if e.Operation() != jetstream.KeyValuePut {
		if had {
			w.opts.Log.Info("scan finished; runner stopped", "scan", key)
		}
		return
	}
	h := &runnerHandle{value: e.Value()}
	w.runners[key] = h
	cfg, err := decodeScanConfig(e.Value())
	var r scanRunner
	if err == nil {
		r, err = w.newScanRunner(ctx, cfg)
	}
	if err != nil {
		w.opts.Log.Error("refusing scan", "scan", key, "err", err)
		w.event(Event{Kind: EventScanRefused, Scan: key, Err: err.Error()})
		return
	}
	rctx, cancel := context.WithCancel(ctx)
	h.cancel = cancel
	w.opts.Log.Info("running scan", "scan", key, "scan_id", cfg.ScanID, "catalog", cfg.Catalog.Version)
	w.event(Event{Kind: EventScanStart, Scan: key})
	w.g.Go(func() error {
		defer r.close()
		if err := r.run(rctx); err != nil && rctx.Err() == nil {
			w.opts.Log.Error("scan runner failed", "scan", key, "err", err)
		}
		return nil
	})
}

// scanRunner runs one scan's units on this worker until ctx ends.
type scanRunner interface {
	run(ctx context.Context) error
	close()
}

// newScanRunner starts the runner of the scan's kind.
func (w *worker) newScanRunner(ctx context.Context, cfg ScanConfig) (scanRunner, error) {
	if cfg.Kind == store.KindWARC {
		return w.newArchiveRunner(ctx, cfg)
	}
	return w.newRunner(ctx, cfg)
}

func (w *worker) stopAll() {
	for _, h := range w.runners {
		if h.cancel != nil {
			h.cancel()
		}
	}
	w.g.Wait()
}
