package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/aicensus/aicensus/internal/companies"
	"github.com/aicensus/aicensus/internal/store"
)

func newCompaniesCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "companies",
		Short: "Manage company (firmographic) data used by reports",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCompaniesImportCommand(g))
	return cmd
}

// companiesImportConfig is what `aicensus companies import` was asked to do.
type companiesImportConfig struct {
	db     string
	file   string
	format string
	opts   companies.Options
}

func newCompaniesImportCommand(g *globalOptions) *cobra.Command {
	var cfg companiesImportConfig
	cmd := &cobra.Command{
		Use:   "import FILE|-",
		Short: "Import company sizes keyed by domain (CSV, JSON Lines or Parquet)",
		Long: `Import reads a company dataset into the store so reports can show the size
of the companies behind the detected sites. Each row needs a website or domain
and a size: an employee count (2200000, "1,200") or a range ("1-10",
"1001 - 5000", "10001+"). Domains are reduced to their registrable domain
(www.walmart.com and ir.walmart.com -> walmart.com), the join key to scan
results; sizes map to the buckets 1-10, 11-50, 51-200, 201-500, 501-1000,
1001-5000, 5001-10000, 10001+.

Columns are found by name (domain, website, url, ...; employees, team_size,
size range, ...; name, company_name, ...) unless given with the flags.
Importing a file with the same --source name again replaces its rows. When
sources disagree about a domain, an exact count beats a range, then the latest
import wins. Rows that cannot be used are skipped and counted by reason.
Gzipped CSV and JSON Lines are read as they are. See docs/report.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.file = args[0]
			return runCompaniesImport(cmd.Context(), cfg, cmd.InOrStdin(), cmd.OutOrStdout(), stderrLogger(g))
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.db, "db", store.DefaultPath, "store file (created if missing)")
	f.StringVar(&cfg.format, "format", "", "file format: csv, jsonl or parquet (default: from the file name)")
	f.StringVar(&cfg.opts.DomainCol, "domain-col", "", "column with the website or domain")
	f.StringVar(&cfg.opts.EmployeesCol, "employees-col", "", "column with the employee count")
	f.StringVar(&cfg.opts.SizeCol, "size-col", "", "column with the size range (alternative to --employees-col)")
	f.StringVar(&cfg.opts.NameCol, "name-col", "", "column with the company name")
	f.StringVar(&cfg.opts.Source, "source", "", "dataset name in the store (default: the file name)")
	return cmd
}

func runCompaniesImport(ctx context.Context, cfg companiesImportConfig, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	if cfg.opts.EmployeesCol != "" && cfg.opts.SizeCol != "" {
		return usagef("give --employees-col or --size-col, not both")
	}
	format, err := companies.ParseFormat(cfg.format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	cfg.opts.Format = format
	s, err := store.Open(ctx, cfg.db, store.Options{})
	if err != nil {
		return fmt.Errorf("companies import: %w", err)
	}
	defer s.Close()
	st, err := companies.Import(ctx, s, cfg.file, stdin, cfg.opts)
	if err != nil {
		return err
	}
	log.Info("companies imported", "source", st.Source, "rows", st.Rows, "imported", st.Imported)
	return printImportStats(stdout, st)
}

// printImportStats writes what the import did, skipped rows with reasons.
func printImportStats(w io.Writer, st companies.Stats) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "source\t%s (%s, %s)\n", st.Source, st.File, st.Format)
	name := st.NameCol
	if name == "" {
		name = "-"
	}
	fmt.Fprintf(tw, "columns\tdomain=%s size=%s name=%s\n", st.DomainCol, st.SizeCol, name)
	fmt.Fprintf(tw, "rows read\t%d\n", st.Rows)
	fmt.Fprintf(tw, "imported\t%d (%d with an exact headcount, %d distinct domains, %d repeated domains)\n", st.Imported, st.Exact, st.Domains, st.Duplicates)
	reasons := make([]string, 0, len(st.Skipped))
	for k := range st.Skipped {
		reasons = append(reasons, k)
	}
	slices.Sort(reasons)
	var skipped int64
	for _, k := range reasons {
		skipped += st.Skipped[k]
	}
	fmt.Fprintf(tw, "skipped\t%d\n", skipped)
	for _, k := range reasons {
		fmt.Fprintf(tw, "  %s\t%d (e.g. %s)\n", k, st.Skipped[k], st.Examples[k])
	}
	var buckets []string
	for _, b := range store.SizeBuckets() {
		if n := st.Buckets[b.Label]; n > 0 {
			buckets = append(buckets, fmt.Sprintf("%s: %d", b.Label, n))
		}
	}
	fmt.Fprintf(tw, "sizes (rows read)\t%s\n", strings.Join(buckets, ", "))
	if st.MatchedScan > 0 {
		fmt.Fprintf(tw, "matched\t%d of the imported domains answered in scan %d\n", st.Matched, st.MatchedScan)
	} else {
		fmt.Fprintf(tw, "matched\tno scan in the store yet\n")
	}
	fmt.Fprintf(tw, "store\t%d companies from all sources, %d with sources that disagree on the size\n", st.Store.Companies, st.Store.Conflicts)
	return tw.Flush()
}
