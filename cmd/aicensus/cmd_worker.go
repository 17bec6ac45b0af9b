package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/aicensus/aicensus/internal/cluster"
	"github.com/aicensus/aicensus/internal/scan"
	"github.com/aicensus/aicensus/internal/store"
)

// clusterOptions are the flags `aicensus scan` gets for running on a
// cluster (docs/cluster.md).
type clusterOptions struct {
	url         string
	workers     int
	unitSize    int
	parquet     string
	dir         string
	replicas    int
	ackWait     time.Duration
	maxAttempts int
	flags       *pflag.FlagSet
}

func (c *clusterOptions) addFlags(f *pflag.FlagSet) {
	c.flags = f
	def := cluster.DefaultSettings()
	f.StringVar(&c.url, "cluster", "", "run on a NATS JetStream cluster, nats://HOST:4222[,nats://...], or \"embedded\" for an in-process server and workers")
	f.IntVar(&c.workers, "workers", 2, "with --cluster embedded: in-process workers")
	f.IntVar(&c.unitSize, "unit-size", cluster.DefaultUnitSize, "with --cluster: input lines per work unit")
	f.StringVar(&c.parquet, "parquet", "", "with --cluster: write results as Parquet files into this folder instead of the store")
	f.StringVar(&c.dir, "cluster-dir", "", "with --cluster embedded: JetStream's store folder (default: a temporary one)")
	f.IntVar(&c.replicas, "cluster-replicas", def.Replicas, "with --cluster: stream replicas when creating them (3 on a 3-node cluster)")
	f.DurationVar(&c.ackWait, "unit-ack-wait", def.AckWait, "with --cluster: time a silent worker may hold a unit before it is redelivered")
	f.IntVar(&c.maxAttempts, "unit-attempts", def.MaxAttempts, "with --cluster: deliveries of a unit before its lines become internal-error results")
}

// scan runs cfg on one machine, or on the cluster when --cluster is set.
func (c *clusterOptions) scan(ctx context.Context, cfg scan.LiveConfig, cat catalogOptions) (scan.Summary, error) {
	if c.url == "" {
		if err := c.unused(); err != nil {
			return scan.Summary{}, err
		}
		return scan.Live(ctx, cfg)
	}
	if cfg.Input == "-" {
		return scan.Summary{}, usagef("--cluster needs an input file: it is read twice, stdin cannot be")
	}
	if c.unitSize < 1 {
		return scan.Summary{}, usagef("--unit-size, --workers and --unit-attempts must be at least 1")
	}
	spec, settings, err := c.common(cat)
	if err != nil {
		return scan.Summary{}, err
	}
	opts := cluster.ScanOptions{Live: cfg, Catalog: spec, URL: c.url, UnitSize: c.unitSize, Parquet: c.parquet, Settings: settings}
	if c.url == "embedded" {
		return cluster.ScanEmbedded(ctx, opts, cluster.EmbeddedRun{Workers: c.workers, Server: cluster.EmbeddedOptions{Dir: c.dir}})
	}
	return cluster.Scan(ctx, opts)
}

// scanArchive runs an archive scan (`scan --warc`) on one machine, or on
// the cluster when --cluster is set: one unit per archive file.
func (c *clusterOptions) scanArchive(ctx context.Context, cfg scan.ArchiveConfig, cat catalogOptions) (scan.ArchiveSummary, error) {
	if c.url == "" {
		if err := c.unused(); err != nil {
			return scan.ArchiveSummary{}, err
		}
		return scan.Archive(ctx, cfg)
	}
	for _, name := range []string{"unit-size", "parquet"} {
		if c.flags != nil && c.flags.Changed(name) {
			return scan.ArchiveSummary{}, usagef("--%s is for live scans: an archive scan's unit is one archive file, and its pages go to the store", name)
		}
	}
	for _, s := range cfg.Specs {
		if s == "-" {
			return scan.ArchiveSummary{}, usagef("--cluster cannot read archives from stdin: give files, folders, URLs or warc.paths lists")
		}
	}
	spec, settings, err := c.common(cat)
	if err != nil {
		return scan.ArchiveSummary{}, err
	}
	opts := cluster.ArchiveScanOptions{Archive: cfg, Catalog: spec, URL: c.url, Settings: settings}
	if c.url == "embedded" {
		return cluster.ScanArchiveEmbedded(ctx, opts, cluster.EmbeddedRun{Workers: c.workers, Server: cluster.EmbeddedOptions{Dir: c.dir}})
	}
	return cluster.ScanArchive(ctx, opts)
}

// unused refuses cluster flags without --cluster.
func (c *clusterOptions) unused() error {
	for _, name := range []string{"workers", "unit-size", "parquet", "cluster-dir", "cluster-replicas", "unit-ack-wait", "unit-attempts"} {
		if c.flags != nil && c.flags.Changed(name) {
			return usagef("--%s needs --cluster", name)
		}
	}
	return nil
}

