package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/scan"
	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/store/storetest"
	"github.com/aicensus/aicensus/internal/warc"
	"github.com/aicensus/aicensus/internal/warc/warctest"
)

// buildWARCs writes nfiles gzip WARC files of real corpus pages, a third
// of them with a real AI vendor snippet inside, two pages per domain (in
// different files), some domains with a dns: record too, and one broken
// record per file. It returns the folder.
func buildWARCs(t testing.TB, nfiles, perFile int) string {
	t.Helper()
	root := filepath.Join("..", "..", "..", "shared")
	corpus, err := warctest.LoadPages(filepath.Join(root, "corpus", "html", "readability"), min(nfiles*perFile, 60))
	if warctest.ErrNoCorpus(err) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	embeds, err := warctest.LoadEmbeds(filepath.Join(root, "research", "ai-embeds"))
	if warctest.ErrNoCorpus(err) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	date := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	n := 0
	for f := range nfiles {
		var buf bytes.Buffer
		w := warctest.NewWriter(&buf, true)
		for i := range perFile {
			p := corpus[n%len(corpus)]
			domain := fmt.Sprintf("site%03d.test", n%(nfiles*perFile/2))
			body := p.HTML
			if n%3 == 0 {
				body = warctest.Inject(body, embeds[(n/3)%len(embeds)].HTML)
			}
			rec := warctest.Response(fmt.Sprintf("https://www.%s/page-%d", domain, i), 200,
				[]string{"Content-Type: text/html; charset=utf-8"}, body)
			rec.Date = date.Add(time.Duration(n) * time.Minute)
			if _, err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
			if n%7 == 0 {
				dnsRec := warctest.DNS(domain, rec.Date, domain+". 300 IN TXT \"openai-domain-verification=dv-AbCdEfGhIjKlMnOpQrStUvWx\"")
				if _, err := w.Write(dnsRec); err != nil {
					t.Fatal(err)
				}
			}
			if i == perFile/2 {
				if _, err := w.WriteRaw([]byte("WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 99999\r\n\r\nbroken")); err != nil {
					t.Fatal(err)
				}
			}
			n++
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-%02d.warc.gz", f)), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// archiveScanConfig is the single-machine configuration of an archive scan
// of specs, the same for the cluster and the baseline.
func archiveScanConfig(t testing.TB, db string, specs ...string) scan.ArchiveConfig {
	t.Helper()
	det, err := detectorOnce()
	if err != nil {
		t.Fatal(err)
	}
	return scan.ArchiveConfig{Specs: specs, DB: db, Detector: det, Files: 2, Workers: 2, Log: testLog()}
}

// archiveBaseline runs scan.Archive over specs and returns its store's
// comparable rows and counters.
func archiveBaseline(t testing.TB, specs ...string) archiveStore {
	t.Helper()
	db := filepath.Join(t.TempDir(), "single.duckdb")
	if _, err := scan.Archive(context.Background(), archiveScanConfig(t, db, specs...)); err != nil {
		t.Fatal(err)
	}
	return readArchiveStore(t, db)
}

// archiveStore is what two archive scans of the same input must agree on:
// every result with its detections and evidence (rids and times of the
// scan aside), the pages per source and the scan's counters.
type archiveStore struct {
	State    store.ScanState
	Results  []string
	Sources  map[string]int64 // pages stored per source, "done" or not
	Counters map[string]int64
	Archives int64
}

func readArchiveStore(t testing.TB, db string) archiveStore {
	t.Helper()
	sc, rs := storetest.LatestResults(t, db)
	var cps map[string]store.Checkpoint
	storetest.ReadLatest(t, db, func(st *store.Store, sc store.Scan) {
		var err error
		if cps, err = st.Checkpoints(context.Background(), sc.ID); err != nil {
			t.Fatal(err)
		}
	})
	out := archiveStore{State: sc.State, Results: comparableArchive(rs), Sources: map[string]int64{},
		Counters: sc.Counters, Archives: sc.ArchivesRead}
	for name, cp := range cps {
		if !cp.Done {
			t.Errorf("source %s not done: %+v", name, cp)
		}
		out.Sources[name] = cp.Pages
	}
	return out
}

// comparableArchive keeps of archive results everything but rids.
func comparableArchive(rs []model.Result) []string {
	var out []string
	for _, r := range rs {
		var techs []string
		for _, d := range r.Detections {
			var ev []string
			for _, e := range d.Evidence {
				ev = append(ev, fmt.Sprintf("%s|%s|%s|%s|%s|%s", e.Signal, e.Pattern, e.Match, e.Location, e.Class, e.Via))
			}
			sort.Strings(ev)
			techs = append(techs, fmt.Sprintf("%s@%s:%d:%s:%v:%v:%v", d.Technology, d.Version, d.Confidence, d.EvidenceClass, d.AI, d.Categories, ev))
		}
		sort.Strings(techs)
		out = append(out, fmt.Sprintf("%s %s %s %s %s %d %d %v %v %v", r.Target, r.Domain, r.Status, r.Error, r.URL, r.HTTPStatus, r.Pages,
			r.FirstSeen.UTC(), r.LastSeen.UTC(), techs))
	}
	sort.Strings(out)
	return out
}

func compareArchiveStores(t testing.TB, want, got archiveStore) {
	t.Helper()
	if got.State != store.ScanDone {
		t.Errorf("scan state %s, want done", got.State)
	}
	if len(want.Results) == 0 {
		t.Fatal("the baseline stored no results")
	}
	if !reflect.DeepEqual(want.Results, got.Results) {
		t.Errorf("results differ from the single-machine scan (%d vs %d):\n%s", len(want.Results), len(got.Results),
			strings.Join(storetest.Diff(want.Results, got.Results), "\n"))
	}
	if !reflect.DeepEqual(want.Sources, got.Sources) {
		t.Errorf("pages per source differ:\nwant %v\ngot  %v", want.Sources, got.Sources)
	}
	if !reflect.DeepEqual(want.Counters, got.Counters) || want.Archives != got.Archives {
		t.Errorf("counters differ:\nwant %v (%d archives)\ngot  %v (%d archives)", want.Counters, want.Archives, got.Counters, got.Archives)
	}
}

// archiveSpecs are the inputs of the archive tests: built WARCs, and the
// real archives of corpus/warc and testdata/sample when present.
func archiveSpecs(t testing.TB, nfiles, perFile int, real bool) []string {
	t.Helper()
	specs := []string{buildWARCs(t, nfiles, perFile)}
	if real {
		// The small real archives (ARC, WAT, WET, chunked, POST, revisit,
		// uncompressed WARC), two servo captures, and the sample; all of
		// servo's 22 MB would triple the test's time under -race.
		warcs := filepath.Join("..", "..", "..", "shared", "corpus", "warc")
		for _, p := range []string{filepath.Join(warcs, "aut-test-resources"), filepath.Join(warcs, "commoncrawl-whirlwind"),
			filepath.Join(warcs, "library-test-warcs"), filepath.Join(warcs, "servo-warc-tests", "Baidu.warc.gz"),
			filepath.Join(warcs, "servo-warc-tests", "360.warc.gz"), filepath.Join("..", "..", "testdata", "sample", "sample.warc.gz")} {
			abs, err := filepath.Abs(p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(abs); err == nil {
				specs = append(specs, abs)
			} else {
				t.Logf("%s not available: %v", p, err)
			}
		}
	}
	return specs
}

// TestArchiveEmbeddedEqualsSingleMachine runs `scan --warc --cluster
// embedded` (server, coordinator, collector and two workers in this
// process) over built and real WARCs and compares the store with
// scan.Archive's of the same input; then a finished scan resumes nothing.
func TestArchiveEmbeddedEqualsSingleMachine(t *testing.T) {
	specs := archiveSpecs(t, 4, 40, !testing.Short())
	want := archiveBaseline(t, specs...)
	db := filepath.Join(t.TempDir(), "cluster.duckdb")
	cfg := archiveScanConfig(t, db, specs...)
	srvDir := t.TempDir()
	sum, err := ScanArchiveEmbedded(context.Background(), ArchiveScanOptions{Archive: cfg}, EmbeddedRun{Workers: 2, Server: EmbeddedOptions{Dir: srvDir}})
	if err != nil {
		t.Fatal(err)
	}
	got := readArchiveStore(t, db)
	compareArchiveStores(t, want, got)
	if sum.Sources != len(want.Sources) || sum.Stats.Sources != int64(sum.Sources) || sum.Final.Results != int64(len(want.Results)) || sum.Pages == 0 {
		t.Errorf("summary %+v; want %d sources, %d results", sum, len(want.Sources), len(want.Results))
	}
	srv, err := StartEmbedded(EmbeddedOptions{Dir: srvDir})
	if err != nil {
		t.Fatal(err)
	}
	checkCleanedUp(t, srv.URL())
	srv.Shutdown()
	cfg.Resume = true
	if _, err := ScanArchiveEmbedded(context.Background(), ArchiveScanOptions{Archive: cfg}, EmbeddedRun{Workers: 1}); !errors.Is(err, scan.ErrNothingToResume) {
		t.Errorf("resume of a finished scan: %v", err)
	}
}

// TestArchiveClusterFailures runs an archive scan on a cluster of one NATS
// server (in this process), a coordinator and two worker processes, breaks
// it, and compares the store with scan.Archive's: kill -9 a worker after it
// published part of a source (the other reads the source again from the
// start; the repeated batches are dropped), and restart the NATS server
// mid-run.
func TestArchiveClusterFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns coordinator and worker processes")
	}
	dir := buildWARCs(t, 6, 50)
	want := archiveBaseline(t, dir)
	startArchive := func(h *harness) {
		h.coord = startChild(t, childSpec{Role: "archive-coordinator", Name: "coordinator", URL: h.url(), DB: h.db,
			Specs: []string{dir}, BatchPages: 8, Settings: testSettings}, nil)
		for i := range 2 {
			// One reader each: a source takes long enough that the kill
			// lands while batches of it are published and more are coming.
			h.workers = append(h.workers, startChild(t, childSpec{Role: "worker", Name: fmt.Sprintf("worker-%d", i+1),
				URL: h.url(), DetectWorkers: 1}, h.events))
		}
	}
	finish := func(h *harness) []Event {
		h.coord.wait(t, 90*time.Second)
		h.stopWorkers()
		compareArchiveStores(t, want, readArchiveStore(t, h.db))
		checkCleanedUp(t, h.url())
		for _, m := range h.coord.logged("every archive is in") {
			t.Logf("collector: %v", m)
		}
		return h.drain()
	}

	t.Run("kill -9 a worker", func(t *testing.T) {
		h := newHarness(t, farmSettings{})
		// Kill worker-1 once a results batch of a source it reads is in
		// the stream, so it dies mid-file. Worker-2 reads the source again
		// from the start; its first batches repeat worker-1's message ids,
		// so JetStream drops them (the collector drops any repeat that gets
		// through: TestArchiveCollectorDropsRepeats).
		nc, err := nats.Connect(h.url())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		// Results messages seen on the wire join the worker events.
		const published EventKind = "test-results-published"
		if _, err := nc.Subscribe(resultsPrefix+">", func(m *nats.Msg) {
			select {
			case h.events <- Event{Kind: published, Unit: m.Header.Get(hdrUnit)}:
			default:
			}
		}); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
		startArchive(h)
		held, out := map[string]bool{}, map[string]bool{}
		h.waitFor("a results batch of worker-1", 60*time.Second, func(e Event) bool {
			switch {
			case e.Worker == "worker-1" && e.Kind == EventUnitStart:
				held[e.Unit] = true
				return out[e.Unit]
			case e.Kind == published:
				out[e.Unit] = true
				return held[e.Unit]
			}
			return false
		})
		h.workers[0].kill()
		redelivered := 0
		for _, e := range finish(h) {
			if e.Kind == EventUnitStart && e.Delivery > 1 {
				redelivered++
			}
		}
		if redelivered == 0 {
			t.Error("no unit was redelivered after the worker was killed")
		}
	})

	t.Run("restart the NATS server", func(t *testing.T) {
		h := newHarness(t, farmSettings{})
		startArchive(h)
		done := 0
		h.waitFor("2 finished units", 60*time.Second, func(e Event) bool {
			if e.Kind == EventUnitDone {
				done++
			}
			return done == 2
		})
		select {
		case <-h.coord.done:
			t.Fatal("the scan finished before the restart")
		default:
		}
		h.restartServer(500 * time.Millisecond)
		after := 0
		for _, e := range finish(h)[done:] {
			if e.Kind == EventUnitDone {
				after++
			}
		}
		if after == 0 {
			t.Error("no unit finished after the restart")
		}
	})
}

// TestArchiveCollectorDropsRepeats plays a worker that publishes each
// source's pages the way redeliveries and a slow worker racing its
// replacement do: overlapping batches cut at other offsets, a stale batch
// after later ones, and the last batch twice. The store must still equal
// scan.Archive's: every page once.
func TestArchiveCollectorDropsRepeats(t *testing.T) {
	dir := buildWARCs(t, 3, 30)
	want := archiveBaseline(t, dir)
	srv, err := StartEmbedded(EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	db := filepath.Join(t.TempDir(), "cluster.duckdb")
	cfg := archiveScanConfig(t, db, dir)
	units, js, done := clusterRun(t, srv, func(url string) error {
		_, err := ScanArchive(context.Background(), ArchiveScanOptions{Archive: cfg, URL: url, Settings: testSettings})
		return err
	})
	cd, err := newCodec()
	if err != nil {
		t.Fatal(err)
	}
	defer cd.close()
	ctx := context.Background()
	publish := func(unit, id string, m *pageMsg) {
		t.Helper()
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		msg := &nats.Msg{Subject: resultsPrefix + strings.Split(unit, ".")[0], Data: cd.enc.EncodeAll(b, nil), Header: nats.Header{}}
		msg.Header.Set(hdrUnit, unit)
		if _, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(id)); err != nil {
			t.Fatal(err)
		}
	}
	for n := 0; n < 3; {
		batch, err := units.Fetch(1, jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for msg := range batch.Messages() {
			n++
			u, err := decodeUnit(msg.Data())
			if err != nil {
				t.Fatal(err)
			}
			var batches []scan.PageBatch
			_, _, err = scan.ReadPages(ctx, []warc.Source{{Name: u.WARC.Source, Kind: warc.SourceFile}},
				scan.PageOptions{ScanID: 1, Detector: cfg.Detector, Scan: warc.ScanOptions{Files: 1, Workers: 2}},
				func(_ context.Context, b scan.PageBatch) error { batches = append(batches, b); return nil })
			if err != nil {
				t.Fatal(err)
			}
			merged := func(from, to int) *pageMsg {
				m := &pageMsg{Version: WireVersion, ScanID: 1, Source: u.WARC.Source, Start: batches[from].Start}
				for _, b := range batches[from:to] {
					m.merge(b)
				}
				return m
			}
			last := len(batches) - 1 // the Done batch
			if !batches[last].Done || last < 4 {
				t.Fatalf("%s: %d batches, last %+v", u.WARC.Source, len(batches), batches[last].PageBatch)
			}
			half := last / 2
			publish(u.ID, u.ID+"/a", merged(0, half))        // a first delivery's start
			publish(u.ID, u.ID+"/b", merged(0, last))        // a second delivery, cut elsewhere: overlaps
			publish(u.ID, u.ID+"/c", merged(half/2, half+1)) // a slow delivery's stale batch
			publish(u.ID, u.ID+"/d", merged(last, last+1))   // the end
			publish(u.ID, u.ID+"/e", merged(0, last+1))      // a whole late delivery, done again
			if err := msg.Ack(); err != nil {
				t.Fatal(err)
			}
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the scan did not finish")
	}
	compareArchiveStores(t, want, readArchiveStore(t, db))
}
