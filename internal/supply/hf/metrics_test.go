package hf

import (
	"bytes"
	"context"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/supply/result"
)

var update = flag.Bool("update", false, "rewrite golden files")

func unix(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

func handModels() *Models {
	m := &Models{Sources: map[string]string{FieldDownloads: "downloads", FieldDownloadsAllTime: "downloadsAllTime", FieldCreatedAt: "createdAt"}}
	m.Append(Model{ID: "a/1", DownloadsAllTime: 0, Downloads: 0, Likes: Missing, CreatedAt: unix("2024-01-15T10:00:00Z")})
	m.Append(Model{ID: "a/2", DownloadsAllTime: 100, Downloads: 10, Likes: Missing, CreatedAt: unix("2024-02-01T00:00:00Z")})
	m.Append(Model{ID: "b/1", DownloadsAllTime: 300, Downloads: 50, Likes: Missing, CreatedAt: unix("2024-04-01T00:00:00Z")})
	m.Append(Model{ID: "c/1", DownloadsAllTime: 600, Downloads: Missing, Likes: Missing, CreatedAt: PlaceholderCreatedAt})
	m.Append(Model{ID: "d/1", DownloadsAllTime: Missing, Downloads: 1, Likes: Missing, CreatedAt: Missing, Disabled: true})
	return m
}

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestComputeHandCase(t *testing.T) {
	r := Compute(handModels(), Config{Below: []int64{1, 200}, TopP: []float64{0.01, 0.5}, LorenzPoints: 4})
	if r.Models != 5 || r.Authors != 4 || r.Disabled != 1 || len(r.Fields) != 2 || r.Fields[0].Field != FieldDownloadsAllTime {
		t.Fatalf("report header %+v", r)
	}
	all := r.Fields[0]
	if all.Items != 4 || all.Missing != 1 || all.Total != 1000 || all.Median != 100 || all.Max != 600 {
		t.Fatalf("all-time %+v", all)
	}
	if all.ShareBelow[0].Share != 0.25 || all.ShareBelow[1].Share != 0.5 || all.ShareBelow[1].Count != 2 {
		t.Fatalf("share below %+v", all.ShareBelow)
	}
	if all.TopShare[0].Items != 1 || !approx(all.TopShare[0].Share, 0.6) || all.TopShare[1].Items != 2 || !approx(all.TopShare[1].Share, 0.9) {
		t.Fatalf("top share %+v", all.TopShare)
	}
	if !approx(all.Gini, 0.5) {
		t.Fatalf("gini %v, want 0.5", all.Gini)
	}
	if l := all.Lorenz; len(l) != 5 || !approx(l[2].Value, 0.1) || !approx(l[3].Value, 0.4) {
		t.Fatalf("lorenz %v", l)
	}
	auth := r.AuthorFields[0]
	if auth.Items != 3 || auth.Missing != 1 || !approx(auth.Gini, 1.0/3) {
		t.Fatalf("author all-time %+v", auth)
	}
	want := []QuarterCount{{"2024Q1", 2, 1, 1}, {"2024Q2", 1, 1, 1}}
	if len(r.UploadsPerQuarter) != 2 || r.UploadsPerQuarter[0] != want[0] || r.UploadsPerQuarter[1] != want[1] {
		t.Fatalf("quarters %+v", r.UploadsPerQuarter)
	}
	if r.CreatedAtPlaceholder != 1 || r.CreatedAtMissing != 1 {
		t.Fatalf("placeholder %d missing %d", r.CreatedAtPlaceholder, r.CreatedAtMissing)
	}
	dl := r.Fields[1]
	if dl.Field != FieldDownloads || dl.Items != 4 || dl.Total != 61 {
		t.Fatalf("downloads %+v", dl)
	}
	ex := Compute(handModels(), Config{ExcludeDisabled: true})
	if ex.Models != 4 || ex.Fields[1].Items != 3 || ex.Fields[0].Missing != 0 || ex.Authors != 3 {
		t.Fatalf("disabled excluded %+v", ex)
	}
	rows := r.Rows()
	found := false
	for _, row := range rows {
		if row.Scope == "models" && row.Metric == "gini" && row.Field == FieldDownloadsAllTime && approx(row.Value, 0.5) {
			found = true
		}
	}
	if !found {
		t.Fatalf("rows lack the model gini: %+v", rows)
	}
}

// TestCorpus measures the two Hugging Face samples of the shared corpus and
// compares the table with a reviewed golden file.
func TestCorpus(t *testing.T) {
	tests := []struct {
		name   string
		files  []string
		models int
	}{
		{"llmfit-2026-05-17", []string{"llmfit-hf-models/hf_models-2026-05-17.json.gz"}, 1852},
		{"llmfit-2026-03-21", []string{"llmfit-hf-models/hf_models-2026-03-21.json.gz"}, 593},
		{"model-card-analysis", []string{"model-card-analysis/samples_data.json.gz"}, 758},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var paths []string
			for _, f := range tc.files {
				p := filepath.Join("../../../../shared/corpus/hub", f)
				if _, err := os.Stat(p); err != nil {
					t.Skipf("corpus file absent: %v", err)
				}
				paths = append(paths, p)
			}
			m, _, _, err := (&Loader{}).Load(context.Background(), paths)
			if err != nil {
				t.Fatal(err)
			}
			r := Compute(m, Config{})
			if r.Models != tc.models {
				t.Fatalf("models = %d, want %d", r.Models, tc.models)
			}
			for _, f := range r.Fields {
				if f.Gini < 0 || f.Gini > 1 || f.Lorenz[len(f.Lorenz)-1].Value != 1 {
					t.Fatalf("%s: gini %v lorenz %v", f.Field, f.Gini, f.Lorenz)
				}
			}
			var out bytes.Buffer
			if err := result.Write(&out, result.FormatTable, nil, r.Rows()); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Fatalf("table differs from %s (run with -update after review):\n%s", golden, out.String())
			}
		})
	}
}