// common checks the flags both kinds of cluster scan share and builds the
// catalog spec workers rebuild the detector from, and the settings.
func (c *clusterOptions) common(cat catalogOptions) (cluster.CatalogSpec, cluster.Settings, error) {
	var settings cluster.Settings
	spec := cluster.CatalogSpec{NoEmbedded: cat.noEmbedded, MinConfidence: cat.minConfidence}
	if c.workers < 1 || c.maxAttempts < 1 {
		return spec, settings, usagef("--unit-size, --workers and --unit-attempts must be at least 1")
	}
	if c.url != "embedded" && c.flags != nil && (c.flags.Changed("workers") || c.flags.Changed("cluster-dir")) {
		return spec, settings, usagef("--workers and --cluster-dir are for --cluster embedded; start `aicensus worker --cluster %s` on the worker machines", c.url)
	}
	if spec.MinConfidence == 0 {
		spec.MinConfidence = -1 // as catalogOptions.detector does
	}
	for _, p := range cat.paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return spec, settings, err
		}
		spec.Paths = append(spec.Paths, abs)
	}
	settings = cluster.Settings{Replicas: c.replicas, AckWait: c.ackWait, MaxAttempts: c.maxAttempts}
	return spec, settings, nil
}

// workerOptions are the flags of `aicensus worker`.
type workerOptions struct {
	url         string
	name        string
	concurrency int
	detectors   int
	catalogs    []string
	resolvers   []string
}

func newWorkerCommand(g *globalOptions) *cobra.Command {
	o := &workerOptions{}
	cmd := &cobra.Command{
		Use:   "worker --cluster nats://HOST:4222",
		Short: "Run work units of cluster scans (any number of machines)",
		Long: `Take work units of every scan started with ` + "`aicensus scan --cluster URL`" + ` from the
NATS JetStream cluster, probe and detect them exactly as a single-machine scan
does, publish their results and acknowledge them. Everything about a scan
(catalog version, fetch and DNS options) comes from the scan itself; the flags
here are local overrides. A worker refuses a scan whose catalog it cannot
rebuild to the same version (it logs both versions). Stop it with Ctrl-C or
SIGTERM: the units it holds go back to the queue at once. See docs/cluster.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.url == "" || o.url == "embedded" {
				return usagef("--cluster nats://HOST:4222 is required (the cluster's address)")
			}
			wo := cluster.WorkerOptions{URL: o.url, Name: o.name, FetchWorkers: o.concurrency, DetectWorkers: o.detectors, Log: stderrLogger(g)}
			if cmd.Flags().Changed("catalog") {
				wo.CatalogPaths = o.catalogs
			}
			if cmd.Flags().Changed("resolver") {
				wo.Resolvers = o.resolvers
			}
			return cluster.RunWorker(cmd.Context(), wo)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "cluster", "", "the cluster: nats://HOST:4222[,nats://HOST2:4222,...]")
	f.StringVar(&o.name, "name", "", "worker name in logs (default host-pid)")
	f.IntVar(&o.concurrency, "concurrency", 0, "hosts probed at the same time (default: the scan's --concurrency)")
	f.IntVar(&o.detectors, "detect-workers", 0, "detection workers (default: the scan's, or the number of CPUs)")
	f.StringArrayVar(&o.catalogs, "catalog", nil, "the scan's --catalog files at other paths on this machine (repeatable)")
	f.StringArrayVar(&o.resolvers, "resolver", nil, "DNS resolvers of this machine instead of the scan's (repeatable)")
	cmd.AddCommand(newImportParquetCommand(g))
	return cmd
}

func newImportParquetCommand(g *globalOptions) *cobra.Command {
	var db string
	var scanID int64
	cmd := &cobra.Command{
		Use:   "import-parquet DIR",
		Short: "Import a cluster scan's Parquet folder (scan --parquet) into the store",
		Long: `Read the Parquet files a cluster scan with --parquet wrote and store their
results in the DuckDB store, so that report and export see them. The results go
into the scan of the same id when the store has it (the coordinator's store),
otherwise into a new scan. Importing twice stores every target once.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImportParquet(cmd.Context(), db, args[0], scanID, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&db, "db", store.DefaultPath, "DuckDB store file")
	cmd.Flags().Int64Var(&scanID, "scan", 0, "the scan id in the folder (needed when it holds several)")
	return cmd
}

func runImportParquet(ctx context.Context, db, dir string, scanID int64, out io.Writer) (err error) {
	ids, err := cluster.ParquetScans(dir)
	if err != nil {
		return err
	}
	switch {
	case scanID == 0 && len(ids) == 1:
		scanID = ids[0]
	case scanID == 0 && len(ids) == 0:
		return fmt.Errorf("import %s: no scan<ID>-*.parquet files", dir)
	case scanID == 0:
		return usagef("%s holds scans %v: choose one with --scan", dir, ids)
	}
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	target := scanID
	if sc, err := st.Scan(ctx, scanID); errors.Is(err, store.ErrNotFound) || err == nil && sc.Kind != store.KindLive {
		created, err := st.CreateScan(ctx, store.ScanSpec{Kind: store.KindLive, Input: "parquet:" + dir, ToolVersion: toolVersion()})
		if err != nil {
			return err
		}
		target = created.ID
		defer func() {
			if err == nil {
				err = st.SetScanState(ctx, target, store.ScanDone)
			}
		}()
	} else if err != nil {
		return err
	}
	n, err := cluster.ImportParquet(ctx, st, dir, scanID, target)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "imported %d results of scan %d from %s into scan %d of %s\n", n, scanID, dir, target, db)
	return nil
}
