package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/aicensus/aicensus/internal/model"
)

// exportFixture stores results 1..n of a live scan and returns them as
// they should read back.
func exportFixture(t *testing.T, n int) (*Store, Scan, []model.Result) {
	t.Helper()
	ctx := context.Background()
	s := openTemp(t)
	newScan(t, s, KindLive) // an older, empty scan: export must pick the right one
	sc := newScan(t, s, KindLive)
	w, err := s.NewWriter(WriterOptions{BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	var want []model.Result
	for i := 1; i <= n; i++ {
		if err := w.Write(ctx, sampleResult(sc.ID, i)); err != nil {
			t.Fatal(err)
		}
		want = append(want, normalize(sampleResult(sc.ID, i)))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return s, sc, want
}

func TestExportJSONL(t *testing.T) {
	s, sc, want := exportFixture(t, 300)
	var buf bytes.Buffer
	n, err := s.Export(context.Background(), sc.ID, FormatJSONL, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(want)) {
		t.Errorf("Export reported %d records, want %d", n, len(want))
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	for i, line := range lines {
		var got model.Result
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Fatalf("line %d:\n got %+v\nwant %+v", i+1, got, want[i])
		}
		// The line is exactly the model's JSON encoding.
		var exp bytes.Buffer
		enc := json.NewEncoder(&exp)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(want[i]); err != nil {
			t.Fatal(err)
		}
		if line+"\n" != exp.String() {
			t.Fatalf("line %d is not the model encoding:\n%s\n%s", i+1, line, exp.String())
		}
	}
}

// parquetResult mirrors the Parquet export schema for parquet-go.
type parquetResult struct {
	ScanID     int64              `parquet:"scan_id"`
	Target     string             `parquet:"target"`
	Input      *string            `parquet:"input,optional"`
	Line       *int32             `parquet:"line,optional"`
	Domain     *string            `parquet:"domain,optional"`
	Status     string             `parquet:"status"`
	HTTPStatus *int32             `parquet:"http_status,optional"`
	Redirects  []string           `parquet:"redirects,list,optional"`
	Time       *time.Time         `parquet:"time,optional,timestamp(microsecond)"`
	Detections []parquetDetection `parquet:"detections,list"`
}

type parquetDetection struct {
	Technology    string            `parquet:"technology"`
	Version       string            `parquet:"version"`
	Categories    []string          `parquet:"categories,list"`
	OpenSource    bool              `parquet:"open_source"`
	AI            bool              `parquet:"ai"`
	Confidence    int32             `parquet:"confidence"`
	EvidenceClass string            `parquet:"evidence_class"`
	Evidence      []parquetEvidence `parquet:"evidence,list"`
}

type parquetEvidence struct {
	Signal        string `parquet:"signal"`
	Match         string `parquet:"match"`
	Location      string `parquet:"location"`
	EvidenceClass string `parquet:"evidence_class"`
}

func TestExportParquet(t *testing.T) {
	ctx := context.Background()
	s, sc, want := exportFixture(t, 300)
	path := filepath.Join(t.TempDir(), "out.parquet")
	n, err := s.ExportFile(ctx, sc.ID, FormatParquet, path)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(want)) {
		t.Errorf("ExportFile reported %d rows, want %d", n, len(want))
	}

	// Read back with parquet-go (an independent reader).
	rows, err := parquet.ReadFile[parquetResult](path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		w := want[i]
		if r.ScanID != w.ScanID || r.Target != w.Target || r.Status != string(w.Status) ||
			deref(r.Line) != int32(w.Line) || deref(r.HTTPStatus) != int32(w.HTTPStatus) ||
			!slices.Equal(r.Redirects, w.Redirects) || r.Time == nil || !r.Time.Equal(w.Time) ||
			len(r.Detections) != len(w.Detections) {
			t.Fatalf("row %d: %+v, want %+v", i, r, w)
		}
		for k, d := range r.Detections {
			wd := w.Detections[k]
			if d.Technology != wd.Technology || d.Version != wd.Version || !slices.Equal(d.Categories, wd.Categories) ||
				d.OpenSource != wd.OpenSource || d.AI != wd.AI || int(d.Confidence) != wd.Confidence ||
				d.EvidenceClass != string(wd.EvidenceClass) || len(d.Evidence) != len(wd.Evidence) {
				t.Fatalf("row %d detection %d: %+v, want %+v", i, k, d, wd)
			}
			for j, e := range d.Evidence {
				we := wd.Evidence[j]
				if e.Signal != we.Signal || e.Match != we.Match || e.Location != we.Location || e.EvidenceClass != string(we.Class) {
					t.Fatalf("row %d detection %d evidence %d: %+v, want %+v", i, k, j, e, we)
				}
			}
		}
	}

	// And with DuckDB's read_parquet, flattening as docs/store.md shows.
	var nres, ndet, nev int
	err = s.DB().QueryRow(`SELECT count(DISTINCT target), count(d.technology), sum(len(d.evidence))
		FROM (SELECT target, unnest(detections, max_depth := 1) AS d FROM read_parquet(?))`, path).Scan(&nres, &ndet, &nev)
	if err != nil {
		t.Fatal(err)
	}
	var wdet, wev int
	for _, r := range want {
		wdet += len(r.Detections)
		for _, d := range r.Detections {
			wev += len(d.Evidence)
		}
	}
	if ndet != wdet || nev != wev {
		t.Errorf("read_parquet: %d detections, %d evidence; want %d, %d", ndet, nev, wdet, wev)
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func TestExportCSV(t *testing.T) {
	s, sc, want := exportFixture(t, 300)
	var buf bytes.Buffer
	n, err := s.Export(context.Background(), sc.ID, FormatCSV, &buf)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := "scan_id,line,target,domain,status,http_status,technology,version,categories,open_source,license,ai,confidence,evidence_class,running"
	if strings.Join(recs[0], ",") != header {
		t.Errorf("header %q", strings.Join(recs[0], ","))
	}
	var wantRows [][]string
	for _, r := range want {
		base := []string{strconv.FormatInt(r.ScanID, 10), strconv.Itoa(r.Line), r.Target, r.Domain, string(r.Status), emptyZero(r.HTTPStatus)}
		if len(r.Detections) == 0 {
			wantRows = append(wantRows, append(base, "", "", "", "", "", "", "", "", ""))
		}
		for _, d := range r.Detections {
			wantRows = append(wantRows, append(slices.Clone(base), d.Technology, d.Version, strings.Join(d.Categories, ";"),
				strconv.FormatBool(d.OpenSource), d.License, strconv.FormatBool(d.AI), strconv.Itoa(d.Confidence),
				string(d.EvidenceClass), strconv.FormatBool(d.Running())))
		}
	}
	if n != int64(len(wantRows)) || len(recs)-1 != len(wantRows) {
		t.Fatalf("%d rows (reported %d), want %d", len(recs)-1, n, len(wantRows))
	}
	for i, row := range recs[1:] {
		if !slices.Equal(row, wantRows[i]) {
			t.Fatalf("row %d: %q, want %q", i+1, row, wantRows[i])
		}
	}
}

func emptyZero(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func TestExportFileJSONLAndErrors(t *testing.T) {
	ctx := context.Background()
	s, sc, want := exportFixture(t, 20)
	path := filepath.Join(t.TempDir(), "out.jsonl")
	if _, err := s.ExportFile(ctx, sc.ID, FormatJSONL, path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc2 := bufio.NewScanner(f)
	var n int
	for sc2.Scan() {
		n++
	}
	if n != len(want) {
		t.Errorf("%d lines, want %d", n, len(want))
	}
	if _, err := s.Export(ctx, 999, FormatJSONL, &bytes.Buffer{}); err == nil {
		t.Error("export of a missing scan succeeded")
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) succeeded")
	}
	for _, f := range Formats() {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%s) = %v, %v", f, got, err)
		}
	}
	// An empty scan exports nothing, in every format.
	empty := newScan(t, s, KindLive)
	for _, f := range Formats() {
		t.Run("empty-"+string(f), func(t *testing.T) {
			var buf bytes.Buffer
			n, err := s.Export(ctx, empty.ID, f, &buf)
			if err != nil || n != 0 {
				t.Errorf("Export(empty, %s) = %d, %v", f, n, err)
			}
			if f == FormatJSONL && buf.Len() != 0 {
				t.Errorf("empty jsonl export wrote %q", buf.String())
			}
		})
	}
}
