package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/supply/github"
	"github.com/aicensus/aicensus/internal/supply/hf"
	"github.com/aicensus/aicensus/internal/supply/result"
	"github.com/aicensus/aicensus/internal/supply/supplydb"
)

// supplyOutput are the output and storage flags of supply, deps and agents.
type supplyOutput struct {
	format  string
	db      string
	noStore bool
}

func (o *supplyOutput) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "table", "output format: table, json or csv")
	f.StringVar(&o.db, "db", store.DefaultPath, "store file the results are saved in (tables supply_runs, supply_metrics)")
	f.BoolVar(&o.noStore, "no-store", false, "do not save the results")
}

// supplyRun is one finished computation to print and store.
type supplyRun struct {
	command string
	inputs  []string
	params  any
	report  any
	rows    []result.Row
	started time.Time
}

// emit prints run in the chosen format and saves it unless --no-store.
func (o *supplyOutput) emit(ctx context.Context, w io.Writer, log *slog.Logger, run supplyRun) error {
	format, err := result.ParseFormat(o.format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	if err := result.Write(w, format, run.report, run.rows); err != nil {
		return err
	}
	if o.noStore {
		return nil
	}
	s, err := store.Open(ctx, o.db, store.Options{})
	if err != nil {
		return fmt.Errorf("%s: store: %w", run.command, err)
	}
	defer s.Close()
	id, err := supplydb.Save(ctx, s.DB(), supplydb.Run{Command: run.command, Inputs: run.inputs, Params: run.params,
		Report: run.report, Rows: run.rows, StartedAt: run.started, EndedAt: time.Now()})
	if err != nil {
		return fmt.Errorf("%s: save: %w", run.command, err)
	}
	log.Info("saved", "command", run.command, "run", id, "db", o.db, "rows", len(run.rows))
	return nil
}

func newSupplyCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "supply",
		Short: "Measure the supply of open-source AI: Hugging Face models and GitHub repositories",
		Long: `Supply metrics computed from raw public metadata, every definition stated
(see docs/supply.md):

  supply hf      download concentration of Hugging Face models
  supply github  AI repositories by topic, share at 10+ stars, counts by year`,
	}
	cmd.AddCommand(newSupplyHFCommand(g), newSupplyGitHubCommand(g))
	return cmd
}

// supplyHFConfig is what `aicensus supply hf` was asked to do.
type supplyHFConfig struct {
	out             supplyOutput
	below           []int64
	top             []float64
	lorenzPoints    int
	excludeDisabled bool
	retries         int
	maxPages        int
}

func newSupplyHFCommand(g *globalOptions) *cobra.Command {
	var cfg supplyHFConfig
	cmd := &cobra.Command{
		Use:   "hf FILE|URL...",
		Short: "Download concentration of Hugging Face models (hub-stats Parquet, /api/models JSON)",
		Long: `Reads model metadata from hub-stats style Parquet files (or globs), JSON dumps
of /api/models pages, or https URLs of /api/models (following Link: rel="next",
with retries), and reports per download field (downloadsAllTime = since
creation, downloads = last 30 days, never mixed) and per universe (models;
authors with their models' sum): models, share_below k, top_share p, gini,
hhi, lorenz points, and uploads per quarter (the 2022-03-02T23:29:04
placeholder date excluded).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSupplyHF(cmd.Context(), cfg, args, cmd.OutOrStdout(), stderrLogger(g))
		},
	}
	d := hf.DefaultConfig()
	f := cmd.Flags()
	f.Int64SliceVar(&cfg.below, "below", d.Below, "thresholds k of share_below (x < k)")
	f.Float64SliceVar(&cfg.top, "top", d.TopP, "fractions p of top_share (0.0001 = top 0.01%)")
	f.IntVar(&cfg.lorenzPoints, "lorenz-points", d.LorenzPoints, "Lorenz curve intervals")
	f.BoolVar(&cfg.excludeDisabled, "exclude-disabled", false, "drop models flagged disabled (variant universe)")
	f.IntVar(&cfg.retries, "retries", 5, "retries per API page (429, 5xx, network errors)")
	f.IntVar(&cfg.maxPages, "max-pages", 10000, "stop after this many API pages")
	cfg.out.addFlags(cmd)
	return cmd
}

func runSupplyHF(ctx context.Context, cfg supplyHFConfig, inputs []string, w io.Writer, log *slog.Logger) error {
	started := time.Now()
	for _, p := range cfg.top {
		if p <= 0 || p > 1 {
			return usagef("--top: %v is not in (0, 1]", p)
		}
	}
	l := &hf.Loader{Fetcher: &hf.Fetcher{MaxRetries: cfg.retries, MaxPages: cfg.maxPages, UserAgent: "aicensus (+https://github.com/aicensus/aicensus)"}}
	if cfg.retries == 0 {
		l.Fetcher.MaxRetries = -1
	}
	models, ins, dups, err := l.Load(ctx, inputs)
	if err != nil {
		return fmt.Errorf("supply hf: %w", err)
	}
	for _, in := range ins {
		log.Info("loaded", "source", in.Source, "format", in.Format, "models", in.Models, "skipped", in.Skipped, "pages", in.Pages)
	}
	hcfg := hf.Config{Below: cfg.below, TopP: cfg.top, LorenzPoints: cfg.lorenzPoints, ExcludeDisabled: cfg.excludeDisabled}
	rep := hf.Compute(models, hcfg)
	type report struct {
		Inputs     []hf.Input `json:"inputs"`
		Duplicates int        `json:"duplicates_dropped"`
		hf.Report
	}
	return cfg.out.emit(ctx, w, log, supplyRun{command: "supply hf", inputs: inputs, params: hcfg,
		report: report{Inputs: ins, Duplicates: dups, Report: rep}, rows: rep.Rows(), started: started})
}

// supplyGitHubConfig is what `aicensus supply github` was asked to do.
type supplyGitHubConfig struct {
	out            supplyOutput
	minStars       int64
	topicsFile     string
	seedOnly       bool
	expandMinRepos int
	expandRatio    float64
	columns        []string
	gharchive      []string
	starsUntil     string
}

func newSupplyGitHubCommand(g *globalOptions) *cobra.Command {
	var cfg supplyGitHubConfig
	cmd := &cobra.Command{
		Use:   "github FILE...",
		Short: "AI repositories by topic, share at 10+ stars, counts by year",
		Long: `Reads repository metadata (JSON lines, CSV or Parquet; .gz allowed) with the
columns full_name, topics, stars, created_at, fork, archived, language (common
aliases such as stargazers_count, nameWithOwner, repo_url are recognised;
--column maps others). Forks are excluded, archived repositories kept. A
repository is AI when one of its topics is in the classifier: the seed topics
machine-learning, deep-learning, artificial-intelligence plus the expansion
set of docs/supply.md, or the topics of --topics, optionally grown by topic
co-occurrence (--expand-min-repos). With --gharchive, stars are the count of
WatchEvents per repository instead (an upper bound).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSupplyGitHub(cmd.Context(), cfg, args, cmd.OutOrStdout(), stderrLogger(g))
		},
	}
	f := cmd.Flags()
	f.Int64Var(&cfg.minStars, "min-stars", 10, "star threshold (at least)")
	f.StringVar(&cfg.topicsFile, "topics", "", "file of AI topics, one per line (replaces seed and expansion)")
	f.BoolVar(&cfg.seedOnly, "seed-only", false, "classify with the three seed topics only")
	f.IntVar(&cfg.expandMinRepos, "expand-min-repos", 0, "grow the topics by co-occurrence with the seed topics in at least this many repositories (0: off)")
	f.Float64Var(&cfg.expandRatio, "expand-ratio", 0.5, "minimum share of a topic's repositories that carry a seed topic, for growth")
	f.StringArrayVar(&cfg.columns, "column", nil, "map a column: canonical=source (e.g. topics=labels); repeatable")
	f.StringSliceVar(&cfg.gharchive, "gharchive", nil, "GH Archive files: count WatchEvents as stars (upper bound)")
	f.StringVar(&cfg.starsUntil, "stars-until", "", "count WatchEvents up to this RFC 3339 time or date")
	cfg.out.addFlags(cmd)
	return cmd
}

