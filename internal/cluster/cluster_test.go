package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/scan"
	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/testfarm"
)

// The multi-process tests re-run this test binary as coordinator and
// worker processes (the NATS server and the farm live in the test
// process).
const childEnvVar = "AICENSUS_CLUSTER_CHILD"

func TestMain(m *testing.M) {
	if s := os.Getenv(childEnvVar); s != "" {
		os.Exit(runChild(s))
	}
	code := m.Run()
	closeShared()
	os.Exit(code)
}

// childSpec tells a child process what to be.
type childSpec struct {
	Role         string       `json:"role"` // "coordinator" or "worker"
	Name         string       `json:"name"`
	URL          string       `json:"url"`
	Farm         farmSettings `json:"farm"`
	DB           string       `json:"db"`
	UnitSize     int          `json:"unit_size"`
	FetchWorkers int          `json:"fetch_workers"`
	Settings     Settings     `json:"settings"`
	Parquet      string       `json:"parquet"`
	// Archive scans ("archive-coordinator"): the archives, pages per
	// results message; DetectWorkers sizes a worker's archive readers.
	Specs         []string `json:"specs,omitempty"`
	BatchPages    int      `json:"batch_pages,omitempty"`
	DetectWorkers int      `json:"detect_workers,omitempty"`
	// Procs, when set, is the child's GOMAXPROCS (one core per worker when
	// several share a machine, as docs/cluster.md advises).
	Procs int `json:"-"`
}

// childSummary is the coordinator child's last stdout line.
type childSummary struct {
	Summary *scan.Summary        `json:"summary"`
	Archive *scan.ArchiveSummary `json:"archive,omitempty"`
	Err     string               `json:"err"`
}

func runChild(s string) int {
	var spec childSpec
	if err := json.Unmarshal([]byte(s), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	emit := func(v any) {
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(v)
	}
	switch spec.Role {
	case "worker":
		err := RunWorker(ctx, WorkerOptions{URL: spec.URL, Name: spec.Name, FetchWorkers: spec.FetchWorkers, DetectWorkers: spec.DetectWorkers, Log: log,
			Events: func(e Event) { emit(e) }})
		if err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			return 1
		}
	case "coordinator":
		cfg, err := liveConfig(spec.Farm, spec.DB, spec.FetchWorkers)
		if err != nil {
			fmt.Fprintln(os.Stderr, "coordinator:", err)
			return 2
		}
		cfg.Log = log
		sum, err := Scan(ctx, ScanOptions{Live: cfg, URL: spec.URL, UnitSize: spec.UnitSize, Settings: spec.Settings, Parquet: spec.Parquet})
		out := childSummary{Summary: &sum}
		if err != nil {
			out.Err = err.Error()
		}
		emit(out)
		if err != nil {
			return 1
		}
	case "archive-coordinator":
		det, err := detectorOnce()
		if err != nil {
			fmt.Fprintln(os.Stderr, "coordinator:", err)
			return 2
		}
		cfg := scan.ArchiveConfig{Specs: spec.Specs, DB: spec.DB, Detector: det, Log: log}
		sum, err := ScanArchive(ctx, ArchiveScanOptions{Archive: cfg, URL: spec.URL, Settings: spec.Settings, BatchPages: spec.BatchPages})
		out := childSummary{Summary: &scan.Summary{ScanID: sum.ScanID, Resumed: sum.Resumed}, Archive: &sum}
		if err != nil {
			out.Err = err.Error()
		}
		emit(out)
		if err != nil {
			return 1
		}
	default:
		fmt.Fprintln(os.Stderr, "child: unknown role", spec.Role)
		return 2
	}
	return 0
}

// child is a running child process.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed after exit
	mu   sync.Mutex
	logs bytes.Buffer  // stderr
	last *childSummary // coordinator's summary
}

// startChild starts a child; worker events go to events.
func startChild(t testing.TB, spec childSpec, events chan<- Event) *child {
	t.Helper()
	b, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnvVar+"="+string(b))
	if spec.Procs > 0 {
		cmd.Env = append(cmd.Env, fmt.Sprintf("GOMAXPROCS=%d", spec.Procs))
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{name: spec.Name, cmd: cmd, done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			line := sc.Bytes()
			var sum childSummary
			if json.Unmarshal(line, &sum) == nil && sum.Summary != nil {
				c.mu.Lock()
				c.last = &sum
				c.mu.Unlock()
				continue
			}
			var e Event
			if json.Unmarshal(line, &e) == nil && e.Kind != "" && events != nil {
				events <- e
			}
		}
	}()
	go func() {
		defer wg.Done()
		var w io.Writer = &lockedWriter{mu: &c.mu, w: &c.logs}
		if os.Getenv("AICENSUS_TEST_LOG") != "" {
			w = io.MultiWriter(w, os.Stderr)
		}
		io.Copy(w, stderr)
	}()
	go func() {
		wg.Wait()
		cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() { c.kill() })
	return c
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// stop sends SIGTERM and waits.
func (c *child) stop(t testing.TB) {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop on SIGTERM", c.name)
		c.kill()
	}
}

