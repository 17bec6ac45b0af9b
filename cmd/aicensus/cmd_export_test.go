package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/store"
)

// exportStore writes two scans and returns the store path and their ids.
func exportStore(t *testing.T) (string, int64, int64) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.duckdb")
	s, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []int64
	for k := range 2 {
		sc, err := s.CreateScan(ctx, store.ScanSpec{Kind: store.KindLive, Input: "list.txt"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sc.ID)
		w, err := s.NewWriter(store.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 + k {
			r := model.Result{ScanID: sc.ID, Target: []string{"a.example", "b.example", "c.example", "d.example"}[i],
				Domain: "x.example", Status: model.StatusOK, Line: i + 1}
			if i == 1 {
				r.Detections = []model.Detection{{Technology: "OpenAI", Categories: []string{"AI API"}, AI: true, Confidence: 100,
					EvidenceClass: model.ClassPageEmbed, Evidence: []model.Evidence{{Signal: "scriptSrc", Pattern: "openai",
						Match: "openai", Location: "https://b.example/", Class: model.ClassPageEmbed, Via: model.ViaStatic}}}}
			}
			if err := w.Write(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return path, ids[0], ids[1]
}

func runExportArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(append([]string{"export", "--log-level", "error"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestExportCommand(t *testing.T) {
	path, first, second := exportStore(t)

	// Default: the latest scan as JSON Lines on stdout.
	out, err := runExportArgs(t, "--db", path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("latest scan: %d lines, want 4:\n%s", len(lines), out)
	}
	var r model.Result
	if err := json.Unmarshal([]byte(lines[1]), &r); err != nil {
		t.Fatal(err)
	}
	if r.ScanID != second || r.Target != "b.example" || len(r.Detections) != 1 || r.Detections[0].Evidence[0].Location != "https://b.example/" {
		t.Errorf("line 2: %+v", r)
	}

	// --scan and --format csv.
	out, err = runExportArgs(t, "--db", path, "--scan", "1", "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[2][2] != "b.example" || recs[2][6] != "OpenAI" || recs[1][0] != "1" || first != 1 {
		t.Errorf("csv: %q", recs)
	}

	// --out with parquet writes a Parquet file.
	pq := filepath.Join(t.TempDir(), "x.parquet")
	if _, err := runExportArgs(t, "--db", path, "--format", "parquet", "--out", pq); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pq)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("PAR1")) || !bytes.HasSuffix(b, []byte("PAR1")) {
		t.Errorf("%s is not a Parquet file (%d bytes)", pq, len(b))
	}
}

func TestExportCommandErrors(t *testing.T) {
	path, _, _ := exportStore(t)
	for _, c := range []struct {
		name  string
		args  []string
		usage bool
	}{
		{"bad format", []string{"--db", path, "--format", "xml"}, true},
		{"bad flag", []string{"--db", path, "--nope"}, true},
		{"missing store", []string{"--db", filepath.Join(t.TempDir(), "none.duckdb")}, false},
		{"missing scan", []string{"--db", path, "--scan", "99"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := runExportArgs(t, c.args...)
			var ue usageError
			if err == nil || errors.As(err, &ue) != c.usage {
				t.Errorf("err = %v, usage error %v, want usage %v", err, errors.As(err, &ue), c.usage)
			}
		})
	}
	// An empty store has no scans.
	empty := filepath.Join(t.TempDir(), "empty.duckdb")
	s, err := store.Open(context.Background(), empty, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	err = runExport(context.Background(), exportConfig{db: empty, format: "jsonl"}, io.Discard, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "no scans") {
		t.Errorf("empty store: %v", err)
	}
}
