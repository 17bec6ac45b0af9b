package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/scan"
	"github.com/aicensus/aicensus/internal/store"
)

// TestEmbeddedEqualsSingleMachine runs `--cluster embedded` (server,
// coordinator, collector and two workers in this process) and compares the
// store with a single-machine scan of the same input.
func TestEmbeddedEqualsSingleMachine(t *testing.T) {
	fs, want := smallFarm(t)
	db := filepath.Join(t.TempDir(), "cluster.duckdb")
	cfg, err := liveConfig(fs, db, 8)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cfg.JSON = &out
	srvDir := t.TempDir()
	sum, err := ScanEmbedded(context.Background(), ScanOptions{Live: cfg, UnitSize: 7}, EmbeddedRun{Workers: 2, Server: EmbeddedOptions{Dir: srvDir}})
	if err != nil {
		t.Fatal(err)
	}
	// The finished scan left nothing on the (restarted) server.
	srv, err := StartEmbedded(EmbeddedOptions{Dir: srvDir})
	if err != nil {
		t.Fatal(err)
	}
	checkCleanedUp(t, srv.URL())
	srv.Shutdown()
	sc, got := readStore(t, db)
	if sc.State != store.ScanDone {
		t.Errorf("scan state %s", sc.State)
	}
	if sum.Written != len(want) || sum.ScanID != sc.ID {
		t.Errorf("summary: %+v, want %d written", sum, len(want))
	}
	compareResults(t, want, got)
	if n := strings.Count(out.String(), "\n"); n != len(want) {
		t.Errorf("%d JSON lines, want %d", n, len(want))
	}
	// Running the finished scan again starts a new one (as scan.Live does);
	// --resume has nothing to continue.
	cfg.Resume, cfg.JSON = true, nil
	if _, err := ScanEmbedded(context.Background(), ScanOptions{Live: cfg, UnitSize: 7}, EmbeddedRun{Workers: 1}); !errors.Is(err, scan.ErrNothingToResume) {
		t.Errorf("resume of a finished scan: %v", err)
	}
}

