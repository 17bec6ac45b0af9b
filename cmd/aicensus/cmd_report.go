package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aicensus/aicensus/internal/report"
	"github.com/aicensus/aicensus/internal/store"
)

// reportConfig is what `aicensus report` was asked to do.
type reportConfig struct {
	db       string
	format   string // "" : from --out's extension, else table
	out      string
	memory   string // DuckDB memory limit
	opts     report.Options
	compare  []int64
	category string
	open     string
	evidence string
	size     string
}

func newReportCommand(g *globalOptions) *cobra.Command {
	var cfg reportConfig
	cmd := &cobra.Command{
		Use:   "report [flags]",
		Short: "Report AI adoption from a stored scan: shares, open vs closed, company sizes",
		Long: `Report reads one scan from the store and prints what it found:

  - per AI technology: domains detected among those that answered (status ok),
    the share with a 95% Wilson interval, running deployments, versions, and
    the split by strongest evidence (app, embed, api call, header, csp, dns);
  - open source vs closed AI: domains with any of each, the closed:open
    ratio, per category, and the same for running deployments only;
  - company size (after 'aicensus companies import'): share of matched
    companies per size bucket, 10-or-fewer and 50-or-fewer, match rate;
  - scan metadata, results by status, and the method behind every number.

--compare A B adds adopters gained and lost between scans A and B;
--universe N estimates totals when the scan is a uniform random sample of N
domains. Formats: table (default), json, csv, md, html (one self-contained
file with charts; the format is taken from --out's extension when --format is
not given). See docs/report.md.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// "--compare A B": the second scan id arrives as an argument.
			if len(args) == 1 {
				if len(cfg.compare) != 1 {
					return usagef("unexpected argument %q", args[0])
				}
				var b int64
				if _, err := fmt.Sscan(args[0], &b); err != nil {
					return usagef("--compare: %q is not a scan id", args[0])
				}
				cfg.compare = append(cfg.compare, b)
			}
			return runReport(cmd.Context(), cfg, cmd.OutOrStdout(), stderrLogger(g))
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.db, "db", store.DefaultPath, "store file (opened read-only)")
	f.Int64Var(&cfg.opts.ScanID, "scan", 0, "scan id (default: the latest scan)")
	f.StringVar(&cfg.format, "format", "", "output format: table, json, csv, md or html (default: from --out, else table)")
	f.StringVarP(&cfg.out, "out", "o", "-", "output file, - for stdout")
	f.Int64SliceVar(&cfg.compare, "compare", nil, "compare two scans: --compare A B (or A,B): adopters gained and lost")
	f.Int64Var(&cfg.opts.Universe, "universe", 0, "size of the universe the scan uniformly sampled: estimate totals")
	f.BoolVar(&cfg.opts.AllTechnologies, "all", false, "list non-AI technologies in the technology table too")
	f.StringVar(&cfg.category, "category", "", "count only technologies of this catalog category")
	f.StringVar(&cfg.open, "open", "", "count only open (open) or closed (closed) technologies")
	f.StringVar(&cfg.evidence, "evidence", "", "count only detections with this evidence class, or 'running'")
	f.StringVar(&cfg.size, "size", "", "count only domains whose company is in this size bucket (e.g. 1-10)")
	f.StringVar(&cfg.memory, "memory-limit", "1GB", "DuckDB memory limit for the report's queries")
	return cmd
}

// runReport builds the report for cfg and writes it.
func runReport(ctx context.Context, cfg reportConfig, stdout io.Writer, log *slog.Logger) error {
	format, err := reportFormat(cfg.format, cfg.out)
	if err != nil {
		return usagef("--format: %v", err)
	}
	switch len(cfg.compare) {
	case 0:
	case 2:
		cfg.opts.CompareBefore, cfg.opts.CompareAfter = cfg.compare[0], cfg.compare[1]
	default:
		return usagef("--compare takes two scan ids, got %d", len(cfg.compare))
	}
	if cfg.opts.ScanID < 0 || cfg.opts.Universe < 0 {
		return usagef("--scan and --universe must not be negative")
	}
	cfg.opts.Filter = report.Filter{Category: cfg.category, Open: cfg.open, Evidence: cfg.evidence, Size: cfg.size}
	if err := cfg.opts.Filter.Validate(); err != nil {
		return usagef("%v", err)
	}
	s, err := openStoreReadOnly(ctx, cfg.db, cfg.memory)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer s.Close()
	start := time.Now()
	r, err := report.Build(ctx, s, cfg.opts)
	if err != nil {
		return err
	}
	log.Debug("report built", "scan", r.Scan.ID, "took", time.Since(start))
	if cfg.out == "" || cfg.out == "-" {
		bw := bufio.NewWriter(stdout)
		if err := report.Write(bw, r, format); err != nil {
			return err
		}
		return bw.Flush()
	}
	if err := writeFileAtomic(cfg.out, func(w io.Writer) error { return report.Write(w, r, format) }); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	log.Info("report written", "scan", r.Scan.ID, "format", string(format), "out", cfg.out)
	return nil
}

// reportFormat resolves --format, defaulting from the output file's
// extension.
func reportFormat(flag, out string) (report.Format, error) {
	if flag != "" {
		return report.ParseFormat(flag)
	}
	switch strings.ToLower(filepath.Ext(out)) {
	case ".html", ".htm":
		return report.FormatHTML, nil
	case ".json":
		return report.FormatJSON, nil
	case ".csv":
		return report.FormatCSV, nil
	case ".md", ".markdown":
		return report.FormatMarkdown, nil
	}
	return report.FormatTable, nil
}

// openStoreReadOnly opens an existing store for reading, with a hint when
// the file needs a schema upgrade first.
func openStoreReadOnly(ctx context.Context, path, memory string) (*store.Store, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store %s does not exist (run a scan first, or pass --db)", path)
	}
	s, err := store.Open(ctx, path, store.Options{ReadOnly: true, MemoryLimit: memory})
	if errors.Is(err, store.ErrSchemaOutdated) {
		return nil, fmt.Errorf("%w; any command that writes to it (scan, companies import) upgrades it", err)
	}
	return s, err
}

// writeFileAtomic writes path through a temporary file in the same folder,
// renamed into place when write succeeds.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
