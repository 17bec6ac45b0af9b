package scan

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/dns"
	"github.com/aicensus/aicensus/internal/fetch"
	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/probe"
	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/store/storetest"
	"github.com/aicensus/aicensus/internal/testfarm"
)

// startFarm starts a test farm for the test, or skips when ../shared is
// absent.
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

var testDetector = sync1(func() (*detect.Detector, error) {
	c, err := catalog.Open(false)
	if err != nil {
		return nil, err
	}
	return detect.New(c, detect.Options{})
})

// farmAddrs is what a scan needs to know of a farm.
type farmAddrs interface {
	CAPEM() []byte
	PortMap() map[int]int
	DNSAddr() string
}

// fataler is the part of testing.TB farmConfig needs (the kill -9 child
// process has no testing.TB).
type fataler interface{ Fatal(args ...any) }

// farmConfig is a live scan configuration pointed at farm.
func farmConfig(t fataler, farm farmAddrs, domains, db string) LiveConfig {
	det, err := testDetector()
	if err != nil {
		t.Fatal(err)
	}
	fo := fetch.DefaultOptions()
	fo.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	fo.ExtraRootsPEM = farm.CAPEM()
	fo.PortMap = farm.PortMap()
	// Generous timeouts: CI machines are slow and tests run under -race;
	// only the slow-loris host is meant to time out.
	fo.TargetTimeout, fo.RequestTimeout, fo.ConnectTimeout, fo.TLSTimeout = 15*time.Second, 5*time.Second, 5*time.Second, 5*time.Second
	fo.Retries = 1
	fo.RetryBackoff = 50 * time.Millisecond
	return LiveConfig{
		Input: domains, DB: db, Detector: det, Fetch: fo,
		DNS:          dns.Config{Servers: []string{farm.DNSAddr()}, Timeout: time.Second, Attempts: 3, Backoff: 10 * time.Millisecond},
		FetchWorkers: 32,
		// The whole farm is one IP address: a per-IP cap would only queue.
		Probe: probe.Options{PerIP: 0},
	}
}

// writeDomains writes the farm's host list (plus extra lines) to a file.
func writeDomains(t testing.TB, farm *testfarm.Farm, extra ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "domains.txt")
	lines := append(append([]string{}, farm.Domains()...), extra...)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// storedResults reads every result of the latest scan in db.
func storedResults(t testing.TB, db string) (store.Scan, []model.Result) {
	t.Helper()
	return storetest.LatestResults(t, db)
}

// compareTruth checks that results equal the farm's ground truth exactly:
// one result per host, status, final URL, HTTP status, redirect chain, and
// the set of AI technologies with their asserted versions.
func compareTruth(t testing.TB, farm *testfarm.Farm, results []model.Result) {
	t.Helper()
	byHost := map[string]model.Result{}
	for _, r := range results {
		if _, dup := byHost[r.Target]; dup {
			t.Errorf("%s: more than one result", r.Target)
		}
		byHost[r.Target] = r
	}
	mismatches := 0
	for _, want := range farm.Truth() {
		r, ok := byHost[want.Host]
		if !ok {
			t.Errorf("%s: no result", want.Host)
			continue
		}
		var got []string
		for _, d := range r.Detections {
			if d.AI {
				got = append(got, d.Technology+"@"+versionIf(want, d))
			}
		}
		sort.Strings(got)
		var exp []string
		for _, tech := range want.Technologies {
			exp = append(exp, tech.Name+"@"+tech.Version)
		}
		sort.Strings(exp)
		var problems []string
		if r.Status != want.Status {
			problems = append(problems, fmt.Sprintf("status %s, want %s (%s)", r.Status, want.Status, r.Error))
		}
		if want.URL != "" && r.URL != want.URL {
			problems = append(problems, fmt.Sprintf("url %s, want %s", r.URL, want.URL))
		}
		if want.HTTPStatus != 0 && r.HTTPStatus != want.HTTPStatus {
			problems = append(problems, fmt.Sprintf("http status %d, want %d", r.HTTPStatus, want.HTTPStatus))
		}
		if len(want.Redirects) > 0 && !reflect.DeepEqual(r.Redirects, want.Redirects) {
			problems = append(problems, fmt.Sprintf("redirects %v, want %v", r.Redirects, want.Redirects))
		}
		if !reflect.DeepEqual(got, exp) {
			problems = append(problems, fmt.Sprintf("technologies %v, want %v", got, exp))
		}
		if len(problems) > 0 {
			mismatches++
			t.Errorf("%s (%s): %s", want.Host, want.Kind, strings.Join(problems, "; "))
		}
	}
	if len(results) != len(farm.Truth()) {
		t.Errorf("%d results for %d hosts", len(results), len(farm.Truth()))
	}
	t.Logf("%d hosts, %d mismatches", len(farm.Truth()), mismatches)
}

// versionIf returns the detection's version where the truth asserts one.
func versionIf(want testfarm.HostTruth, d model.Detection) string {
	if tech, ok := want.Tech(d.Technology); ok && tech.Version != "" {
		return d.Version
	}
	return ""
}

// TestLiveScanEqualsFarmTruth scans the whole farm, every fault host
// included, and compares the store with the ground truth.
func TestLiveScanEqualsFarmTruth(t *testing.T) {
	farm := startFarm(t, testfarm.Config{Hosts: 100, Seed: 7})
	db := filepath.Join(t.TempDir(), "scan.duckdb")
	cfg := farmConfig(t, farm, writeDomains(t, farm), db)
	sum, err := Live(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sc, results := storedResults(t, db)
	if sc.State != store.ScanDone || sum.Written != len(farm.Truth()) {
		t.Errorf("scan state %s, %d written", sc.State, sum.Written)
	}
	compareTruth(t, farm, results)
	for _, r := range results {
		for _, d := range r.Detections {
			if len(d.Evidence) == 0 {
				t.Errorf("%s: %s has no evidence", r.Target, d.Technology)
			}
		}
	}
}

// TestMalformedInputLines: bad lines become invalid-input results naming
// their line number, and the rest of the scan goes on.
func TestMalformedInputLines(t *testing.T) {
	farm := startFarm(t, testfarm.Config{Hosts: 10, Seed: 3, NoFaults: true})
	p := filepath.Join(t.TempDir(), "domains.txt")
	hosts := farm.Domains()
	lines := []string{hosts[0], "not a domain!", "", "# a comment", "http://" + hosts[1] + "/path?q=1", "exa mple.test", strings.Repeat("a", 70) + ".test", "256.1.2.3", hosts[0]}
	os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644)
	db := filepath.Join(t.TempDir(), "scan.duckdb")
	if _, err := Live(context.Background(), farmConfig(t, farm, p, db)); err != nil {
		t.Fatal(err)
	}
	_, results := storedResults(t, db)
	got := map[int]model.Status{}
	for _, r := range results {
		got[r.Line] = r.Status
		if r.Status == model.StatusInvalidInput && r.Error == "" {
			t.Errorf("line %d: invalid without a reason", r.Line)
		}
	}
	want := map[int]model.Status{1: model.StatusOK, 2: model.StatusInvalidInput, 5: model.StatusOK, 6: model.StatusInvalidInput,
		7: model.StatusInvalidInput, 8: model.StatusInvalidInput}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("statuses by line = %v, want %v", got, want)
	}
}

// sync1 memoises a constructor.
func sync1[T any](f func() (T, error)) func() (T, error) {
	var (
		v    T
		err  error
		done bool
	)
	return func() (T, error) {
		if !done {
			v, err = f()
			done = true
		}
		return v, err
	}
}
