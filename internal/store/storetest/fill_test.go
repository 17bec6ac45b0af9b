package storetest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/store"
)

func TestFill(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "fill.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 50000
	sc, err := Fill(ctx, s, Options{Results: n})
	if err != nil {
		t.Fatal(err)
	}
	if sc.State != store.ScanDone {
		t.Errorf("state %s", sc.State)
	}
	counts, err := s.StatusCounts(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for st, c := range counts {
		if !st.Valid() {
			t.Errorf("invalid status %q", st)
		}
		total += c
	}
	if total != n || counts[model.StatusOK] < n*65/100 || counts[model.StatusOK] > n*80/100 {
		t.Errorf("counts %v", counts)
	}
	// Every result reads back complete and valid; ~1% have detections.
	var withDet, dets int
	err = s.Results(ctx, sc.ID, func(r model.Result) error {
		if len(r.Detections) > 0 {
			withDet++
		}
		seen := map[string]bool{}
		for _, d := range r.Detections {
			dets++
			if seen[d.Technology] || len(d.Evidence) == 0 || !d.EvidenceClass.Valid() {
				t.Fatalf("bad detection %+v in %s", d, r.Target)
			}
			seen[d.Technology] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if withDet < n/200 || withDet > n*2/100 {
		t.Errorf("%d of %d results with detections, want about 1%%", withDet, n)
	}
	var sum int
	if err := s.DB().QueryRow(`SELECT sum(n_detections) FROM results WHERE scan_id = ?`, sc.ID).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != dets {
		t.Errorf("n_detections sums to %d, detections rows %d", sum, dets)
	}
	// A second fill is a second scan; the Writer still works after it.
	sc2, err := Fill(ctx, s, Options{Results: 100, DetectionRate: 0.5})
	if err != nil || sc2.ID == sc.ID {
		t.Fatalf("second fill: %+v, %v", sc2, err)
	}
	w, err := s.NewWriter(store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, model.Result{ScanID: sc2.ID, Target: "site1.com", Status: model.StatusOK}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, model.Result{ScanID: sc2.ID, Target: "new.example", Status: model.StatusOK}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Results+st.Duplicates != 2 {
		t.Errorf("writer after fill: %+v", st)
	}
}

func TestFillArchive(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "archive.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc, err := FillArchive(ctx, s, ArchiveOptions{Pages: 20000, Targets: 500})
	if err != nil {
		t.Fatal(err)
	}
	cps, err := s.Checkpoints(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 16 {
		t.Errorf("%d checkpoints", len(cps))
	}
	st, err := s.FinalizeArchiveScan(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pages != 20000 || st.Results != 500 || st.Detections == 0 || st.Evidence == 0 {
		t.Errorf("finalize %+v", st)
	}
	var pages int64
	if err := s.DB().QueryRow(`SELECT sum(pages) FROM results WHERE scan_id = ?`, sc.ID).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if pages != 20000 {
		t.Errorf("results aggregate %d pages", pages)
	}
	// Every detection's evidence names its record.
	err = s.Results(ctx, sc.ID, func(r model.Result) error {
		for _, d := range r.Detections {
			for _, e := range d.Evidence {
				if !strings.Contains(e.Location, ".warc.gz@") {
					t.Fatalf("%s %s: evidence location %q names no record", r.Target, d.Technology, e.Location)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFillCompanies(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc, err := Fill(ctx, s, Options{Results: 20000})
	if err != nil {
		t.Fatal(err)
	}
	if err := FillCompanies(ctx, s, CompanyOptions{Companies: 10000}); err != nil {
		t.Fatal(err)
	}
	var companies, matched, small, exact int
	err = s.DB().QueryRow(`SELECT (SELECT count(*) FROM companies),
		(SELECT count(*) FROM results r JOIN companies c USING (domain) WHERE r.scan_id = ?),
		(SELECT count(*) FILTER (WHERE size_bucket = '1-10') FROM companies),
		(SELECT count(employees) FROM companies)`, sc.ID).Scan(&companies, &matched, &small, &exact)
	if err != nil {
		t.Fatal(err)
	}
	if companies != 10000 || matched != 10000 || small < 4000 || small > 5000 || exact < 3000 || exact > 3500 {
		t.Errorf("companies %d, matched to results %d, 1-10 %d, exact %d", companies, matched, small, exact)
	}
	srcs, err := s.CompanySources(ctx)
	if err != nil || len(srcs) != 1 || srcs[0].Rows != 10000 {
		t.Errorf("sources %+v, %v", srcs, err)
	}
}

func TestFillCompaniesBuckets(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := FillCompanies(ctx, s, CompanyOptions{Companies: 5000, Offset: 100}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.DB().Query(`SELECT employees, size_bucket FROM companies WHERE employees IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var e int64
		var label string
		if err := rows.Scan(&e, &label); err != nil {
			t.Fatal(err)
		}
		if b, ok := store.BucketOf(e); !ok || b.Label != label {
			t.Fatalf("employees %d stored in bucket %s", e, label)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no exact headcounts")
	}
}
