package supplydb

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/aicensus/aicensus/internal/supply/result"
)

func TestSaveLatest(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "x.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, _, err := Latest(ctx, db, "supply hf"); !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("Latest on empty db: %v", err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, v := range []float64{0.5, 0.9} {
		_, err := Save(ctx, db, Run{
			Command: "supply hf", Inputs: []string{"a.parquet"}, Params: map[string]int{"k": 200},
			Report:    map[string]float64{"gini": v},
			Rows:      []result.Row{{Scope: "models", Metric: "gini", Field: "downloads", Value: v}, {Scope: "models", Metric: "models", Value: 3}},
			StartedAt: t0.Add(time.Duration(i) * time.Hour), EndedAt: t0.Add(time.Duration(i) * time.Hour),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	id, rows, err := Latest(ctx, db, "supply hf")
	if err != nil {
		t.Fatal(err)
	}
	if id == "" || len(rows) != 2 || rows[0].Value != 0.9 || rows[0].Metric != "gini" || rows[1].Metric != "models" {
		t.Fatalf("Latest = %s %+v", id, rows)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM supply_runs`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("supply_runs count = %d, %v", n, err)
	}
}
