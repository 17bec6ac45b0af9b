package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newScan(t testing.TB, s *Store, kind string) Scan {
	t.Helper()
	sc, err := s.CreateScan(context.Background(), ScanSpec{Kind: kind, Input: "test-input", Options: map[string]any{"n": 1}})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

var baseTime = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// sampleResult is a deterministic result for input line i (1-based):
// every 7th has detections (i%3+1 of them, each with i%4+1 evidence), every
// 11th failed, some have redirects and DNS records.
func sampleResult(scanID int64, i int) model.Result {
	target := fmt.Sprintf("site%d.example", i)
	r := model.Result{
		ScanID: scanID, Target: target, Line: i, Domain: target, Status: model.StatusOK,
		URL: "https://" + target + "/", HTTPStatus: 200,
		Time: baseTime.Add(time.Duration(i) * time.Second), DurationMS: int64(i % 900),
		Detections: []model.Detection{},
	}
	if i%17 == 0 {
		r.Input, r.Target = "not a domain "+target, "not a domain "+target
		r.Domain, r.URL, r.HTTPStatus, r.Status = "", "", 0, model.StatusInvalidInput
		return r
	}
	if i%5 == 0 {
		r.Input = "HTTP://" + target
		r.Redirects = []string{"http://" + target + "/", "https://" + target + "/"}
	}
	if i%11 == 0 {
		r.Status, r.Error, r.URL, r.HTTPStatus = model.StatusConnectRefused, "dial tcp: connection refused", "", 0
		return r
	}
	if i%13 == 0 {
		r.DNS = []model.DNSRecord{{Name: target, Type: "TXT", Value: "openai-domain-verification=x"}}
	}
	if i%7 == 0 {
		r.Detections = sampleDetections(i)
	}
	return r
}

func sampleDetections(i int) []model.Detection {
	classes := model.EvidenceClasses()
	var ds []model.Detection
	for k := range i%3 + 1 {
		d := model.Detection{
			Technology: fmt.Sprintf("Tech%d", (i+k)%5), Version: fmt.Sprintf("1.%d", k),
			Categories: []string{"AI chatbot", "Widgets"}, OpenSource: k%2 == 0, License: "MIT", AI: true,
			Confidence: 50 + k*10,
		}
		if k == 1 {
			d.Version, d.License, d.Categories = "", "", []string{}
		}
		for j := range i%4 + 1 {
			d.Evidence = append(d.Evidence, model.Evidence{
				Signal: "scriptSrc", Pattern: fmt.Sprintf(`cdn\.tech%d\.com`, j), Match: fmt.Sprintf("cdn.tech%d.com", j),
				Location: fmt.Sprintf("https://site%d.example/", i), Class: classes[(j+k)%len(classes)], Via: model.ViaStatic,
			})
		}
		d.EvidenceClass = d.Classes()[0]
		ds = append(ds, d)
	}
	return ds
}

func collect(t testing.TB, s *Store, scanID int64) []model.Result {
	t.Helper()
	var out []model.Result
	if err := s.Results(context.Background(), scanID, func(r model.Result) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// normalize makes an expected result comparable with one read back:
// reading gives non-nil Detections, Evidence and Categories.
func normalize(r model.Result) model.Result {
	if r.Detections == nil {
		r.Detections = []model.Detection{}
	}
	ds := make([]model.Detection, len(r.Detections))
	for i, d := range r.Detections {
		if d.Categories == nil {
			d.Categories = []string{}
		}
		if d.Evidence == nil {
			d.Evidence = []model.Evidence{}
		}
		ds[i] = d
	}
	r.Detections = ds
	return r
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	sc := newScan(t, s, KindLive)
	w, err := s.NewWriter(WriterOptions{BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	var want []model.Result
	for i := 1; i <= 500; i++ {
		r := sampleResult(sc.ID, i)
		want = append(want, normalize(sampleResult(sc.ID, i)))
		if err := w.Write(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := collect(t, s, sc.ID)
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("result %d differs:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	st := w.Stats()
	var dets, evs int64
	for _, r := range want {
		for _, d := range r.Detections {
			dets++
			evs += int64(len(d.Evidence))
		}
	}
	if st.Results != 500 || st.Detections != dets || st.Evidence != evs || st.Duplicates != 0 {
		t.Errorf("stats %+v, want 500 results, %d detections, %d evidence", st, dets, evs)
	}
	counts, err := s.StatusCounts(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if counts[model.StatusConnectRefused] != 43 || counts[model.StatusInvalidInput] != 29 || counts[model.StatusOK] != 428 {
		t.Errorf("status counts %v", counts)
	}
	// Denormalized columns agree with the result.
	var bad int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM detections d JOIN results r USING (rid)
		WHERE d.domain IS DISTINCT FROM r.domain OR d.status <> r.status OR d.target <> r.target`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d detections disagree with their result", bad)
	}
}

func TestWriterRejectsInvalid(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	sc := newScan(t, s, KindLive)
	w, err := s.NewWriter(WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for name, r := range map[string]model.Result{
		"no scan":     {Target: "a.example", Status: model.StatusOK},
		"no target":   {ScanID: sc.ID, Status: model.StatusOK},
		"bad status":  {ScanID: sc.ID, Target: "a.example", Status: "fine"},
		"no tech":     {ScanID: sc.ID, Target: "a.example", Status: model.StatusOK, Detections: []model.Detection{{}}},
		"zero status": {ScanID: sc.ID, Target: "a.example"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := w.Write(ctx, r); !errors.Is(err, ErrInvalid) {
				t.Errorf("Write = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := s.NewWriter(WriterOptions{}); !errors.Is(err, ErrWriterBusy) {
		t.Errorf("second NewWriter = %v, want ErrWriterBusy", err)
	}
}

func TestDuplicatesDropped(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	sc := newScan(t, s, KindLive)
	other := newScan(t, s, KindLive)
	write := func(rs ...model.Result) WriterStats {
		t.Helper()
		w, err := s.NewWriter(WriterOptions{BatchSize: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if err := w.Write(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return w.Stats()
	}
	var first []model.Result
	for i := 1; i <= 50; i++ {
		first = append(first, sampleResult(sc.ID, i))
	}
	// Duplicates within one batch and across batches of one Writer.
	st := write(append(append([]model.Result{}, first...), first[:30]...)...)
	if st.Results != 50 || st.Duplicates != 30 {
		t.Errorf("first writer: %+v, want 50 results, 30 duplicates", st)
	}
	// A new Writer (as after a restart) loads what is stored; the same
	// target in another scan is not a duplicate.
	var second []model.Result
	for i := 40; i <= 70; i++ {
		second = append(second, sampleResult(sc.ID, i), sampleResult(other.ID, i))
	}
	st = write(second...)
	if st.Results != 20+31 || st.Duplicates != 11 {
		t.Errorf("second writer: %+v, want 51 results, 11 duplicates", st)
	}
	for _, c := range []struct {
		scan int64
		want int
	}{{sc.ID, 70}, {other.ID, 31}} {
		var n, distinct, dets, wantDets int
		if err := s.DB().QueryRowContext(ctx, `SELECT count(*), count(DISTINCT target), sum(n_detections) FROM results WHERE scan_id = ?`, c.scan).
			Scan(&n, &distinct, &dets); err != nil {
			t.Fatal(err)
		}
		if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM detections WHERE scan_id = ?`, c.scan).Scan(&wantDets); err != nil {
			t.Fatal(err)
		}
		if n != c.want || distinct != c.want || dets != wantDets {
			t.Errorf("scan %d: %d rows, %d distinct, %d/%d detections; want %d", c.scan, n, distinct, dets, wantDets, c.want)
		}
	}
}

func TestResumeHelpers(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	spec := ScanSpec{Kind: KindLive, Input: "list.txt", Options: map[string]int{"concurrency": 8}}
	sc, err := s.CreateScan(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.FindResumable(ctx, KindLive, sc.Fingerprint); err != nil || !ok {
		t.Fatalf("FindResumable of a running scan = %v, %v", ok, err)
	}
	w, err := s.NewWriter(WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 2, 3, 64, 65, 1000} {
		if err := w.Write(ctx, sampleResult(sc.ID, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines, err := s.StoredLines(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if lines.Len() != 6 || lines.Max() != 1000 || !lines.Has(64) || !lines.Has(65) || lines.Has(4) || lines.Has(0) || lines.Has(5000) {
		t.Errorf("lines: len %d max %d", lines.Len(), lines.Max())
	}
	var targets []string
	if err := s.EachStoredTarget(ctx, sc.ID, func(target string, line int) error {
		targets = append(targets, fmt.Sprintf("%s@%d", target, line))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(targets)
	want := []string{"site1.example@1", "site1000.example@1000", "site2.example@2", "site3.example@3", "site64.example@64", "site65.example@65"}
	sort.Strings(want)
	if !reflect.DeepEqual(targets, want) {
		t.Errorf("targets %v, want %v", targets, want)
	}

	if err := s.SetScanState(ctx, sc.ID, ScanInterrupted); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.FindResumable(ctx, KindLive, Fingerprint(KindLive, "list.txt", []byte(`{"concurrency":8}`)))
	if err != nil || !ok || got.ID != sc.ID || got.State != ScanInterrupted || got.FinishedAt.IsZero() {
		t.Fatalf("FindResumable = %+v, %v, %v", got, ok, err)
	}
	if err := s.SetScanState(ctx, sc.ID, ScanDone); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.FindResumable(ctx, KindLive, sc.Fingerprint); ok {
		t.Error("a done scan is resumable")
	}
	if err := s.SetScanState(ctx, 999, ScanDone); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetScanState(999) = %v, want ErrNotFound", err)
	}
}

func TestScanMetadata(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.LatestScan(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("LatestScan on empty store = %v, want ErrNotFound", err)
	}
	a, err := s.CreateScan(ctx, ScanSpec{Kind: KindLive, Input: "a.txt", CatalogVersion: "cat-1", ToolVersion: "v0.1"})
	if err != nil {
		t.Fatal(err)
	}
	b := newScan(t, s, KindWARC)
	if err := s.AddScanCounters(ctx, b.ID, map[string]int64{"warc.broken.gzip": 2, "records": 10}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddScanCounters(ctx, b.ID, map[string]int64{"warc.broken.gzip": 1}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Scan(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Counters, map[string]int64{"warc.broken.gzip": 3, "records": 10}) || string(got.Options) != `{"n":1}` {
		t.Errorf("scan %+v", got)
	}
	if a.CatalogVersion != "cat-1" || a.ToolVersion != "v0.1" || a.State != ScanRunning || a.StartedAt.IsZero() || !a.FinishedAt.IsZero() {
		t.Errorf("created scan %+v", a)
	}
	all, err := s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != b.ID || all[1].ID != a.ID {
		t.Errorf("Scans = %+v", all)
	}
	latest, err := s.LatestScan(ctx)
	if err != nil || latest.ID != b.ID {
		t.Errorf("LatestScan = %+v, %v", latest, err)
	}
	if _, err := s.Scan(ctx, 42); !errors.Is(err, ErrNotFound) {
		t.Errorf("Scan(42) = %v", err)
	}
}
