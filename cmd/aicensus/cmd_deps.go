package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aicensus/aicensus/internal/supply/deps"
	"github.com/aicensus/aicensus/internal/supply/github"
	"github.com/aicensus/aicensus/internal/supply/gitlog"
)

// depsConfig is what `aicensus deps` was asked to do.
type depsConfig struct {
	out             supplyOutput
	children        bool
	tiers           []string
	lockfiles       bool
	includeIndirect bool
	reposMeta       []string
	createdFromGit  bool
	workers         int
}

func newDepsCommand(g *globalOptions) *cobra.Command {
	var cfg depsConfig
	cmd := &cobra.Command{
		Use:   "deps PATH...",
		Short: "Repositories depending on an LLM SDK, from the manifests of their checkouts",
		Long: `Scans repository checkouts (each PATH is one repository; with --children each
subdirectory of PATH is one) for the manifests of npm, PyPI, Go, Cargo, Maven,
Gradle, RubyGems, Packagist and NuGet, and reports the repositories with a
direct dependency on an LLM SDK (tiers A provider SDKs, B orchestration and
agent frameworks, C inference clients; tier X generic ML and MCP apart) per
SDK, tier and ecosystem. With creation dates (--repos-meta, a repository
metadata file as for 'supply github', or --created-from-git, the root commit
date) it reports new LLM-SDK repositories per year and the year-over-year
change. See docs/supply.md for the package list.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDeps(cmd.Context(), cfg, args, cmd.OutOrStdout(), stderrLogger(g))
		},
	}
	f := cmd.Flags()
	f.BoolVar(&cfg.children, "children", false, "each subdirectory of PATH is a repository checkout")
	f.StringSliceVar(&cfg.tiers, "tiers", []string{"A", "B", "C"}, "tiers counted as LLM SDK")
	f.BoolVar(&cfg.lockfiles, "lockfiles", false, "also count lockfile entries (transitive variant)")
	f.BoolVar(&cfg.includeIndirect, "include-indirect", false, "also count go.mod // indirect requirements")
	f.StringSliceVar(&cfg.reposMeta, "repos-meta", nil, "repository metadata files giving created_at by full_name")
	f.BoolVar(&cfg.createdFromGit, "created-from-git", false, "date each checkout by its root commit (needs git)")
	f.IntVar(&cfg.workers, "workers", 0, "repositories scanned at once (0: one per CPU)")
	cfg.out.addFlags(cmd)
	return cmd
}

func runDeps(ctx context.Context, cfg depsConfig, paths []string, w io.Writer, log *slog.Logger) error {
	started := time.Now()
	for _, t := range cfg.tiers {
		if t != "A" && t != "B" && t != "C" && t != "X" && t != "MCP" {
			return usagef("--tiers: unknown tier %q (A, B, C, X, MCP)", t)
		}
	}
	dirs := paths
	if cfg.children {
		dirs = nil
		for _, p := range paths {
			kids, err := deps.Children(p)
			if err != nil {
				return fmt.Errorf("deps: %w", err)
			}
			dirs = append(dirs, kids...)
		}
	}
	repos, err := (&deps.Scanner{Workers: cfg.workers}).ScanRepos(ctx, dirs)
	if err != nil {
		return fmt.Errorf("deps: %w", err)
	}
	if len(cfg.reposMeta) > 0 {
		loaded, err := (&github.Loader{}).Load(ctx, cfg.reposMeta)
		if err != nil {
			return fmt.Errorf("deps: --repos-meta: %w", err)
		}
		created := map[string]time.Time{}
		for _, r := range loaded.Repos {
			if !r.CreatedAt.IsZero() {
				created[r.FullName] = r.CreatedAt
			}
		}
		deps.SetCreated(repos, created)
	}
	if cfg.createdFromGit {
		for i := range repos {
			if repos[i].CreatedAt.IsZero() {
				repos[i].CreatedAt = rootCommitDate(ctx, repos[i].Path)
			}
		}
	}
	dcfg := deps.Config{Tiers: cfg.tiers, Lockfiles: cfg.lockfiles, IncludeIndirect: cfg.includeIndirect}
	rep := deps.Summarize(repos, dcfg)
	for _, r := range repos {
		for _, e := range r.ParseErrors {
			log.Warn("manifest not parsed", "repo", r.Name, "error", e)
		}
	}
	type report struct {
		deps.Report
		Repos []deps.Repo `json:"repos"`
	}
	return cfg.out.emit(ctx, w, log, supplyRun{command: "deps", inputs: paths, params: dcfg,
		report: report{Report: rep, Repos: repos}, rows: rep.Rows(), started: started})
}

// rootCommitDate is the author date of the oldest root commit of HEAD, or
// zero when dir is not a git repository.
func rootCommitDate(ctx context.Context, dir string) time.Time {
	out, err := gitlog.Git{}.Run(ctx, dir, "log", "--max-parents=0", "--format=%aI", "HEAD", "--")
	if err != nil {
		return time.Time{}
	}
	var oldest time.Time
	for l := range strings.FieldsSeq(string(out)) {
		if t, err := time.Parse(time.RFC3339, l); err == nil && (oldest.IsZero() || t.Before(oldest)) {
			oldest = t
		}
	}
	return oldest.UTC()
}

// readLines reads the non-empty, non-comment lines of a file.
func readLines(path string) ([]string, error) {
	f, err := os.Open(filepath.Clean(path))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}
