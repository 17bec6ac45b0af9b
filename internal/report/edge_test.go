package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"path/filepath"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/report"
	"github.com/aicensus/aicensus/internal/store"
)

// A scan where nothing answered still reports, in every format.
func TestEmptyScanAllFormats(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "e.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc, err := s.CreateScan(ctx, store.ScanSpec{Kind: store.KindLive, Input: "empty.txt"})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.NewWriter(store.WriterOptions{})
	w.Write(ctx, model.Result{ScanID: sc.ID, Target: "gone.example", Domain: "gone.example", Status: model.StatusDNSNXDomain})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := report.Build(ctx, s, report.Options{CompareBefore: sc.ID, CompareAfter: sc.ID, Universe: 10})
	if err != nil {
		t.Fatal(err)
	}
	if r.Population.OKDomains != 0 || r.Population.Domains != 1 || len(r.Technologies) != 0 || r.Companies.Available || r.Compare.CommonOK != 0 {
		t.Errorf("%+v", r.Population)
	}
	for _, f := range report.Formats() {
		var b bytes.Buffer
		if err := report.Write(&b, r, f); err != nil || b.Len() == 0 {
			t.Errorf("format %s: %v (%d bytes)", f, err, b.Len())
		}
	}
}

// The CSV is one row per number with the shares' k, n and bounds.
func TestCSVParsesBack(t *testing.T) {
	s, scan1, _ := handmadeStore(t)
	r, err := report.Build(context.Background(), s, report.Options{ScanID: scan1})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.Write(&b, r, report.FormatCSV); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range rows {
		if len(row) != 8 {
			t.Fatalf("row %q has %d columns", row, len(row))
		}
		if row[0] == "technologies" && row[1] == "Botpress" && row[2] == "share" {
			found = row[4] == "3" && row[5] == "7" && row[6][:6] == "0.1582"
		}
	}
	if !found {
		t.Error("no Botpress share row 3/7 [0.1582...]")
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range []string{"table", "json", "csv", "md", "markdown", "html"} {
		if _, err := report.ParseFormat(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := report.ParseFormat("pdf"); err == nil {
		t.Error("pdf accepted")
	}
}

// Domains are counted once however many targets they have, and a domain is
// ok when any of its targets is.
func TestDomainCounting(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "d.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc, err := s.CreateScan(ctx, store.ScanSpec{Kind: store.KindLive, Input: "d.txt"})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.NewWriter(store.WriterOptions{})
	for _, r := range []model.Result{
		{Target: "www.x.com", Domain: "x.com", Status: model.StatusOK},  // x.com only through subdomains
		{Target: "chat.x.com", Domain: "x.com", Status: model.StatusOK}, //
		{Target: "y.com", Domain: "y.com", Status: model.StatusTimeout}, // y.com ok through chat.y.com
		{Target: "chat.y.com", Domain: "y.com", Status: model.StatusOK}, //
		{Target: "z.com", Domain: "z.com", Status: model.StatusOK},      // z.com twice, both ok
		{Target: "www.z.com", Domain: "z.com", Status: model.StatusOK},  //
		{Target: "w.com", Domain: "w.com", Status: model.StatusTimeout}, // failed only
		{Target: "bad input", Status: model.StatusInvalidInput},         // no domain
	} {
		r.ScanID = sc.ID
		if err := w.Write(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := report.Build(ctx, s, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Population.Domains != 4 || r.Population.OKDomains != 3 {
		t.Errorf("domains %d, ok %d; want 4, 3", r.Population.Domains, r.Population.OKDomains)
	}
}
