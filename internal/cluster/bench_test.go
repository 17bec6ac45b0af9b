package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/scan"
	"github.com/aicensus/aicensus/internal/testfarm"
)

// BenchmarkClusterVsSingle scans the same farm input (no fault hosts) once
// with a single-process scan (64 fetchers) and once on the cluster: a NATS
// server, the coordinator and its collector in this process, and two worker
// processes with 32 fetchers each (the same total) and one core each
// (GOMAXPROCS=1: two Go schedulers with two threads each on two cores spin
// against each other), started once. It reports both rates and their
// ratio, measured in the same run.
//
//	go test -run '^$' -bench ClusterVsSingle -benchtime 3x -count 3 ./internal/cluster/
func BenchmarkClusterVsSingle(b *testing.B) {
	const hosts = 3000
	farm := startFarm(b, testfarm.Config{Hosts: hosts, Seed: 17, NoFaults: true})
	fs := settingsOf(farm, writeDomains(b, farm))
	srv, err := StartEmbedded(EmbeddedOptions{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown()
	var workers []*child
	for i := range 2 {
		workers = append(workers, startChild(b, childSpec{Role: "worker", Name: fmt.Sprintf("bench-%d", i), URL: srv.URL(), FetchWorkers: 32, Procs: 1}, nil))
	}
	defer func() {
		for _, w := range workers {
			w.stop(b)
		}
	}()
	ctx := context.Background()
	// The farm issues each host's certificate on first use: all of them
	// now, so neither measured side pays for that.
	if err := farm.IssueCertificates(); err != nil {
		b.Fatal(err)
	}
	var single, clustered time.Duration
	var n int
	run := 0
	for b.Loop() {
		run++
		cfg, err := liveConfig(fs, filepath.Join(b.TempDir(), fmt.Sprintf("single%d.duckdb", run)), 64)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		sum, err := scan.Live(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		single += time.Since(start)
		n = sum.Written

		cfg, _ = liveConfig(fs, filepath.Join(b.TempDir(), fmt.Sprintf("cluster%d.duckdb", run)), 64)
		start = time.Now()
		csum, err := Scan(ctx, ScanOptions{Live: cfg, URL: srv.URL()})
		if err != nil {
			b.Fatal(err)
		}
		clustered += time.Since(start)
		if csum.Written != sum.Written {
			b.Fatalf("cluster wrote %d, single %d", csum.Written, sum.Written)
		}
	}
	iters := float64(run)
	b.ReportMetric(float64(n)*iters/single.Seconds(), "single-domains/s")
	b.ReportMetric(float64(n)*iters/clustered.Seconds(), "cluster-domains/s")
	b.ReportMetric(single.Seconds()/clustered.Seconds(), "cluster/single")
}
