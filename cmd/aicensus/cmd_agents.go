package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/aicensus/aicensus/internal/supply/agents"
	"github.com/aicensus/aicensus/internal/supply/blame"
	"github.com/aicensus/aicensus/internal/supply/gharchive"
	"github.com/aicensus/aicensus/internal/supply/gitlog"
	"github.com/aicensus/aicensus/internal/supply/result"
)

// agentsConfig is what `aicensus agents` was asked to do.
type agentsConfig struct {
	out          supplyOutput
	gharchive    []string
	blame        bool
	blameAll     bool
	blameInclude []string
	blameExclude []string
	blameAgent   string
}

func newAgentsCommand(g *globalOptions) *cobra.Command {
	var cfg agentsConfig
	cmd := &cobra.Command{
		Use:   "agents [PATH...] [--gharchive FILE...]",
		Short: "Attribute pull requests and commits to AI coding agents",
		Long: `Attributes pull requests and commits to AI agents with the rules of
docs/supply.md (identity table, branch prefixes, body markers, trailers,
non-AI automation excluded, false-positive guards) and reports authored,
co-authored and participation shares.

  PATH         a git repository (its first-parent history, read with git log)
               or a first-parent commit CSV(.gz) in the corpus format
  --gharchive  GH Archive files (.json.gz): PRs opened in them, with AI
               reviews/comments and commits pushed to their branches
  --blame      for git repositories, the Aider-style share of new lines per
               release (vX.Y.0 tags) written by agent-attributed commits`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && len(cfg.gharchive) == 0 {
				return usagef("give a PATH or --gharchive FILE")
			}
			return runAgents(cmd.Context(), cfg, args, cmd.OutOrStdout(), stderrLogger(g))
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&cfg.gharchive, "gharchive", nil, "GH Archive event files")
	f.BoolVar(&cfg.blame, "blame", false, "share of new lines per release by agent commits (git repositories)")
	f.BoolVar(&cfg.blameAll, "blame-all", false, "every release interval, not only the latest")
	f.StringSliceVar(&cfg.blameInclude, "blame-include", nil, "file patterns to blame (default: every tracked file)")
	f.StringSliceVar(&cfg.blameExclude, "blame-exclude", nil, "file patterns not to blame")
	f.StringVar(&cfg.blameAgent, "blame-agent", "", "count only this agent's lines (e.g. aider)")
	cfg.out.addFlags(cmd)
	return cmd
}

// agentsReport is the JSON output of `aicensus agents`.
type agentsReport struct {
	History     *agents.HistoryReport `json:"history,omitempty"`
	Events      *agents.EventsReport  `json:"gharchive,omitempty"`
	EventsStats *gharchive.Stats      `json:"gharchive_lines,omitempty"`
	Blame       []blame.Report        `json:"blame,omitempty"`
}

func runAgents(ctx context.Context, cfg agentsConfig, paths []string, w io.Writer, log *slog.Logger) error {
	started := time.Now()
	tab := agents.DefaultTable()
	var rep agentsReport
	var rows []result.Row
	var gitRepos []string
	if len(paths) > 0 {
		h := agents.NewHistory(tab)
		for _, p := range paths {
			if isDir(p) {
				commits, err := gitlog.Git{}.ReadRepo(ctx, p, "")
				if err != nil {
					return fmt.Errorf("agents: %w", err)
				}
				for _, c := range commits {
					h.Add(c)
				}
				gitRepos = append(gitRepos, p)
				continue
			}
			if err := readCorpusCSV(p, h); err != nil {
				return fmt.Errorf("agents: %s: %w", p, err)
			}
		}
		hr := agents.NewHistoryReport(h.Reports())
		rep.History = &hr
		rows = append(rows, hr.Rows()...)
	}
	if len(cfg.gharchive) > 0 {
		ev := agents.NewEvents(tab)
		var st gharchive.Stats
		for _, p := range cfg.gharchive {
			s, err := gharchive.ReadFile(ctx, p, gharchive.Options{Keep: ev.Keep}, func(e *gharchive.Event) error { ev.Add(e); return nil })
			st.Add(s)
			if err != nil {
				return fmt.Errorf("agents: %w", err)
			}
			log.Info("read", "file", p, "lines", s.Lines, "events", s.Events, "malformed", s.Malformed)
		}
		er := ev.Report()
		rep.Events, rep.EventsStats = &er, &st
		for _, r := range er.Rows() {
			r.Scope = "gharchive " + r.Scope
			rows = append(rows, r)
		}
	}
	if cfg.blame {
		if len(gitRepos) == 0 {
			return usagef("--blame needs a git repository PATH")
		}
		for _, dir := range gitRepos {
			br, err := blame.Run(ctx, gitlog.Git{}, dir, tab, blame.Config{All: cfg.blameAll, Include: cfg.blameInclude, Exclude: cfg.blameExclude, Agent: cfg.blameAgent})
			if err != nil {
				return fmt.Errorf("agents: blame: %w", err)
			}
			br.Repo = dir
			rep.Blame = append(rep.Blame, br)
			rows = append(rows, br.Rows()...)
		}
	}
	return cfg.out.emit(ctx, w, log, supplyRun{command: "agents", inputs: append(paths, cfg.gharchive...), params: cfg.blameAgent,
		report: rep, rows: rows, started: started})
}

func readCorpusCSV(path string, h *agents.History) error {
	f, err := os.Open(filepath.Clean(path))
	if err != nil {
		return err
	}
	defer f.Close()
	return gitlog.ReadCorpusCSV(f, func(c gitlog.Commit) error { h.Add(c); return nil })
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
