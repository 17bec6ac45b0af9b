package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aicensus/aicensus/internal/dns"
	"github.com/aicensus/aicensus/internal/fetch"
	"github.com/aicensus/aicensus/internal/input"
	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/probe"
	"github.com/aicensus/aicensus/internal/progress"
	"github.com/aicensus/aicensus/internal/render"
	"github.com/aicensus/aicensus/internal/scan"
	"github.com/aicensus/aicensus/internal/store"
)

// scanOptions are the flags of `aicensus scan`.
type scanOptions struct {
	catalog      catalogOptions
	db           string
	resume       bool
	jsonOut      bool
	noProgress   bool
	column       string
	inputFormat  string
	allowIP      bool
	concurrency  int
	detectors    int
	timeout      time.Duration
	connTimeout  time.Duration
	rate         float64
	perHost      int
	perIP        int
	retries      int
	resolvers    []string
	userAgent    string
	allowPrivate bool
	allowNets    []string
	caCert       string
	portMap      string
	maxBody      int64
	scripts      int
	scriptBudget int64
	strictRobots bool
	dbMemory     string
	warc         bool
	base         string
	byHost       bool
	files        int
	render       bool
	renderTabs   int
	renderTime   time.Duration
	chromium     string
	renderSPKI   []string
	cluster      clusterOptions
}