func runSupplyGitHub(ctx context.Context, cfg supplyGitHubConfig, inputs []string, w io.Writer, log *slog.Logger) error {
	started := time.Now()
	overrides := map[string]string{}
	for _, c := range cfg.columns {
		k, v, ok := strings.Cut(c, "=")
		if _, known := github.Aliases()[k]; !ok || !known || v == "" {
			return usagef("--column %q: want canonical=source with canonical one of full_name, topics, stars, created_at, fork, archived, language", c)
		}
		overrides[k] = v
	}
	topics := append(github.SeedTopics(), github.ExpansionTopics()...)
	switch {
	case cfg.topicsFile != "":
		var err error
		if topics, err = readLines(cfg.topicsFile); err != nil {
			return usagef("--topics: %v", err)
		}
	case cfg.seedOnly:
		topics = github.SeedTopics()
	}
	loaded, err := (&github.Loader{Overrides: overrides}).Load(ctx, inputs)
	if err != nil {
		return fmt.Errorf("supply github: %w", err)
	}
	log.Info("loaded", "repos", len(loaded.Repos), "skipped", loaded.Skipped, "duplicates", loaded.Duplicates, "columns", fmt.Sprint(loaded.Columns))
	source := "metadata column " + loaded.Columns[github.ColStars]
	if len(cfg.gharchive) > 0 {
		ws := &github.WatchStars{}
		if cfg.starsUntil != "" {
			t, err := parseTimeFlag(cfg.starsUntil)
			if err != nil {
				return usagef("--stars-until: %v", err)
			}
			ws.Until = t
		}
		if err := ws.ReadFiles(ctx, cfg.gharchive); err != nil {
			return fmt.Errorf("supply github: %w", err)
		}
		ws.Apply(loaded.Repos)
		source = "GH Archive WatchEvents (upper bound)"
	}
	cl := github.NewClassifier(topics)
	_, topicsKnown := loaded.Columns[github.ColTopics]
	var expanded []github.Expansion
	if cfg.expandMinRepos > 0 && topicsKnown {
		expanded = cl.Expand(loaded.Repos, github.SeedTopics(), cfg.expandMinRepos, cfg.expandRatio)
	}
	gcfg := github.Config{MinStars: cfg.minStars, StarSource: source}
	rep := github.Compute(loaded.Repos, cl, topicsKnown, gcfg)
	rep.Expanded = expanded
	return cfg.out.emit(ctx, w, log, supplyRun{command: "supply github", inputs: append(inputs, cfg.gharchive...), params: gcfg,
		report: rep, rows: rep.Rows(), started: started})
}

// parseTimeFlag accepts RFC 3339 or a date.
func parseTimeFlag(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", s)
	}
	return t.Add(24*time.Hour - time.Nanosecond), nil
}
