package report_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/report"
	"github.com/aicensus/aicensus/internal/report/reporttest"
	"github.com/aicensus/aicensus/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	fixtureOnce sync.Once
	fixture     reporttest.Fixture
	fixtureErr  error
	fixtureDir  string
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// goldenStore opens (building once per test binary) the fixture store of
// real detections: two farm scans and a WARC scan, with company sizes.
func goldenStore(t *testing.T) (*store.Store, reporttest.Fixture) {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "report-fixture")
		if fixtureErr == nil {
			fixture, fixtureErr = reporttest.Build(context.Background(), filepath.Join(fixtureDir, "golden.duckdb"))
		}
	})
	if errors.Is(fixtureErr, reporttest.ErrNoData) {
		t.Skipf("shared corpus not available: %v", fixtureErr)
	}
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	s, err := store.Open(context.Background(), fixture.Path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, fixture
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update after checking the change)", path, i+1, g, w)
			}
		}
	}
}

// The fixture is real: the AI technologies detected on each farm host
// equal the farm's ground truth, so the golden numbers are what a scan of
// the farm reports.
func TestFixtureMatchesFarmTruth(t *testing.T) {
	s, fx := goldenStore(t)
	for _, farm := range []reporttest.FarmScan{fx.FarmA, fx.FarmB} {
		got := map[string][]string{}
		err := s.Results(context.Background(), farm.Scan.ID, func(r model.Result) error {
			for _, d := range r.Detections {
				if d.AI {
					got[r.Target] = append(got[r.Target], d.Technology)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for _, h := range farm.Truth {
			g := got[h.Host]
			slices.Sort(g)
			if want := h.Names(); !slices.Equal(g, want) && bad < 10 {
				bad++
				t.Errorf("scan %d host %s (%s): detected %v, truth %v", farm.Scan.ID, h.Host, h.Kind, g, want)
			}
		}
	}
}

func TestGoldenReports(t *testing.T) {
	s, fx := goldenStore(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		opts    report.Options
		formats []report.Format
	}{
		{"farm", report.Options{ScanID: fx.FarmA.Scan.ID, CompareBefore: fx.FarmA.Scan.ID, CompareAfter: fx.FarmB.Scan.ID, Universe: 100000},
			[]report.Format{report.FormatTable, report.FormatJSON, report.FormatCSV, report.FormatMarkdown}},
		{"farm-running-open", report.Options{ScanID: fx.FarmA.Scan.ID, Filter: report.Filter{Evidence: "running", Open: "open"}},
			[]report.Format{report.FormatTable}},
		{"warc", report.Options{ScanID: fx.WARC.ID, AllTechnologies: true}, []report.Format{report.FormatTable, report.FormatJSON}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := report.Build(ctx, s, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tc.formats {
				var b bytes.Buffer
				if err := report.Write(&b, r, f); err != nil {
					t.Fatal(err)
				}
				golden(t, fmt.Sprintf("%s.%s", tc.name, map[report.Format]string{"table": "txt", "json": "json", "csv": "csv", "md": "md"}[f]), b.Bytes())
			}
		})
	}
}