// wait waits for the coordinator to finish and returns its summary.
func (c *child) wait(t testing.TB, d time.Duration) scan.Summary {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(d):
		c.kill()
		t.Fatalf("%s did not finish within %s; its log:\n%s", c.name, d, c.logText())
	}
	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	if last == nil || last.Err != "" || c.cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("%s failed (exit %d, %+v); its log:\n%s", c.name, c.cmd.ProcessState.ExitCode(), last, c.logText())
	}
	return *last.Summary
}

func (c *child) logText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.logs.Bytes()
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(b)
}

// logged returns the attributes of the child's JSON log lines with msg.
func (c *child) logged(msg string) []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(c.logs.Bytes(), []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(line, &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// harness is one cluster: a NATS server in the test process, a coordinator
// and workers as child processes.
type harness struct {
	t       *testing.T
	fs      farmSettings
	srvDir  string
	srv     *Embedded
	port    int
	db      string
	events  chan Event
	mu      sync.Mutex
	seen    []Event
	workers []*child
	coord   *child
}

// Test settings: a short ack wait so a killed worker's units come back
// quickly; everything else as in production.
var testSettings = Settings{AckWait: 3 * time.Second, Heartbeat: 500 * time.Millisecond, NakDelay: 500 * time.Millisecond, CollectorAckWait: 5 * time.Second, CollectorBatch: 16,
	CollectorDelay: 50 * time.Millisecond}

func newHarness(t *testing.T, fs farmSettings) *harness {
	h := &harness{t: t, fs: fs, srvDir: t.TempDir(), db: filepath.Join(t.TempDir(), "cluster.duckdb"), events: make(chan Event, 1<<16)}
	h.startServer()
	t.Cleanup(func() {
		for _, w := range h.workers {
			w.kill()
		}
		if h.coord != nil {
			h.coord.kill()
		}
		if h.srv != nil {
			h.srv.Shutdown()
		}
	})
	return h
}

func (h *harness) startServer() {
	srv, err := StartEmbedded(EmbeddedOptions{Dir: h.srvDir, Port: h.port})
	if err != nil {
		h.t.Fatal(err)
	}
	h.srv, h.port = srv, srv.Port()
}

func (h *harness) restartServer(pause time.Duration) {
	h.srv.Shutdown()
	h.srv = nil
	time.Sleep(pause)
	h.startServer()
}

func (h *harness) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", h.port) }

func (h *harness) startCoordinator() *child {
	h.coord = startChild(h.t, childSpec{Role: "coordinator", Name: "coordinator", URL: h.url(), Farm: h.fs, DB: h.db,
		UnitSize: 5, FetchWorkers: 4, Settings: testSettings}, nil)
	return h.coord
}

func (h *harness) startWorkers(n int) {
	for range n {
		name := fmt.Sprintf("worker-%d", len(h.workers)+1)
		// Two fetchers: a unit of 5 lines takes a few rounds of probes,
		// so a kill right after a unit-start lands while the unit is held.
		h.workers = append(h.workers, startChild(h.t, childSpec{Role: "worker", Name: name, URL: h.url(), FetchWorkers: 2}, h.events))
	}
}

// waitFor consumes events until cond holds (recording every event).
func (h *harness) waitFor(what string, d time.Duration, cond func(Event) bool) Event {
	h.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e := <-h.events:
			h.mu.Lock()
			h.seen = append(h.seen, e)
			h.mu.Unlock()
			if cond(e) {
				return e
			}
		case <-timeout:
			h.t.Fatalf("no %s within %s; coordinator log:\n%s", what, d, h.coord.logText())
		}
	}
}

// drain records the events still queued.
func (h *harness) drain() []Event {
	for {
		select {
		case e := <-h.events:
			h.seen = append(h.seen, e)
		default:
			return h.seen
		}
	}
}

func (h *harness) stopWorkers() {
	for _, w := range h.workers {
		w.stop(h.t)
	}
}

// check compares the cluster's store with the single-machine scan.
func (h *harness) check(want []model.Result) {
	h.t.Helper()
	sc, got := readStore(h.t, h.db)
	if sc.State != store.ScanDone {
		h.t.Errorf("scan state %s, want done", sc.State)
	}
	compareResults(h.t, want, got)
	checkCleanedUp(h.t, h.url())
}

