package cluster

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/aicensus/aicensus/internal/scan"
)

// EmbeddedRun configures ScanEmbedded.
type EmbeddedRun struct {
	// Workers is how many in-process workers run the units (default 2).
	// Workers in other processes may join through the server's URL, which
	// is logged.
	Workers int
	// Server configures the in-process NATS server.
	Server EmbeddedOptions
	// Events receives the in-process workers' events (optional).
	Events func(Event)
}

// ScanEmbedded runs a whole cluster scan in this process (`--cluster
// embedded`): a NATS server with JetStream, the coordinator with its
// collector, and Workers workers, each with its own pools
// (opts.Live.FetchWorkers fetchers). opts.URL is ignored.
func ScanEmbedded(ctx context.Context, opts ScanOptions, run EmbeddedRun) (scan.Summary, error) {
	if run.Workers <= 0 {
		run.Workers = 2
	}
	srv, err := StartEmbedded(run.Server)
	if err != nil {
		return scan.Summary{}, err
	}
	defer srv.Shutdown()
	opts.URL = srv.URL()
	if opts.Live.Log != nil {
		opts.Live.Log.Info("embedded NATS server", "url", srv.URL(), "store", srv.Dir(), "workers", run.Workers)
	}
	wctx, stopWorkers := context.WithCancel(ctx)
	var g errgroup.Group
	for i := range run.Workers {
		g.Go(func() error {
			return RunWorker(wctx, WorkerOptions{
				URL: srv.URL(), Name: fmt.Sprintf("embedded-%d", i+1), Detector: opts.Live.Detector,
				Log: opts.Live.Log, Events: run.Events,
			})
		})
	}
	sum, err := Scan(ctx, opts)
	stopWorkers()
	if werr := g.Wait(); err == nil {
		err = werr
	}
	return sum, err
}
