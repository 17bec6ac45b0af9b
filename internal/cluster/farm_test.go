package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/dns"
	"github.com/aicensus/aicensus/internal/fetch"
	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/scan"
	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/testfarm"
)

// startFarm starts a test farm, or skips when ../shared is absent.
func startFarm(t testing.TB, cfg testfarm.Config) *testfarm.Farm {
	t.Helper()
	if cfg.SlowInterval == 0 {
		cfg.SlowInterval = time.Second
	}
	farm, err := testfarm.New(cfg)
	if errors.Is(err, testfarm.ErrNoData) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := farm.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { farm.Close() })
	return farm
}

var detectorOnce = sync.OnceValues(func() (*detect.Detector, error) {
	c, err := catalog.Open(false)
	if err != nil {
		return nil, err
	}
	return detect.New(c, detect.Options{})
})

// farmSettings is what a scan needs to know of a farm; child processes
// get it through the environment.
type farmSettings struct {
	DNS     string      `json:"dns"`
	CAPEM   []byte      `json:"ca"`
	Ports   map[int]int `json:"ports"`
	Domains string      `json:"domains"`
}

func settingsOf(farm *testfarm.Farm, domains string) farmSettings {
	return farmSettings{DNS: farm.DNSAddr(), CAPEM: farm.CAPEM(), Ports: farm.PortMap(), Domains: domains}
}

// liveConfig is a single-machine scan configuration pointed at the farm,
// the same for the cluster and the baseline.
func liveConfig(fs farmSettings, db string, fetchWorkers int) (scan.LiveConfig, error) {
	det, err := detectorOnce()
	if err != nil {
		return scan.LiveConfig{}, err
	}
	fo := fetch.DefaultOptions()
	fo.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	fo.ExtraRootsPEM = fs.CAPEM
	fo.PortMap = fs.Ports
	// Very generous timeouts: the tests compare two scans exactly, so no
	// host may time out because a loaded machine runs them under -race
	// (no host of the test input is meant to time out).
	fo.TargetTimeout, fo.RequestTimeout, fo.ConnectTimeout, fo.TLSTimeout = 60*time.Second, 30*time.Second, 20*time.Second, 20*time.Second
	fo.Retries = 1
	fo.RetryBackoff = 50 * time.Millisecond
	fo.PerIP = -1 // the whole farm is one IP address
	return scan.LiveConfig{
		Input: fs.Domains, DB: db, Detector: det, Fetch: fo, Log: testLog(),
		DNS:          dns.Config{Servers: []string{fs.DNS}, Timeout: 2 * time.Second, Attempts: 3, Backoff: 10 * time.Millisecond},
		FetchWorkers: fetchWorkers,
	}, nil
}