// TestClusterResumesSingleMachineScan: a scan interrupted on one machine
// is continued by the cluster (same fingerprint), storing only the rest.
func TestClusterResumesSingleMachineScan(t *testing.T) {
	fs, want := smallFarm(t)
	db := filepath.Join(t.TempDir(), "mixed.duckdb")
	cfg, err := liveConfig(fs, db, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	cfg.JSON = writerFunc(func(p []byte) (int, error) {
		if n.Add(1) == 10 {
			cancel()
		}
		return len(p), nil
	})
	if _, err := scan.Live(ctx, cfg); err == nil {
		t.Fatal("interrupted scan returned no error")
	}
	cfg, _ = liveConfig(fs, db, 8)
	sum, err := ScanEmbedded(context.Background(), ScanOptions{Live: cfg, UnitSize: 4}, EmbeddedRun{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Resumed || sum.Skipped < 10 || sum.Written+sum.Skipped != len(want) {
		t.Errorf("the cluster did not continue the scan: %+v", sum)
	}
	sc, got := readStore(t, db)
	if sc.State != store.ScanDone {
		t.Errorf("state %s", sc.State)
	}
	compareResults(t, want, got)
}

// TestParquetOutput writes a cluster scan as Parquet files, interrupted
// and resumed, reads the folder with DuckDB as one table and imports it
// into a store: the same results as the single-machine scan, once each.
func TestParquetOutput(t *testing.T) {
	fs, want := smallFarm(t)
	db := filepath.Join(t.TempDir(), "records.duckdb")
	dir := filepath.Join(t.TempDir(), "parquet")
	cfg, err := liveConfig(fs, db, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	cfg.JSON = writerFunc(func(p []byte) (int, error) {
		if n.Add(1) >= 8 {
			cancel()
		}
		return len(p), nil
	})
	// Batches of one message: a Parquet file every 3 messages, so the
	// interruption finds some committed.
	opts := ScanOptions{Live: cfg, UnitSize: 3, Parquet: dir, Settings: Settings{CollectorBatch: 1}}
	if _, err := ScanEmbedded(ctx, opts, EmbeddedRun{Workers: 1}); err == nil {
		t.Fatal("interrupted scan returned no error")
	}
	opts.Live.JSON = nil
	sum, err := ScanEmbedded(context.Background(), opts, EmbeddedRun{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Resumed || sum.Skipped == 0 {
		t.Errorf("not resumed from the Parquet folder: %+v", sum)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.parquet"))
	if len(files) < 2 {
		t.Fatalf("%d files", len(files))
	}

	ctx = context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sc, _ := st.LatestScan(ctx)
	if sc.State != store.ScanDone {
		t.Errorf("scan record state %s", sc.State)
	}
	// DuckDB reads the folder as one table, nested like `export --format parquet`.
	var rows, lines, ok int
	q := `SELECT count(*), count(DISTINCT line), count(*) FILTER (WHERE status = 'ok') FROM read_parquet(?)`
	if err := st.DB().QueryRowContext(ctx, q, filepath.Join(dir, "*.parquet")).Scan(&rows, &lines, &ok); err != nil {
		t.Fatal(err)
	}
	if rows != len(want) || lines != rows {
		t.Errorf("read_parquet: %d rows, %d distinct lines, want %d", rows, lines, len(want))
	}
	var techs int
	q = `SELECT count(*) FROM (SELECT unnest(detections) AS d FROM read_parquet(?)) WHERE d.ai AND len(d.evidence) > 0`
	if err := st.DB().QueryRowContext(ctx, q, filepath.Join(dir, "*.parquet")).Scan(&techs); err != nil {
		t.Fatal(err)
	}
	if techs == 0 {
		t.Error("no AI detections with evidence in the Parquet files")
	}
	ids, err := ParquetScans(dir)
	if err != nil || len(ids) != 1 || ids[0] != sc.ID {
		t.Fatalf("ParquetScans = %v, %v", ids, err)
	}
	for range 2 { // importing twice stores each target once
		got, err := ImportParquet(ctx, st, dir, sc.ID, sc.ID)
		if err != nil || got != len(want) {
			t.Fatalf("import: %d, %v", got, err)
		}
	}
	st.Close()
	_, got := readStore(t, db)
	compareResults(t, want, got)
}

// clusterAt runs a coordinator on srv without workers, so that a test can
// interfere with the units before starting them.
func clusterAt(t *testing.T, srv *Embedded, opts ScanOptions) (key string, units jetstream.Consumer, js jetstream.JetStream, done <-chan error) {
	t.Helper()
	return clusterOf(t, srv, func(url string) error {
		opts.URL = url
		_, err := Scan(context.Background(), opts)
		return err
	})
}

// clusterRun is clusterAt for any coordinator run.
func clusterRun(t *testing.T, srv *Embedded, run func(url string) error) (units jetstream.Consumer, js jetstream.JetStream, done <-chan error) {
	t.Helper()
	_, units, js, done = clusterOf(t, srv, run)
	return units, js, done
}

func clusterOf(t *testing.T, srv *Embedded, run func(url string) error) (key string, units jetstream.Consumer, js jetstream.JetStream, done <-chan error) {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- run(srv.URL()) }()
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ = jetstream.New(nc)
	ctx := context.Background()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		s, err := js.Stream(ctx, UnitsStream)
		if err != nil {
			continue
		}
		info, err := s.Info(ctx)
		if err != nil || info.State.Msgs == 0 {
			continue
		}
		for name := range s.ConsumerNames(ctx).Name() {
			if k, ok := strings.CutPrefix(name, "workers-"); ok {
				key = k
			}
		}
		if key != "" {
			c, err := s.Consumer(ctx, "workers-"+key)
			if err != nil {
				t.Fatal(err)
			}
			return key, c, js, ch
		}
	}
	t.Fatal("the coordinator published no units")
	return
}

// TestDeadLetterAndRefusal: a unit whose worker vanished more often than
// MaxAttempts allows ends as internal-error results naming it (nothing is
// lost silently, the scan finishes); a worker whose catalog differs
// refuses the scan and takes no unit.
func TestDeadLetterAndRefusal(t *testing.T) {
	fs, want := smallFarm(t)
	srv, err := StartEmbedded(EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	db := filepath.Join(t.TempDir(), "dead.duckdb")
	cfg, _ := liveConfig(fs, db, 4)
	// Ten heartbeats per ack wait: only the unit nobody heartbeats expires.
	settings := Settings{AckWait: 2 * time.Second, Heartbeat: 200 * time.Millisecond, MaxAttempts: 1, NakDelay: 200 * time.Millisecond}
	_, units, _, done := clusterAt(t, srv, ScanOptions{Live: cfg, UnitSize: 5, Settings: settings})
	// Take a unit and never ack it: a worker that died holding it.
	fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	batch, err := units.Fetch(1, jetstream.FetchContext(fctx))
	if err != nil {
		t.Fatal(err)
	}
	var held *Unit
	for m := range batch.Messages() {
		held, err = decodeUnit(m.Data())
	}
	cancel()
	if held == nil || err != nil {
		t.Fatalf("no unit to hold: %v", err)
	}

	extra := filepath.Join(t.TempDir(), "extra.json")
	os.WriteFile(extra, []byte(`{"categories": {"1": {"name": "CMS", "priority": 1}},
		"technologies": {"Thing": {"cats": [1], "website": "https://thing.test", "html": "thing"}}}`), 0o644)
	var mu sync.Mutex
	var events []Event
	record := func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	wctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, o := range []WorkerOptions{
		{URL: srv.URL(), Name: "good", Events: record},
		{URL: srv.URL(), Name: "other-catalog", CatalogPaths: []string{extra}, Events: record},
	} {
		wg.Go(func() { RunWorker(wctx, o) })
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(120 * time.Second):
		t.Fatal("the scan did not finish")
	}
	stop()
	wg.Wait()

	_, got := readStore(t, db)
	heldLines := map[int]bool{}
	for _, it := range held.Items {
		heldLines[it.Line] = true
	}
	var rest []model.Result
	for _, r := range got {
		if !heldLines[r.Line] {
			rest = append(rest, r)
			continue
		}
		if r.Status == model.StatusInvalidInput {
			continue // an invalid line stays invalid
		}
		if r.Status != model.StatusInternalError || !strings.Contains(r.Error, held.ID) {
			t.Errorf("line %d of the dead unit: %s %q", r.Line, r.Status, r.Error)
		}
	}
	var wantRest []model.Result
	for _, r := range want {
		if !heldLines[r.Line] {
			wantRest = append(wantRest, r)
		}
	}
	compareResults(t, wantRest, rest)
	if len(got) != len(want) {
		t.Errorf("%d results, want %d", len(got), len(want))
	}
	refused, dead := false, false
	for _, e := range events {
		switch {
		case e.Worker == "other-catalog" && e.Kind == EventScanRefused:
			refused = strings.Contains(e.Err, ErrCatalogMismatch.Error())
		case e.Worker == "other-catalog" && e.Kind == EventUnitStart:
			t.Errorf("the refusing worker took unit %s", e.Unit)
		case e.Kind == EventUnitDead && e.Unit == held.ID:
			dead = true
		}
	}
	if !refused || !dead {
		t.Errorf("refused %v, dead-lettered %v; events %+v", refused, dead, events)
	}
}

// TestUnitFailureIsReported: a unit no worker can run (here an archive
// unit, which workers do not run yet) ends the scan with an error naming
// it, the scan stays resumable, and everything else is stored.
func TestUnitFailureIsReported(t *testing.T) {
	fs, want := smallFarm(t)
	srv, err := StartEmbedded(EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	db := filepath.Join(t.TempDir(), "failed.duckdb")
	cfg, _ := liveConfig(fs, db, 4)
	settings := Settings{AckWait: 2 * time.Second, Heartbeat: 300 * time.Millisecond, NakDelay: 300 * time.Millisecond}
	key, units, js, done := clusterAt(t, srv, ScanOptions{Live: cfg, UnitSize: 6, Settings: settings})
	fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	batch, err := units.Fetch(1, jetstream.FetchContext(fctx))
	if err != nil {
		t.Fatal(err)
	}
	var lost *Unit
	for m := range batch.Messages() {
		lost, _ = decodeUnit(m.Data())
		m.DoubleAck(fctx)
	}
	cancel()
	if lost == nil {
		t.Fatal("no unit")
	}
	warc, _ := json.Marshal(Unit{Version: WireVersion, Kind: KindWARC, ID: lost.ID, Scan: key, WARC: &WARCFile{Source: "CC-MAIN-x.warc.gz"}})
	if _, err := js.Publish(context.Background(), unitsPrefix+key, warc, jetstream.WithMsgID(lost.ID+"/warc")); err != nil {
		t.Fatal(err)
	}
	var failed atomic.Value
	wctx, stop := context.WithCancel(context.Background())
	defer stop()
	go RunWorker(wctx, WorkerOptions{URL: srv.URL(), Name: "w", Events: func(e Event) {
		if e.Kind == EventUnitFailed {
			failed.Store(e.Err)
		}
	}})
	select {
	case err = <-done:
	case <-time.After(120 * time.Second):
		t.Fatal("the scan did not end")
	}
	if !errors.Is(err, ErrUnitsFailed) || !strings.Contains(err.Error(), "archive scan") {
		t.Fatalf("err = %v, want ErrUnitsFailed naming the reason", err)
	}
	if e, _ := failed.Load().(string); !strings.Contains(e, lost.ID) {
		t.Errorf("worker event: %q", e)
	}
	sc, got := readStore(t, db)
	if sc.State != store.ScanInterrupted {
		t.Errorf("state %s, want interrupted (resumable)", sc.State)
	}
	if len(got) != len(want)-len(lost.Items) {
		t.Errorf("%d results, want %d (all but the failed unit's %d)", len(got), len(want)-len(lost.Items), len(lost.Items))
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestWorkerWakesOnBucketCreation: a worker started before any coordinator
// takes up the first scan when the server announces the scans bucket, not
// at its next poll (made an hour here, so only the advisory can wake it).
func TestWorkerWakesOnBucketCreation(t *testing.T) {
	fs, want := smallFarm(t)
	srv, err := StartEmbedded(EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	waiting := make(chan struct{})
	var once sync.Once
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		if bytes.Contains(p, []byte("no scans yet")) {
			once.Do(func() { close(waiting) })
		}
		return len(p), nil
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	wctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Go(func() { RunWorker(wctx, WorkerOptions{URL: srv.URL(), Name: "early", Log: log, bucketPoll: time.Hour}) })
	select {
	case <-waiting:
	case <-time.After(60 * time.Second):
		t.Fatal("the worker never looked for the scans bucket")
	}
	db := filepath.Join(t.TempDir(), "early.duckdb")
	cfg, _ := liveConfig(fs, db, 4)
	done := make(chan error, 1)
	go func() {
		_, err := Scan(context.Background(), ScanOptions{Live: cfg, URL: srv.URL(), UnitSize: 10})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(120 * time.Second):
		t.Fatal("the waiting worker did not take up the scan (advisory not seen)")
	}
	_, got := readStore(t, db)
	compareResults(t, want, got)
}
