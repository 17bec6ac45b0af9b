package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/testfarm"
)

// testfarmOptions are the flags of `aicensus testfarm`.
type testfarmOptions struct {
	out       string
	cfg       testfarm.Config
	errorPage string
	dnsOnly   string
}

func newTestfarmCommand(g *globalOptions) *cobra.Command {
	o := &testfarmOptions{}
	cmd := &cobra.Command{
		Use:   "testfarm --out DIR",
		Short: "Run the loopback test farm (HTTP, HTTPS, DNS) until interrupted",
		Long: `Run the loopback test farm: thousands of virtual hosts with real pages and AI
embeds on 127.0.0.1, a DNS server for their names, a test CA and the ground truth.
Writes ca.pem, domains.txt, truth.jsonl and, last, farm.env (ports, resolver
address, paths) to DIR, then serves until Ctrl-C. For tests, CI and benchmarks;
see docs/testfarm.md.`,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.out == "" {
				return usagef("testfarm: --out DIR is required")
			}
			for _, s := range []string{o.errorPage, o.dnsOnly} {
				if s != "" && !model.Status(s).Valid() {
					return usagef("testfarm: unknown status %q", s)
				}
			}
			o.cfg.Expect = testfarm.Expect{ErrorPage: model.Status(o.errorPage), DNSOnly: model.Status(o.dnsOnly)}
			return runTestfarm(cmd.Context(), o.cfg, o.out, stderrLogger(g), cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "", "directory for ca.pem, domains.txt, truth.jsonl and farm.env (required)")
	f.IntVar(&o.cfg.Hosts, "hosts", 1000, "number of site hosts (fault hosts come on top)")
	f.Uint64Var(&o.cfg.Seed, "seed", 1, "seed for host kinds, pages and tokens")
	f.BoolVar(&o.cfg.NoFaults, "no-faults", false, "leave the fault hosts out")
	f.StringVar(&o.cfg.CorpusDir, "corpus", "", "shared/corpus/html directory (default: found above the working directory)")
	f.StringVar(&o.cfg.EmbedsDir, "embeds", "", "shared/research/ai-embeds directory (default: found above the working directory)")
	f.IntVar(&o.cfg.MaxPages, "max-pages", 0, "load at most this many base pages (0 = all)")
	f.DurationVar(&o.cfg.SlowInterval, "slow-interval", 0, "pause between body bytes of the slow-loris host (default 2s)")
	f.StringVar(&o.errorPage, "error-page-status", "", "truth status of the 404/500 homepage hosts (default http-error)")
	f.StringVar(&o.dnsOnly, "dns-only-status", "", "truth status of hosts with TXT records and no address (default dns-no-address)")
	return cmd
}

// runTestfarm starts the farm, writes its files to out and serves until
// ctx ends. It prints the farm.env lines to stdout once the farm is ready.
func runTestfarm(ctx context.Context, cfg testfarm.Config, out string, log *slog.Logger, stdout io.Writer) error {
	cfg.Dir = out
	farm, err := testfarm.New(cfg)
	if err != nil {
		return fmt.Errorf("testfarm: %w", err)
	}
	if err := farm.Start(ctx); err != nil {
		return fmt.Errorf("testfarm: %w", err)
	}
	defer farm.Close()
	if err := farm.WriteDir(out); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(stdout, strings.Join(farm.Env(out), "\n")); err != nil {
		return err
	}
	log.Info("testfarm ready", "hosts", len(farm.Domains()), "http", farm.HTTPPort(), "https", farm.HTTPSPort(), "dns", farm.DNSAddr(), "out", out)
	select {
	case <-ctx.Done():
	case <-farm.Done():
	}
	log.Info("testfarm stopping")
	return farm.Close()
}