func newScanCommand(g *globalOptions) *cobra.Command {
	o := &scanOptions{}
	def := fetch.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "scan [flags] INPUT|- | --warc ARCHIVE...",
		Short: "Scan live domains from a list, or web archives with --warc, into the store",
		Long: `Scan every domain of a list: DNS records, the home page over HTTPS (falling back
to HTTP and www.), a few linked scripts; detect technologies with their
evidence and store one result per input line in the DuckDB store.

INPUT is a file (plain list, CSV or TSV, .gz transparently) or - for stdin.
An interrupted scan (Ctrl-C, kill -9, crash) continues where it stopped when
the same command runs again (or with --resume): every input line ends up
exactly once in the results.

With --warc, the arguments are web archives: .warc/.warc.gz/.arc files,
folders, globs, - for stdin, http(s) URLs, or Common Crawl warc.paths(.gz)
lists resolved against --base. Every archived HTML response (and dns:
record) is detected on; results are one per registrable domain (or host with
--per-host) with the union of its pages' detections. Interrupted archive
scans resume from per-file checkpoints.

With --cluster, the scan runs on NATS JetStream workers (aicensus worker):
live scans in units of --unit-size lines, archive scans one unit per archive
file. See docs/cluster.md.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			limitGoMemory()
			if o.warc {
				return o.runArchive(cmd, args, g)
			}
			if len(args) != 1 {
				return usagef("scan: one INPUT list (or --warc for archives), got %d arguments", len(args))
			}
			cfg, err := o.liveConfig(args[0], cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr(), g)
			if err != nil {
				return err
			}
			sum, err := o.cluster.scan(cmd.Context(), cfg, o.catalog)
			printScanSummary(cmd.ErrOrStderr(), sum)
			return err
		},
	}
	f := cmd.Flags()
	o.catalog.addFlags(f)
	o.cluster.addFlags(f)
	f.StringVar(&o.db, "db", store.DefaultPath, "DuckDB store file")
	f.BoolVar(&o.resume, "resume", false, "continue the unfinished scan of this input (error if there is none)")
	f.BoolVar(&o.jsonOut, "json", false, "also stream every result to stdout as JSON Lines")
	f.BoolVar(&o.noProgress, "no-progress", false, "no progress bar; log progress lines instead")
	f.StringVar(&o.column, "column", "", "CSV/TSV column holding the domain or URL (name or 1-based index)")
	f.StringVar(&o.inputFormat, "input-format", "auto", "input layout: auto, plain, csv or tsv")
	f.BoolVar(&o.allowIP, "allow-ip", false, "accept IP addresses as targets")
	f.IntVar(&o.concurrency, "concurrency", 64, "hosts probed at the same time")
	f.IntVar(&o.detectors, "detect-workers", 0, "detection workers (default: number of CPUs)")
	f.DurationVar(&o.timeout, "timeout", def.TargetTimeout, "total time for one target (fallbacks, retries, scripts)")
	f.DurationVar(&o.connTimeout, "connect-timeout", def.ConnectTimeout, "time for one TCP connect")
	f.Float64Var(&o.rate, "rate", 0, "maximum new sites per second (each costs a few requests: page, robots.txt, scripts; 0: no limit)")
	f.IntVar(&o.perHost, "per-host", def.PerHost, "concurrent requests per host name")
	f.IntVar(&o.perIP, "per-ip", def.PerIP, "sites fetched at the same time per IP address (0: no limit)")
	f.IntVar(&o.retries, "retries", def.Retries, "retries of transient failures (timeouts, resets, 429, 503)")
	f.StringArrayVar(&o.resolvers, "resolver", nil, "DNS resolver ADDR[:PORT] (repeatable; default: the system's)")
	f.StringVar(&o.userAgent, "user-agent", fetch.DefaultUserAgent(), "User-Agent sent with every request")
	f.BoolVar(&o.allowPrivate, "allow-private", false, "allow connections to private, loopback and link-local addresses")
	f.StringArrayVar(&o.allowNets, "allow-net", nil, "allow one private prefix (CIDR), e.g. a test farm's 127.0.0.1/32")
	f.StringVar(&o.caCert, "ca-cert", "", "PEM file of extra CA certificates to trust (test farms)")
	f.StringVar(&o.portMap, "port-map", "", "dial other ports than 80/443, e.g. 80=8080,443=8443 (test farms)")
	f.Int64Var(&o.maxBody, "max-body", def.MaxBodyBytes, "cap on a page body in bytes, after decompression")
	f.IntVar(&o.scripts, "scripts", def.MaxScripts, "linked scripts fetched per site (0: none)")
	f.Int64Var(&o.scriptBudget, "script-budget", def.ScriptBudget, "cap on the bytes of all scripts of a site")
	f.BoolVar(&o.strictRobots, "strict-robots", false, "also apply robots.txt to the home page")
	f.StringVar(&o.dbMemory, "db-memory", scan.DefaultDBMemory, "cap on DuckDB's buffer memory during the scan")
	f.BoolVar(&o.warc, "warc", false, "the arguments are web archives (WARC/ARC files, folders, globs, URLs, warc.paths lists)")
	f.StringVar(&o.base, "base", "", "folder or http(s) URL that relative lines of warc.paths lists are resolved against")
	f.BoolVar(&o.byHost, "per-host-results", false, "with --warc: one result per host instead of per registrable domain")
	f.IntVar(&o.files, "warc-files", 0, "with --warc: archives read at the same time (default: number of CPUs)")
	rdef := render.DefaultOptions()
	f.BoolVar(&o.render, "render", false, "also load every page in headless Chromium: globals, injected DOM and requests (needs chromium)")
	f.IntVar(&o.renderTabs, "render-tabs", rdef.Tabs, "with --render: pages rendered at the same time")
	f.DurationVar(&o.renderTime, "render-timeout", rdef.PageTimeout, "with --render: time for a page to load and settle")
	f.StringVar(&o.chromium, "chromium", "", "with --render: the Chromium executable (default: chromium on PATH)")
	f.StringArrayVar(&o.renderSPKI, "render-trust-spki", nil, "with --render: accept certificates with this public key (base64 SHA-256 SPKI; test farms)")
	_ = f.MarkHidden("render-trust-spki")
	_ = f.MarkHidden("port-map")
	_ = f.MarkHidden("allow-net")
	return cmd
}

// runArchive runs `scan --warc`.
func (o *scanOptions) runArchive(cmd *cobra.Command, specs []string, g *globalOptions) error {
	det, err := o.catalog.detector()
	if err != nil {
		return err
	}
	cfg := scan.ArchiveConfig{
		Specs: specs, Base: o.base, Stdin: cmd.InOrStdin(), DB: o.db, DBMemory: o.dbMemory,
		Detector: det, PerHost: o.byHost, Files: o.files, Workers: o.detectors, Resume: o.resume,
		Log: stderrLogger(g), ToolVersion: toolVersion(),
		Options: map[string]any{"warc": specs, "base": o.base, "per_host_results": o.byHost, "catalogs": o.catalog.paths,
			"no_ai_catalog": o.catalog.noEmbedded, "min_confidence": o.catalog.minConfidence},
	}
	if !o.noProgress && progress.IsTerminal(cmd.ErrOrStderr()) {
		cfg.Progress = cmd.ErrOrStderr()
	}
	sum, err := o.cluster.scanArchive(cmd.Context(), cfg, o.catalog)
	printArchiveSummary(cmd.ErrOrStderr(), sum)
	return err
}

// printArchiveSummary writes what an archive scan read and stored.
func printArchiveSummary(w io.Writer, sum scan.ArchiveSummary) {
	if sum.ScanID == 0 {
		return
	}
	verb := "archive scan"
	if sum.Resumed {
		verb = "resumed archive scan"
	}
	fmt.Fprintf(w, "%s %d: %d archives (%d already read), %d records, %d pages detected, %d results in %s\n",
		verb, sum.ScanID, sum.Sources, sum.Skipped, sum.Stats.RecordTotal(), sum.Pages, sum.Final.Results, sum.Elapsed.Round(time.Millisecond))
	if n := sum.Stats.ProblemTotal(); n > 0 {
		fmt.Fprintf(w, "  broken input skipped: %d (", n)
		kinds := make([]string, 0, len(sum.Stats.Problems))
		for k, c := range sum.Stats.Problems {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, c))
		}
		sort.Strings(kinds)
		fmt.Fprintf(w, "%s)\n", strings.Join(kinds, ", "))
	}
	if len(sum.BadLines) > 0 {
		fmt.Fprintf(w, "  %d paths-list lines skipped\n", len(sum.BadLines))
	}
	printStatuses(w, sum.Statuses)
}

// liveConfig validates the flags into a scan configuration.
func (o *scanOptions) liveConfig(in string, stdin io.Reader, stdout, stderr io.Writer, g *globalOptions) (scan.LiveConfig, error) {
	var cfg scan.LiveConfig
	format, err := input.ParseFormat(o.inputFormat)
	if err != nil {
		return cfg, usageError{err}
	}
	fo := fetch.DefaultOptions()
	fo.UserAgent, fo.TargetTimeout, fo.ConnectTimeout = o.userAgent, o.timeout, o.connTimeout
	// Per-IP and rate limits are applied before a site starts (internal/probe),
	// so that waiting for them is never mistaken for a slow site; the fetcher
	// keeps a per-IP cap of its own for connections to other addresses.
	fo.PerHost, fo.PerIP, fo.Retries = o.perHost, 2*o.perIP, o.retries
	fo.AllowPrivate, fo.MaxBodyBytes, fo.MaxScripts, fo.ScriptBudget = o.allowPrivate, o.maxBody, o.scripts, o.scriptBudget
	fo.StrictRobots = o.strictRobots
	if o.retries == 0 {
		fo.Retries = -1
	}
	if o.scripts == 0 {
		fo.MaxScripts = -1
	}
	for _, n := range o.allowNets {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			return cfg, usagef("--allow-net %q: %v", n, err)
		}
		fo.Allow = append(fo.Allow, p)
	}
	if o.caCert != "" {
		pem, err := os.ReadFile(o.caCert)
		if err != nil {
			return cfg, usagef("--ca-cert: %v", err)
		}
		fo.ExtraRootsPEM = pem
	}
	if o.portMap != "" {
		if fo.PortMap, err = parsePortMap(o.portMap); err != nil {
			return cfg, usagef("--port-map: %v", err)
		}
	}
	det, err := o.catalog.detector()
	if err != nil {
		return cfg, err
	}
	log := stderrLogger(g)
	cfg = scan.LiveConfig{
		Input: in, Stdin: stdin, DB: o.db, DBMemory: o.dbMemory, Detector: det, Fetch: fo,
		InputOptions: input.Options{Format: format, Column: o.column, NormalizeOptions: input.NormalizeOptions{AllowIP: o.allowIP}},
		// A scan asks each name once or twice (records, then the fetch's
		// address lookup): a small cache serves that and shared apexes.
		DNS:          dns.Config{Servers: o.resolvers, CacheSize: 20000},
		Probe:        probe.Options{PerIP: o.perIP, SitesPerSecond: o.rate},
		FetchWorkers: o.concurrency, DetectWorkers: o.detectors, Resume: o.resume,
		Log: log, ToolVersion: toolVersion(), Options: o.recorded(),
	}
	if o.jsonOut {
		cfg.JSON = stdout
	}
	if o.render {
		ro := render.DefaultOptions()
		ro.Tabs, ro.PageTimeout, ro.ExecPath, ro.TrustSPKI = o.renderTabs, o.renderTime, o.chromium, o.renderSPKI
		cfg.Render = &ro
	}
	if !o.noProgress && progress.IsTerminal(stderr) {
		cfg.Progress = stderr
	}
	return cfg, nil
}

// scanGoMemory is the Go runtime's soft memory limit during scans unless
// GOMEMLIMIT says otherwise: the garbage collector then keeps the heap near
// its live size instead of letting it grow to twice that, so a scan's
// footprint stays flat for any input size (DuckDB's own memory is capped
// separately with --db-memory).
const scanGoMemory = 192 << 20

func limitGoMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(scanGoMemory)
	}
}

// recorded is what the scans table keeps of the options.
func (o *scanOptions) recorded() map[string]any {
	return map[string]any{
		"catalogs": o.catalog.paths, "no_ai_catalog": o.catalog.noEmbedded, "min_confidence": o.catalog.minConfidence,
		"column": o.column, "input_format": o.inputFormat, "concurrency": o.concurrency, "timeout": o.timeout.String(),
		"rate": o.rate, "per_host": o.perHost, "per_ip": o.perIP, "resolvers": o.resolvers, "user_agent": o.userAgent,
		"allow_private": o.allowPrivate, "allow_net": o.allowNets, "max_body": o.maxBody, "scripts": o.scripts,
		"strict_robots": o.strictRobots,
	}
}

func parsePortMap(s string) (map[int]int, error) {
	m := map[int]int{}
	for _, part := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			a, b, ok = strings.Cut(part, ":")
		}
		from, err1 := strconv.Atoi(a)
		to, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%q: want FROM=TO", part)
		}
		m[from] = to
	}
	return m, nil
}

// printScanSummary writes the counts by status after a scan.
func printScanSummary(w io.Writer, sum scan.Summary) {
	if sum.ScanID == 0 {
		return
	}
	verb := "scan"
	if sum.Resumed {
		verb = "resumed scan"
	}
	fmt.Fprintf(w, "%s %d: %d results written, %d already stored, %d input lines (%d invalid, %d duplicates) in %s\n",
		verb, sum.ScanID, sum.Written, sum.Skipped, sum.Input.Lines, sum.Input.Invalid, sum.Input.Duplicates, sum.Elapsed.Round(time.Millisecond))
	printStatuses(w, sum.Statuses)
}

// printStatuses lists result counts by status, most frequent first.
func printStatuses(w io.Writer, counts map[model.Status]int64) {
	var statuses []model.Status
	for s := range counts {
		statuses = append(statuses, s)
	}
	sort.Slice(statuses, func(i, j int) bool {
		return counts[statuses[i]] > counts[statuses[j]] || counts[statuses[i]] == counts[statuses[j]] && statuses[i] < statuses[j]
	})
	for _, s := range statuses {
		fmt.Fprintf(w, "  %-20s %d\n", s, counts[s])
	}
}
