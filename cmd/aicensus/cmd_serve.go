package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/web"
)

// serveConfig is what `aicensus serve` was asked to do.
type serveConfig struct {
	db     string
	addr   string
	memory string
}

func newServeCommand(g *globalOptions) *cobra.Command {
	var cfg serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a read-only local dashboard of the stored scans (and a JSON API)",
		Long: `Serve opens the store read-only and serves a dashboard: an overview of a scan
(the report's summary, charts and tables) with filters by category, open
source, evidence class and company size; a page per technology listing its
domains with their evidence; and the same data as JSON under /api/.

It listens on 127.0.0.1:8080 by default and answers only to localhost there.
Stop it with Ctrl-C. While it runs, the store file is locked against writers
(DuckDB), so stop it before the next scan. See docs/report.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), cfg, cmd.OutOrStdout(), stderrLogger(g))
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.db, "db", store.DefaultPath, "store file (opened read-only)")
	f.StringVar(&cfg.addr, "addr", web.DefaultAddr, "address to listen on")
	f.StringVar(&cfg.memory, "memory-limit", "1GB", "DuckDB memory limit for the dashboard's queries")
	return cmd
}

func runServe(ctx context.Context, cfg serveConfig, stdout io.Writer, log *slog.Logger) error {
	host, _, err := net.SplitHostPort(cfg.addr)
	if err != nil {
		return usagef("--addr: %v", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		log.Warn("the dashboard is reachable from other machines: it has no authentication", "addr", cfg.addr)
	}
	s, err := openStoreReadOnly(ctx, cfg.db, cfg.memory)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer s.Close()
	srv, err := web.New(web.Config{Store: s, Logger: log})
	if err != nil {
		return err
	}
	return srv.ListenAndServe(ctx, cfg.addr, func(a net.Addr) {
		fmt.Fprintf(stdout, "aicensus dashboard on http://%s/ (Ctrl-C to stop)\n", a)
	})
}