// checkCleanedUp: a finished scan leaves no configuration, consumer or
// unit behind on the cluster.
func checkCleanedUp(t *testing.T, url string) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range []string{UnitsStream, ResultsStream} {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		for c := range s.ConsumerNames(ctx).Name() {
			t.Errorf("stream %s still has consumer %s", name, c)
		}
		if info, _ := s.Info(ctx); name == UnitsStream && info.State.Msgs > 0 {
			t.Errorf("%d units left in the stream", info.State.Msgs)
		}
	}
	kv, err := js.KeyValue(ctx, ScansBucket)
	if err != nil {
		t.Fatal(err)
	}
	if keys, err := kv.Keys(ctx); err == nil || !errors.Is(err, jetstream.ErrNoKeysFound) {
		t.Errorf("scan configurations left: %v %v", keys, err)
	}
}

// TestClusterFailures runs the same scan on a cluster of one NATS server,
// one coordinator (with the collector) and three worker processes, and
// breaks it in three ways; each time the store must equal the
// single-machine scan of the same input exactly.
func TestClusterFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns coordinator and worker processes")
	}
	farm := startFarm(t, testfarm.Config{Hosts: 90, Seed: 13})
	fs := settingsOf(farm, writeDomains(t, farm, "not a domain!", farm.Domains()[3]))
	want := baseline(t, fs)
	t.Logf("single-machine scan: %d results: %s", len(want), statusCounts(want))

	t.Run("kill -9 a worker", func(t *testing.T) {
		h := newHarness(t, fs)
		h.startCoordinator()
		h.startWorkers(3)
		// Kill worker-1 right after it received its second unit: it dies
		// holding at least one unacked unit.
		starts := 0
		h.waitFor("second unit of worker-1", 60*time.Second, func(e Event) bool {
			if e.Worker == "worker-1" && e.Kind == EventUnitStart {
				starts++
			}
			return starts == 2
		})
		h.workers[0].kill()
		sum := h.coord.wait(t, 90*time.Second)
		h.stopWorkers()
		redelivered := 0
		for _, e := range h.drain() {
			if e.Kind == EventUnitStart && e.Delivery > 1 {
				redelivered++
			}
		}
		if redelivered == 0 {
			t.Error("no unit was redelivered after the worker was killed")
		}
		t.Logf("summary %+v; %d redeliveries", sum, redelivered)
		h.check(want)
	})

	t.Run("restart the NATS server", func(t *testing.T) {
		h := newHarness(t, fs)
		h.startCoordinator()
		h.startWorkers(3)
		done := 0
		h.waitFor("4 finished units", 60*time.Second, func(e Event) bool {
			if e.Kind == EventUnitDone {
				done++
			}
			return done == 4
		})
		select {
		case <-h.coord.done:
			t.Fatal("the scan finished before the restart")
		default:
		}
		h.restartServer(500 * time.Millisecond)
		sum := h.coord.wait(t, 90*time.Second)
		h.stopWorkers()
		after := 0
		for _, e := range h.drain()[done:] {
			if e.Kind == EventUnitDone {
				after++
			}
		}
		if after == 0 {
			t.Error("no unit finished after the restart")
		}
		t.Logf("summary %+v; %d units finished after the restart", sum, after)
		h.check(want)
	})

	t.Run("kill -9 and restart the collector", func(t *testing.T) {
		h := newHarness(t, fs)
		first := h.startCoordinator()
		h.startWorkers(3)
		done := 0
		h.waitFor("6 finished units", 60*time.Second, func(e Event) bool {
			if e.Kind == EventUnitDone {
				done++
			}
			return done == 6
		})
		time.Sleep(300 * time.Millisecond) // let the collector commit some
		first.kill()
		time.Sleep(time.Second) // workers go on; their results wait in the stream
		second := h.startCoordinator()
		sum := second.wait(t, 90*time.Second)
		h.stopWorkers()
		if !sum.Resumed {
			t.Errorf("the restarted coordinator did not resume the scan: %+v", sum)
		}
		pub := second.logged("units published")
		if len(pub) != 1 {
			t.Fatalf("units published logged %d times", len(pub))
		}
		t.Logf("summary %+v; restart: %v", sum, pub[0])
		// Results are committed every CollectorDelay (50 ms here), so
		// lines stored before the kill make whole units that must not be
		// published again.
		if sum.Skipped == 0 {
			t.Error("nothing was stored before the collector was killed")
		}
		if skipped, _ := pub[0]["skipped_stored"].(float64); sum.Skipped > 0 && skipped == 0 {
			t.Errorf("units already stored were published again: %v", pub[0])
		}
		h.check(want)
	})
}
