package cluster

import (
	"context"
	"fmt"
	"log/slog"

	"golang.org/x/sync/errgroup"

	"github.com/aicensus/aicensus/internal/detect"
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
	var sum scan.Summary
	err := runEmbedded(ctx, run, opts.Live.Detector, opts.Live.Log, func(url string) error {
		opts.URL = url
		var err error
		sum, err = Scan(ctx, opts)
		return err
	})
	return sum, err
}

// ScanArchiveEmbedded runs a whole archive scan on an in-process cluster
// (`scan --warc --cluster embedded`), as ScanEmbedded does for live scans.
// opts.URL is ignored.
func ScanArchiveEmbedded(ctx context.Context, opts ArchiveScanOptions, run EmbeddedRun) (scan.ArchiveSummary, error) {
	var sum scan.ArchiveSummary
	err := runEmbedded(ctx, run, opts.Archive.Detector, opts.Archive.Log, func(url string) error {
		opts.URL = url
		var err error
		sum, err = ScanArchive(ctx, opts)
		return err
	})
	return sum, err
}

// runEmbedded starts the server and the workers, runs coordinate with the
// server's URL, then stops the workers and the server.
func runEmbedded(ctx context.Context, run EmbeddedRun, det *detect.Detector, log *slog.Logger, coordinate func(url string) error) error {
	if run.Workers <= 0 {
		run.Workers = 2
	}
	srv, err := StartEmbedded(run.Server)
	if err != nil {
		return err
	}
	defer srv.Shutdown()
	if log != nil {
		log.Info("embedded NATS server", "url", srv.URL(), "store", srv.Dir(), "workers", run.Workers)
	}
	wctx, stopWorkers := context.WithCancel(ctx)
	var g errgroup.Group
	for i := range run.Workers {
		g.Go(func() error {
			return RunWorker(wctx, WorkerOptions{
				URL: srv.URL(), Name: fmt.Sprintf("embedded-%d", i+1), Detector: det,
				Log: log, Events: run.Events,
			})
		})
	}
	err = coordinate(srv.URL())
	stopWorkers()
	if werr := g.Wait(); err == nil {
		err = werr
	}
	return err
}
