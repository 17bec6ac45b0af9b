package scan

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/render"
	"github.com/aicensus/aicensus/internal/testfarm"
)

// TestLiveScanWithRender scans farm hosts with --render in real headless
// Chromium: the statuses and AI technologies still equal the farm's truth
// (the vendors' own loaders are not on the loopback internet), and every
// result that answered carries rendered evidence next to the static one.
func TestLiveScanWithRender(t *testing.T) {
	if render.FindBrowser() == "" {
		t.Skip("chromium not installed (scripts/test installs it)")
	}
	farm := startFarm(t, testfarm.Config{Hosts: 12, Seed: 4, NoFaults: true})
	db := filepath.Join(t.TempDir(), "r.duckdb")
	cfg := farmConfig(t, farm, writeDomains(t, farm), db)
	ro := render.DefaultOptions()
	ro.Tabs, ro.TrustSPKI = 2, []string{farm.LeafSPKI()}
	cfg.Render = &ro
	if _, err := Live(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	_, results := storedResults(t, db)
	compareTruth(t, farm, results)
	rendered := 0
	for _, r := range results {
		for _, d := range r.Detections {
			for _, e := range d.Evidence {
				if e.Via == model.ViaRendered {
					rendered++
				}
			}
		}
	}
	if rendered == 0 {
		t.Error("no rendered evidence at all")
	}
}