// testLog logs to stderr with AICENSUS_TEST_LOG=debug|info, else nowhere.
func testLog() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(os.Getenv("AICENSUS_TEST_LOG"))); err != nil {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

// writeDomains writes the farm's hosts to a file, leaving out the hosts
// that only exercise the fetcher's limits slowly (slow-loris waits for the
// target timeout; the gzip bomb and the huge body cost seconds of CPU under
// -race), and adding extra lines.
func writeDomains(t testing.TB, farm *testfarm.Farm, extra ...string) string {
	t.Helper()
	skip := map[string]bool{}
	for _, k := range []testfarm.Kind{testfarm.KindSlowLoris, testfarm.KindGzipBomb, testfarm.KindHugeBody} {
		skip[testfarm.FaultHost(k)] = true
	}
	var lines []string
	for _, h := range farm.Domains() {
		if !skip[h] {
			lines = append(lines, h)
		}
	}
	lines = append(lines, extra...)
	p := filepath.Join(t.TempDir(), "domains.txt")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readStore returns the latest scan of a store and its results.
func readStore(t testing.TB, db string) (store.Scan, []model.Result) {
	t.Helper()
	sc, rs, err := readResults(db)
	if err != nil {
		t.Fatal(err)
	}
	return sc, rs
}

func readResults(db string) (store.Scan, []model.Result, error) {
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{ReadOnly: true})
	if err != nil {
		return store.Scan{}, nil, err
	}
	defer st.Close()
	sc, err := st.LatestScan(ctx)
	if err != nil {
		return sc, nil, err
	}
	var out []model.Result
	err = st.Results(ctx, sc.ID, func(r model.Result) error { out = append(out, r); return nil })
	return sc, out, err
}

// comparable is what must be equal between a cluster scan and a
// single-machine scan of the same input: everything but times, durations
// and error texts (which name ephemeral ports).
type comparable struct {
	Line       int
	Target     string
	Input      string
	Domain     string
	Status     model.Status
	URL        string
	HTTPStatus int
	Redirects  []string
	DNS        []model.DNSRecord
	Detections []model.Detection
}

func comparableOf(r model.Result) comparable {
	c := comparable{Line: r.Line, Target: r.Target, Input: r.Input, Domain: r.Domain, Status: r.Status, URL: r.URL,
		HTTPStatus: r.HTTPStatus, Redirects: r.Redirects, DNS: r.DNS, Detections: r.Detections}
	if len(c.Redirects) == 0 {
		c.Redirects = nil
	}
	if len(c.DNS) == 0 {
		c.DNS = nil
	}
	return c
}

// compareResults checks that got equals want exactly: one result per
// line, no loss, no duplicates, same content.
func compareResults(t testing.TB, want, got []model.Result) {
	t.Helper()
	index := func(rs []model.Result, name string) map[int]comparable {
		m := map[int]comparable{}
		targets := map[string]bool{}
		for _, r := range rs {
			if _, dup := m[r.Line]; dup {
				t.Errorf("%s: line %d (%s) stored twice", name, r.Line, r.Target)
			}
			if targets[r.Target] {
				t.Errorf("%s: target %s stored twice", name, r.Target)
			}
			targets[r.Target] = true
			m[r.Line] = comparableOf(r)
		}
		return m
	}
	w, g := index(want, "single-machine"), index(got, "cluster")
	var lines []int
	for l := range w {
		lines = append(lines, l)
	}
	sort.Ints(lines)
	diffs := 0
	for _, l := range lines {
		gr, ok := g[l]
		if !ok {
			t.Errorf("line %d (%s): lost by the cluster", l, w[l].Target)
			continue
		}
		if !reflect.DeepEqual(w[l], gr) {
			if diffs++; diffs <= 5 {
				t.Errorf("line %d differs:\n single  %+v\n cluster %+v", l, w[l], gr)
			}
		}
	}
	for l := range g {
		if _, ok := w[l]; !ok {
			t.Errorf("line %d (%s): only in the cluster store", l, g[l].Target)
		}
	}
	if len(want) != len(got) {
		t.Errorf("%d results from the cluster, %d from the single-machine scan", len(got), len(want))
	}
	if diffs > 5 {
		t.Errorf("%d lines differ in all", diffs)
	}
}

// baseline runs the single-machine scan of the input.
func baseline(t testing.TB, fs farmSettings) []model.Result {
	t.Helper()
	rs, err := scanBaseline(fs, filepath.Join(t.TempDir(), "single.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func scanBaseline(fs farmSettings, db string) ([]model.Result, error) {
	cfg, err := liveConfig(fs, db, 8)
	if err != nil {
		return nil, err
	}
	if _, err := scan.Live(context.Background(), cfg); err != nil {
		return nil, err
	}
	_, rs, err := readResults(db)
	if err == nil && len(rs) == 0 {
		err = errors.New("baseline scan stored nothing")
	}
	return rs, err
}

// shared is one small farm (no fault hosts) and its single-machine scan,
// shared by the in-process tests and closed by TestMain.
var shared struct {
	once sync.Once
	farm *testfarm.Farm
	dir  string
	fs   farmSettings
	want []model.Result
	skip error
	err  error
}

// smallFarm returns the shared farm's settings and its baseline results.
func smallFarm(t *testing.T) (farmSettings, []model.Result) {
	t.Helper()
	shared.once.Do(func() {
		farm, err := testfarm.New(testfarm.Config{Hosts: 30, Seed: 21, NoFaults: true})
		if errors.Is(err, testfarm.ErrNoData) {
			shared.skip = err
			return
		}
		if err == nil {
			err = farm.Start(context.Background())
		}
		if err != nil {
			shared.err = err
			return
		}
		shared.farm = farm
		if shared.dir, err = os.MkdirTemp("", "aicensus-cluster-test-"); err != nil {
			shared.err = err
			return
		}
		lines := append(append([]string{}, farm.Domains()...), "not a domain!", "", "# comment", farm.Domains()[0])
		domains := filepath.Join(shared.dir, "domains.txt")
		if shared.err = os.WriteFile(domains, []byte(strings.Join(lines, "\n")+"\n"), 0o644); shared.err != nil {
			return
		}
		shared.fs = settingsOf(farm, domains)
		shared.want, shared.err = scanBaseline(shared.fs, filepath.Join(shared.dir, "single.duckdb"))
	})
	if shared.skip != nil {
		t.Skip(shared.skip)
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.fs, shared.want
}

func closeShared() {
	if shared.farm != nil {
		shared.farm.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
}

func statusCounts(rs []model.Result) string {
	m := map[model.Status]int{}
	for _, r := range rs {
		m[r.Status]++
	}
	var parts []string
	for s, n := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", s, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
