package cluster

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/testfarm"
)

// TestEmbeddedEqualsSingleMachine runs `--cluster embedded` (server,
// coordinator, collector and two workers in this process) and compares the
// store with a single-machine scan of the same input.
func TestEmbeddedEqualsSingleMachine(t *testing.T) {
	farm := startFarm(t, testfarm.Config{Hosts: 60, Seed: 21})
	fs := settingsOf(farm, writeDomains(t, farm, "not a domain!", "", "# comment", farm.Domains()[0]))
	want := baseline(t, fs)
	db := filepath.Join(t.TempDir(), "cluster.duckdb")
	cfg, err := liveConfig(fs, db, 8)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := ScanEmbedded(context.Background(), ScanOptions{Live: cfg, UnitSize: 7}, EmbeddedRun{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	sc, got := readStore(t, db)
	if sc.State != store.ScanDone {
		t.Errorf("scan state %s", sc.State)
	}
	if sum.Written != len(want) {
		t.Errorf("summary: %+v, want %d written", sum, len(want))
	}
	compareResults(t, want, got)
	t.Logf("%d results: %s", len(got), statusCounts(got))
}
