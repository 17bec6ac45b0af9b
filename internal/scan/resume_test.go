package scan

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/testfarm"
)

// The kill -9 test re-runs this test binary as a scanner child process.
func TestMain(m *testing.M) {
	if os.Getenv("AICENSUS_SCAN_CHILD") != "" {
		os.Exit(scanChild())
	}
	os.Exit(m.Run())
}

// childEnv is how the parent tells the child where the farm is.
type childEnv struct {
	Mode                     string // "" live, "warc" archives (Domains is the folder)
	DNS, CAFile, Domains, DB string
	HTTP, HTTPS              int
}

func scanChild() int {
	var env childEnv
	if err := json.Unmarshal([]byte(os.Getenv("AICENSUS_SCAN_CHILD")), &env); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	farm := &childFarm{env: env}
	if env.Mode == "warc" {
		cfg := archiveConfig(farm, env.DB, env.Domains)
		cfg.Files, cfg.Workers = 1, 1 // slow, so the parent's kill lands mid-scan
		cfg.OnCommit = func(src string, off int64, done bool) { fmt.Println("commit", src, off, done) }
		if _, err := Archive(context.Background(), cfg); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 1
		}
		return 0
	}
	cfg := farmConfig(farm, farm, env.Domains, env.DB)
	cfg.FetchWorkers = 2 // slow, so the parent's kills land mid-scan
	cfg.JSON = os.Stdout
	if _, err := Live(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// TestKill9ThenResume kills a scanning process with SIGKILL twice at
// different moments, then runs the same scan again: the store must hold
// every input line exactly once, equal to the farm's truth, with no
// duplicated detections.
func TestKill9ThenResume(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns scanner processes")
	}
	farm := startFarm(t, testfarm.Config{Hosts: 160, Seed: 11, NoFaults: true})
	domains := writeDomains(t, farm)
	db := filepath.Join(t.TempDir(), "scan.duckdb")
	env, _ := json.Marshal(childEnv{DNS: farm.DNSAddr(), CAFile: farm.CAFile(), Domains: domains, DB: db,
		HTTP: farm.HTTPPort(), HTTPS: farm.HTTPSPort()})
	// Kill twice; under load a child may die before its writer's first
	// commit, so go on (waiting longer each time, up to five kills) until
	// some results survived a kill, or the resume below would have nothing
	// to skip.
	wait := 1500 * time.Millisecond
	for round, killAfter := 0, 20; round < 2 || round < 5 && storedCount(t, db) == 0; round, wait = round+1, wait*2 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "AICENSUS_SCAN_CHILD="+string(env))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		n := 0
		for sc.Scan() {
			if n++; n == killAfter {
				// Let the writer commit a batch (it commits at least every
				// second), then kill mid-stream.
				time.Sleep(wait)
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
		cmd.Wait()
		if n < killAfter {
			t.Fatalf("child finished after %d results, before the kill at %d", n, killAfter)
		}
	}
	// The same scan again: it resumes the interrupted one.
	sum, err := Live(context.Background(), farmConfig(t, farm, domains, db))
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Resumed || sum.Skipped == 0 {
		t.Errorf("second run did not resume: %+v", sum)
	}
	sc, results := storedResults(t, db)
	if sc.State != store.ScanDone {
		t.Errorf("scan state %s", sc.State)
	}
	assertOncePerLine(t, results, len(farm.Domains()))
	compareTruth(t, farm, results)
}

// storedCount is the number of results of the latest scan in db (0 when
// there is no scan yet). It opens the store for writing, as the next
// scanner would, so a killed writer's log is replayed.
func storedCount(t *testing.T, db string) int {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sc, err := st.LatestScan(ctx)
	if err != nil {
		return 0
	}
	n := 0
	if err := st.Results(ctx, sc.ID, func(model.Result) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestInterruptThenResume cancels a scan (Ctrl-C) and runs it again.
func TestInterruptThenResume(t *testing.T) {
	farm := startFarm(t, testfarm.Config{Hosts: 80, Seed: 5, NoFaults: true})
	domains := writeDomains(t, farm)
	db := filepath.Join(t.TempDir(), "scan.duckdb")
	ctx, cancel := context.WithCancel(context.Background())
	cfg := farmConfig(t, farm, domains, db)
	var n atomic.Int64
	cfg.JSON = writerFunc(func(p []byte) (int, error) {
		if n.Add(1) == 30 {
			cancel()
		}
		return len(p), nil
	})
	if _, err := Live(ctx, cfg); err == nil {
		t.Fatal("interrupted scan returned no error")
	}
	sc, _ := storedResults(t, db)
	if sc.State != store.ScanInterrupted {
		t.Errorf("state after interrupt = %s", sc.State)
	}
	cfg = farmConfig(t, farm, domains, db)
	cfg.Resume = true
	if _, err := Live(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	sc, results := storedResults(t, db)
	if sc.State != store.ScanDone {
		t.Errorf("state after resume = %s", sc.State)
	}
	assertOncePerLine(t, results, len(farm.Domains()))
	compareTruth(t, farm, results)
	// Nothing left: --resume now has nothing to continue.
	if _, err := Live(context.Background(), cfg); err != ErrNothingToResume {
		t.Errorf("resume of a finished scan: err = %v, want ErrNothingToResume", err)
	}
}

func assertOncePerLine(t *testing.T, results []model.Result, lines int) {
	t.Helper()
	seen := map[int]int{}
	for _, r := range results {
		seen[r.Line]++
		techs := map[string]bool{}
		for _, d := range r.Detections {
			if techs[d.Technology] {
				t.Errorf("line %d: %s detected twice", r.Line, d.Technology)
			}
			techs[d.Technology] = true
		}
	}
	for l := 1; l <= lines; l++ {
		if seen[l] != 1 {
			t.Errorf("line %d stored %d times", l, seen[l])
		}
	}
	if len(results) != lines {
		t.Errorf("%d results for %d lines", len(results), lines)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// childFarm gives the child process the farm settings farmConfig needs.
type childFarm struct{ env childEnv }

func (c *childFarm) CAPEM() []byte {
	b, _ := os.ReadFile(c.env.CAFile)
	return b
}
func (c *childFarm) PortMap() map[int]int { return map[int]int{80: c.env.HTTP, 443: c.env.HTTPS} }
func (c *childFarm) DNSAddr() string      { return c.env.DNS }

// Fatal ends the child process.
func (c *childFarm) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, args...)
	os.Exit(2)
}
