package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/aicensus/aicensus/internal/store"
)

// exportConfig is what `aicensus export` was asked to do.
type exportConfig struct {
	db     string // store file
	scanID int64  // 0: the latest scan
	format string // jsonl, parquet or csv
	out    string // "" or "-": stdout
}

func newExportCommand(g *globalOptions) *cobra.Command {
	var cfg exportConfig
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export a stored scan as JSON Lines, Parquet or CSV",
		Long: `Export writes one scan from the store.

  jsonl    one result per line, the same record as 'aicensus detect --json'
           (target, status, ..., detections with their evidence nested)
  parquet  one row per result, detections as a nested list (same fields)
  csv      one row per (target, technology); targets without detections
           get one row with empty technology columns

The default scan is the latest one. See docs/store.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExport(cmd.Context(), cfg, cmd.OutOrStdout(), stderrLogger(g))
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.db, "db", store.DefaultPath, "store file")
	f.Int64Var(&cfg.scanID, "scan", 0, "scan id (default: the latest scan)")
	f.StringVar(&cfg.format, "format", string(store.FormatJSONL), "output format: jsonl, parquet or csv")
	f.StringVarP(&cfg.out, "out", "o", "-", "output file, - for stdout")
	return cmd
}

// runExport exports one scan of the store at cfg.db to cfg.out (or stdout).
func runExport(ctx context.Context, cfg exportConfig, stdout io.Writer, log *slog.Logger) error {
	format, err := store.ParseFormat(cfg.format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	if cfg.scanID < 0 {
		return usagef("--scan: %d is not a scan id", cfg.scanID)
	}
	if _, err := os.Stat(cfg.db); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("export: store %s does not exist (run a scan first, or pass --db)", cfg.db)
	}
	s, err := store.Open(ctx, cfg.db, store.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer s.Close()
	id := cfg.scanID
	if id == 0 {
		sc, err := s.LatestScan(ctx)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("export: store %s has no scans", cfg.db)
		}
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		id = sc.ID
	}
	var n int64
	if cfg.out == "" || cfg.out == "-" {
		n, err = s.Export(ctx, id, format, stdout)
	} else {
		n, err = s.ExportFile(ctx, id, format, cfg.out)
	}
	if err != nil {
		return err
	}
	log.Info("exported", "scan", id, "format", string(format), "records", n, "out", cfg.out)
	return nil
}
