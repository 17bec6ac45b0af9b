package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/aicensus/aicensus/internal/supply/gharchive/ghatest"
	"github.com/aicensus/aicensus/internal/supply/gitlog/gittest"
	"github.com/aicensus/aicensus/internal/supply/supplydb"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func latestRows(t *testing.T, db, command string) map[string]float64 {
	t.Helper()
	h, err := sql.Open("duckdb", db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	_, rows, err := supplydb.Latest(context.Background(), h, command)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, r := range rows {
		out[r.Scope+"|"+r.Metric+"|"+r.Field+"|"+r.Key] = r.Value
	}
	return out
}

func TestSupplyHFCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "page.json")
	os.WriteFile(in, []byte(`[{"id":"a/x","downloads":0,"downloadsAllTime":10},{"id":"a/y","downloads":5,"downloadsAllTime":990},{"id":"b/z","downloads":1,"downloadsAllTime":0}]`), 0o644)
	db := filepath.Join(dir, "s.duckdb")
	var out bytes.Buffer
	cfg := supplyHFConfig{out: supplyOutput{format: "json", db: db}, below: []int64{200}, top: []float64{0.01}, lorenzPoints: 3, retries: 1, maxPages: 5}
	if err := runSupplyHF(context.Background(), cfg, []string{in}, &out, quietLog()); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Models int `json:"models"`
		Fields []struct {
			Field      string  `json:"field"`
			Gini       float64 `json:"gini"`
			ShareBelow []struct {
				Share float64 `json:"share"`
			} `json:"share_below"`
		} `json:"fields"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Models != 3 || rep.Fields[0].Field != "downloadsAllTime" || rep.Fields[0].ShareBelow[0].Share != 2.0/3 {
		t.Fatalf("json output %s (%v)", out.String(), err)
	}
	if v := latestRows(t, db, "supply hf")["models|top_share|downloadsAllTime|p=0.01"]; v != 0.99 {
		t.Fatalf("stored top share %v", v)
	}
	cfg.top = []float64{2}
	if err := runSupplyHF(context.Background(), cfg, []string{in}, &out, quietLog()); err == nil {
		t.Fatal("--top 2 accepted")
	}
}

func TestAgentsAndDepsCommands(t *testing.T) {
	r := gittest.New(t)
	r.Commit(gittest.Author{Name: "A", Email: "a@x.org"}, "init", map[string]string{"requirements.txt": "openai\n"})
	r.Git("tag", "v0.1.0")
	r.Commit(gittest.Author{Name: "copilot-swe-agent[bot]", Email: "198982749+Copilot@users.noreply.github.com"}, "Add client (#1)", map[string]string{"client.py": "import openai\nprint(1)\n"})
	var gh bytes.Buffer
	w := &ghatest.Writer{W: &gh}
	w.PullRequest(ghatest.PR{Repo: "o/r", Number: 1, Login: "alice", HeadRef: "codex/x"})
	w.PullRequest(ghatest.PR{Repo: "o/r", Number: 2, Login: "bob", HeadRef: "y"})
	events := filepath.Join(t.TempDir(), "events.json")
	os.WriteFile(events, gh.Bytes(), 0o644)
	db := filepath.Join(t.TempDir(), "s.duckdb")
	var out bytes.Buffer
	cfg := agentsConfig{out: supplyOutput{format: "csv", db: db}, gharchive: []string{events}, blame: true}
	if err := runAgents(context.Background(), cfg, []string{r.Dir}, &out, quietLog()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "scope,metric,field,key,value,universe\n") {
		t.Fatalf("csv output %q", out.String())
	}
	got := latestRows(t, db, "agents")
	if got["gharchive prs|authored_share||"] != 0.5 {
		t.Fatalf("gharchive authored share: %v", got)
	}
	name := filepath.Base(r.Dir)
	if got["repo="+name+"|prs_authored||"] != 1 || got["blame repo="+r.Dir+"|agent_share||v0.1.0..HEAD"] != 1 {
		t.Fatalf("history/blame rows: %v", got)
	}
	out.Reset()
	dcfg := depsConfig{out: supplyOutput{format: "table", noStore: true}, tiers: []string{"A", "B", "C"}, createdFromGit: true}
	if err := runDeps(context.Background(), dcfg, []string{r.Dir}, &out, quietLog()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "sdk=pypi:openai") || !strings.Contains(out.String(), "year=2025") {
		t.Fatalf("deps table:\n%s", out.String())
	}
	if err := runDeps(context.Background(), depsConfig{tiers: []string{"Z"}}, []string{r.Dir}, &out, quietLog()); err == nil {
		t.Fatal("--tiers Z accepted")
	}
}
