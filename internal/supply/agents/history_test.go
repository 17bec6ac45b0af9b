package agents

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aicensus/aicensus/internal/supply/gitlog"
	"github.com/aicensus/aicensus/internal/supply/gitlog/gittest"
)

var update = flag.Bool("update", false, "rewrite golden files")

const corpusCSV = "../../../../shared/corpus/prs/git-history-agent-repos/first_parent_commits.csv.gz"

// formatHistory prints per-repository counts and the explanation of every
// attribution: each line says how many PRs (and first-parent commits) a
// given agent, role, rule and evidence accounts for.
func formatHistory(h HistoryReport) []byte {
	var b bytes.Buffer
	for _, r := range append(h.Repos, h.All) {
		fmt.Fprintf(&b, "== %s\n", r.Repo)
		for _, u := range []struct {
			name string
			c    Counts
		}{{"prs", r.PRs}, {"commits", r.Commits}} {
			fmt.Fprintf(&b, "%-8s total=%d automation=%d authored=%d co_authored=%d agent=%d agent_share=%.4f agent_share_excluding_automation=%.4f\n",
				u.name, u.c.Total, u.c.Automation, u.c.Authored, u.c.CoAuthored, u.c.Agent, u.c.Share(), u.c.ShareHuman())
		}
		for _, a := range r.ByAgent {
			fmt.Fprintf(&b, "agent %-10s prs_authored=%d prs_co_authored=%d commits=%d\n", a.Agent, a.PRsAuthored, a.PRsCoAuthored, a.Commits)
		}
		for _, e := range r.Explained {
			fmt.Fprintf(&b, "  prs=%-4d commits=%-4d %-10s %-9s %-14s %s\n", e.PRs, e.Commits, e.Agent, e.Role, e.Rule, e.Evidence)
		}
	}
	return b.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s (review, then run with -update):\n%s", path, got)
	}
}

// TestCorpusHistories attributes the seven corpus histories and compares
// with the reviewed golden file (see docs/supply.md, "Golden-file review").
func TestCorpusHistories(t *testing.T) {
	f, err := os.Open(corpusCSV)
	if err != nil {
		t.Skipf("corpus absent: %v", err)
	}
	defer f.Close()
	h := NewHistory(DefaultTable())
	if err := gitlog.ReadCorpusCSV(f, func(c gitlog.Commit) error { h.Add(c); return nil }); err != nil {
		t.Fatal(err)
	}
	rep := NewHistoryReport(h.Reports())
	if len(rep.Repos) != 7 {
		t.Fatalf("%d repositories", len(rep.Repos))
	}
	for _, r := range rep.Repos {
		switch r.Repo {
		case "mozilla/readability", "adbar/trafilatura": // human baselines
			if r.PRs.Share() > 0.02 || r.Commits.Share() > 0.02 {
				t.Errorf("baseline %s: agent share %.4f of PRs, %.4f of commits", r.Repo, r.PRs.Share(), r.Commits.Share())
			}
		case "github/github-mcp-server", "All-Hands-AI/OpenHands", "anthropics/claude-code-action":
			if r.PRs.Share() < 0.1 {
				t.Errorf("agent repository %s: agent share %.4f of PRs", r.Repo, r.PRs.Share())
			}
		}
		for _, e := range r.Explained {
			if e.Evidence == "" || e.Rule == "" || e.Commits == 0 {
				t.Errorf("%s: unexplained attribution %+v", r.Repo, e)
			}
		}
	}
	golden(t, "corpus-histories.golden", formatHistory(rep))
}

// TestGitRepository builds a real repository with agent branches, trailers
// and identities and checks what is attributed, through the git reader.
func TestGitRepository(t *testing.T) {
	r := gittest.New(t)
	alice := gittest.Author{Name: "Alice Doe", Email: "alice@example.org"}
	r.Commit(alice, "Initial commit", map[string]string{"main.go": "package main\n"})
	// #1 squash-merged PR opened by the Copilot coding agent.
	r.Commit(gittest.Author{Name: "copilot-swe-agent[bot]", Email: "198982749+Copilot@users.noreply.github.com"},
		"Add flag parsing (#1)\n\n* Initial plan\n\nCo-authored-by: alice <1234+alice@users.noreply.github.com>", map[string]string{"flags.go": "package main\n"})
	// #2 squash with a Claude Code CLI trailer.
	r.Commit(alice, "Refactor config (#2)\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
		map[string]string{"config.go": "package main\n"})
	// #3 merge of a cursor/ branch whose commits credit the Cursor agent.
	r.Git("checkout", "-q", "-b", "cursor/add-tests")
	r.Commit(alice, "Add tests\n\nCo-authored-by: Cursor Agent <cursoragent@cursor.com>", map[string]string{"main_test.go": "package main\n"})
	r.Git("checkout", "-q", "main")
	r.Merge("cursor/add-tests", "Merge pull request #3 from acme/cursor/add-tests")
	// #4 human PR mentioning agents in prose only (false-positive guard).
	r.Commit(alice, "Document cursor pagination and the codex format (#4)\n\nThanks to claude for the idea.", map[string]string{"README.md": "# x\n"})
	// #5 dependabot.
	r.Commit(gittest.Author{Name: "dependabot[bot]", Email: "49699333+dependabot[bot]@users.noreply.github.com"}, "Bump x from 1 to 2 (#5)", map[string]string{"go.mod": "module x\n"})
	// direct commit made with aider.
	r.Commit(gittest.Author{Name: "Alice Doe (aider)", Email: "alice@example.org"}, "feat: add retries", map[string]string{"retry.go": "package main\n"})

	commits, err := gitlog.Git{}.ReadRepo(context.Background(), r.Dir, "")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHistory(DefaultTable())
	got := map[int]Attribution{}
	for _, c := range commits {
		a := h.Add(c)
		got[c.PR] = a
	}
	want := map[int]struct {
		class  Role
		agents string
	}{1: {RoleAuthor, "copilot"}, 2: {RoleCoAuthor, "claude"}, 3: {RoleAuthor, "cursor"}, 4: {"", ""}, 5: {"", ""}, 0: {"", ""}}
	for pr, w := range want {
		a := got[pr]
		if a.Class() != w.class || fmt.Sprint(a.Agents("")) != fmt.Sprint(splitNonEmpty(w.agents)) {
			t.Errorf("PR #%d: %+v, want %s %s", pr, a, w.class, w.agents)
		}
	}
	reps := h.Reports()
	if len(reps) != 1 {
		t.Fatalf("%d repos", len(reps))
	}
	rr := reps[0]
	if rr.PRs != (Counts{Total: 5, Automation: 1, Authored: 2, CoAuthored: 1, Agent: 3}) {
		t.Fatalf("PR counts %+v", rr.PRs)
	}
	if rr.Commits.Total != 7 || rr.Commits.Agent != 4 {
		t.Fatalf("commit counts %+v", rr.Commits)
	}
}

func splitNonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
