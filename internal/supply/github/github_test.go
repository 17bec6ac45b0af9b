package github

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/supply/gharchive/ghatest"
	"github.com/aicensus/aicensus/internal/supply/result"
)

var update = flag.Bool("update", false, "rewrite golden files")

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFormats(t *testing.T) {
	jsonl := write(t, "repos.jsonl", `{"full_name":"a/llm-app","topics":["llm","python"],"stargazers_count":12,"created_at":"2024-05-01T00:00:00Z","fork":false,"archived":true,"language":"Python"}
{"nameWithOwner":"b/web","repositoryTopics":[{"topic":{"name":"react"}}],"stargazerCount":3,"createdAt":"2023-01-01T00:00:00Z","isFork":false,"primaryLanguage":{"name":"TypeScript"}}
{"full_name":"c/fork","topics":["machine-learning"],"stars":50,"fork":true}
{"topics":["no-name"]}
{"full_name":"A/LLM-APP","topics":["LLM"],"stars":13}
`)
	csvPath := write(t, "repos.csv", "repo_url,stars,topics,created_at\nhttps://github.com/d/vision,9,computer vision;opencv,2022-03-04\nhttps://github.com/e/ml,100,\"['Machine Learning', 'python']\",2021-01-01 10:00:00.000\n")
	pq := filepath.Join(t.TempDir(), "repos.parquet")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`COPY (SELECT 'f/agent' AS full_name, ['ai-agents'] AS topics, 10 AS stars, TIMESTAMP '2025-02-01' AS created_at, false AS fork) TO '` + pq + `' (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
	l := &Loader{}
	got, err := l.Load(context.Background(), []string{jsonl, csvPath, pq})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Repos) != 6 || got.Skipped != 1 || got.Duplicates != 1 {
		t.Fatalf("repos %d skipped %d dups %d: %+v", len(got.Repos), got.Skipped, got.Duplicates, got.Repos)
	}
	byName := map[string]Repo{}
	for _, r := range got.Repos {
		byName[r.FullName] = r
	}
	if r := byName["A/LLM-APP"]; r.Stars != 13 || r.Topics[0] != "llm" {
		t.Fatalf("last duplicate should win: %+v", r)
	}
	if r := byName["b/web"]; r.Stars != 3 || r.Language != "TypeScript" || r.Topics[0] != "react" || r.CreatedAt.Year() != 2023 {
		t.Fatalf("graphql shapes: %+v", r)
	}
	if r := byName["d/vision"]; r.Stars != 9 || strings.Join(r.Topics, ",") != "computer-vision,opencv" || r.CreatedAt.Month() != time.March {
		t.Fatalf("csv: %+v", r)
	}
	if r := byName["e/ml"]; strings.Join(r.Topics, ",") != "machine-learning,python" {
		t.Fatalf("python list topics: %+v", r)
	}
	if r := byName["f/agent"]; r.Stars != 10 || r.Topics[0] != "ai-agents" || r.CreatedAt.Year() != 2025 {
		t.Fatalf("parquet: %+v", r)
	}
	rep := Compute(got.Repos, NewClassifier(append(SeedTopics(), ExpansionTopics()...)), true, Config{StarSource: "metadata"})
	// non-fork: A/LLM-APP(13, llm) b/web(3) d/vision(9, computer-vision) e/ml(100, ml) f/agent(10, ai-agents)
	if rep.Forks != 1 || rep.All.Repos != 5 || rep.AI.Repos != 4 || rep.AI.AtLeast != 3 || rep.AI.ShareAtLeast != 0.75 || rep.All.AtLeast != 3 {
		t.Fatalf("report %+v", rep)
	}
	if len(rep.ByYear) != 4 || rep.NoCreatedAt != 1 {
		t.Fatalf("years %+v missing %d", rep.ByYear, rep.NoCreatedAt)
	}
}

func TestExpand(t *testing.T) {
	var repos []Repo
	for i := range 10 {
		repos = append(repos, Repo{FullName: "o/r" + string(rune('a'+i)), Topics: []string{"machine-learning", "mlops"}})
	}
	repos = append(repos, Repo{FullName: "o/x", Topics: []string{"mlops"}}, Repo{FullName: "o/y", Topics: []string{"python"}},
		Repo{FullName: "o/z", Topics: []string{"python", "deep-learning"}})
	c := NewClassifier(SeedTopics())
	added := c.Expand(repos, SeedTopics(), 5, 0.8)
	if len(added) != 1 || added[0].Topic != "mlops" || added[0].With != 10 || added[0].Total != 11 {
		t.Fatalf("expansion %+v", added)
	}
	if !c.IsAI([]string{"mlops"}) || c.IsAI([]string{"python"}) {
		t.Fatal("classifier not grown")
	}
}

func TestWatchStars(t *testing.T) {
	var raw bytes.Buffer
	w := &ghatest.Writer{W: &raw, Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	for range 5 {
		w.Watch("a/llm-app", "u")
	}
	w.Watch("b/web", "u")
	w.PullRequest(ghatest.PR{Repo: "b/web", Number: 1, Login: "u", HeadRef: "x"})
	later := &ghatest.Writer{W: &raw, Start: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
	for range 7 {
		later.Watch("a/llm-app", "v")
	}
	p := write(t, "events.json", raw.String())
	ws := &WatchStars{}
	if err := ws.ReadFiles(context.Background(), []string{p}); err != nil {
		t.Fatal(err)
	}
	repos := []Repo{{FullName: "A/llm-app", Stars: 1}, {FullName: "b/web", Stars: 500}, {FullName: "c/none", Stars: 7}}
	ws.Apply(repos)
	if repos[0].Stars != 12 || repos[1].Stars != 1 || repos[2].Stars != 0 || ws.Stats.Skipped != 1 {
		t.Fatalf("stars %+v stats %+v", repos, ws.Stats)
	}
	until := &WatchStars{Until: time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)}
	if err := until.ReadFiles(context.Background(), []string{p}); err != nil || until.Counts["a/llm-app"] != 5 {
		t.Fatalf("until: %v %v", until.Counts, err)
	}
}

// TestCorpus measures the two GitHub lists of the shared corpus.
func TestCorpus(t *testing.T) {
	dir := "../../../../shared/corpus/github"
	tests := []struct {
		name      string
		glob      string
		overrides map[string]string
		topics    bool
	}{
		// best-of-ml-python has no topics; its "labels" (pytorch, tensorflow,
		// sklearn, jax, huggingface, ...) are used as topics.
		{"best-of-ml-python-2025", "best-of-ml-python/2025-06-26_projects.csv.gz", map[string]string{ColTopics: "labels"}, true},
		{"github-ranking-all", "github-ranking/*.csv.gz", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			paths, _ := filepath.Glob(filepath.Join(dir, tc.glob))
			if len(paths) == 0 {
				t.Skipf("corpus absent: %s", tc.glob)
			}
			l := &Loader{Overrides: tc.overrides}
			got, err := l.Load(context.Background(), paths)
			if err != nil {
				t.Fatal(err)
			}
			_, topicsKnown := got.Columns[ColTopics]
			if topicsKnown != tc.topics {
				t.Fatalf("topics column found = %v (%v)", topicsKnown, got.Columns)
			}
			rep := Compute(got.Repos, NewClassifier(append(SeedTopics(), ExpansionTopics()...)), topicsKnown, Config{StarSource: "metadata"})
			if rep.All.ShareAtLeast < 0 || rep.All.ShareAtLeast > 1 || rep.All.StarsGini < 0 || rep.All.StarsGini > 1 {
				t.Fatalf("report %+v", rep)
			}
			var out bytes.Buffer
			if err := result.Write(&out, result.FormatTable, nil, rep.Rows()); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Fatalf("differs from %s:\n%s", path, out.String())
			}
		})
	}
}

func FuzzDecodeCSV(f *testing.F) {
	f.Add("full_name,stars,topics\na/b,10,\"[\"\"x\"\"]\"\n")
	f.Add("repo_url,topics\nhttps://github.com/a/b,a;b|c\n")
	f.Fuzz(func(t *testing.T, data string) {
		l := &Loader{}
		_ = decodeCSV(strings.NewReader(data), func(g getter) {
			r, ok := l.repoOf(g, map[string]string{})
			if ok && (r.FullName == "" || strings.Count(r.FullName, "/") != 1) {
				t.Fatalf("bad full name %q", r.FullName)
			}
		})
		_ = decodeJSONL(strings.NewReader(data), func(g getter) { l.repoOf(g, map[string]string{}) })
	})
}
