package agents

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/supply/gharchive"
	"github.com/aicensus/aicensus/internal/supply/gharchive/ghatest"
)

// TestEvents builds a realistic GH Archive hour of pull request activity
// and checks each PR's attribution and the shares.
func TestEvents(t *testing.T) {
	var raw bytes.Buffer
	w := &ghatest.Writer{W: &raw, Start: time.Date(2025, 6, 30, 23, 59, 59, 750e6, time.UTC)} // PRs 1-4 in June, 5-7 in July
	const repo = "acme/api"
	// A review that arrives before its PR's opened event (order must not matter).
	w.Review(repo, 7, "coderabbitai[bot]")
	w.PullRequest(ghatest.PR{Repo: repo, Number: 1, Login: "Copilot", UserType: "Bot", HeadRef: "copilot/fix-1", Title: "Fix", Body: "Fixes #9"})
	w.PullRequest(ghatest.PR{Repo: repo, Number: 2, Login: "alice", HeadRef: "codex/add-retries", Body: "https://chatgpt.com/codex/tasks/task_e_68"})
	w.PullRequest(ghatest.PR{Repo: repo, Number: 3, Login: "bob", HeadRef: "docs", Body: "🤖 Generated with [Claude Code](https://claude.com/claude-code)"})
	w.PullRequest(ghatest.PR{Repo: repo, Number: 4, Login: "carol", HeadRef: "feature-x", Body: "Adds X."})
	w.PushTo(repo, "carol", "feature-x", []ghatest.Commit{{SHA: "c1", AuthorName: "Carol", AuthorEmail: "carol@x.org", Message: "Add X\n\nCo-authored-by: Cursor Agent <cursoragent@cursor.com>"}})
	w.PullRequest(ghatest.PR{Repo: repo, Number: 5, Login: "dependabot[bot]", HeadRef: "dependabot/go_modules/x-1.2", Body: "Bumps x."})
	w.PullRequest(ghatest.PR{Repo: repo, Number: 6, Login: "claude", HeadRef: "fix-typo", Body: "I use cursor and claude daily."}) // a human named claude
	w.PullRequest(ghatest.PR{Repo: repo, Number: 7, Login: "dave", HeadRef: "perf", Body: "Faster."})
	w.IssueComment(repo, 8, "gemini-code-assist[bot]", true) // PR 8 was opened before the window
	w.IssueComment(repo, 6, "cursor", true)                  // bare "cursor" login: a person
	w.PullRequest(ghatest.PR{Repo: repo, Number: 1, Action: "closed", Login: "Copilot", HeadRef: "copilot/fix-1", Merged: true})
	w.Watch(repo, "eve")

	data := raw.Bytes()
	var r EventsReport
	for _, filtered := range []bool{false, true} {
		ev := NewEvents(DefaultTable())
		opt := gharchive.Options{}
		if filtered {
			opt.Keep = ev.Keep
		}
		st, err := gharchive.Read(context.Background(), bytes.NewReader(data), opt, func(e *gharchive.Event) error { ev.Add(e); return nil })
		if err != nil || st.Malformed != 0 {
			t.Fatalf("read: %+v %v", st, err)
		}
		if filtered && st.Skipped != 1 { // the closed PR; bare "cursor" may be an id-matched bot, so kept
			t.Errorf("Keep skipped %d lines", st.Skipped)
		}
		if !filtered {
			r = ev.Report()
			continue
		}
		if fr := ev.Report(); fr.PRs != r.PRs || len(fr.ByAgent) != len(r.ByAgent) {
			t.Fatalf("Keep changed the result: %+v vs %+v", fr.PRs, r.PRs)
		}
	}
	want := PRCounts{Opened: 7, Automation: 1, Authored: 3, CoAuthored: 1, Reviewed: 1, Participated: 5}
	if r.PRs != want {
		t.Fatalf("PR counts %+v, want %+v", r.PRs, want)
	}
	if got := r.PRs.ParticipationShareHuman(); got != 5.0/6 {
		t.Fatalf("participation share excluding automation = %v", got)
	}
	if len(r.ByMonth) != 2 || r.ByMonth[0].Month != "2025-06" || r.ByMonth[0].Opened != 4 || r.ByMonth[1].Month != "2025-07" || r.ByMonth[1].Participated != 1 {
		t.Fatalf("months %+v", r.ByMonth)
	}
	agents := map[string]AgentPRCounts{}
	for _, a := range r.ByAgent {
		agents[a.Agent] = a
	}
	if agents["copilot"].Authored != 1 || agents["codex"].Authored != 1 || agents["claude"].Authored != 1 ||
		agents["cursor"].CoAuthored != 1 || agents["coderabbit"].Reviewed != 1 || len(agents) != 5 {
		t.Fatalf("by agent %+v", r.ByAgent)
	}
	if r.Commits != (CommitCounts{Total: 1, CoAuthored: 1}) {
		t.Fatalf("commits %+v", r.Commits)
	}
	for _, x := range r.Explained {
		if x.Evidence == "" {
			t.Fatalf("unexplained %+v", x)
		}
	}
}

func TestEventsTrimmedPayloads(t *testing.T) {
	var raw bytes.Buffer
	w := &ghatest.Writer{W: &raw, Trimmed: true, Start: time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)}
	w.PullRequest(ghatest.PR{Repo: "a/b", Number: 1, Login: "devin-ai-integration[bot]", HeadRef: "devin/1-fix"})
	w.PullRequest(ghatest.PR{Repo: "a/b", Number: 2, Login: "alice", HeadRef: "main-fix", Body: "🤖 Generated with [Claude Code]"}) // body trimmed away
	ev := NewEvents(DefaultTable())
	if _, err := gharchive.Read(context.Background(), &raw, gharchive.Options{}, func(e *gharchive.Event) error { ev.Add(e); return nil }); err != nil {
		t.Fatal(err)
	}
	r := ev.Report()
	if r.PRs.Opened != 2 || r.PRs.Authored != 1 || r.TrimmedPRs != 2 {
		t.Fatalf("trimmed: %+v trimmed=%d", r.PRs, r.TrimmedPRs)
	}
}

// BenchmarkAttribute1M attributes 1,000,000 generated GH Archive events
// (target: at most 30 s); the baseline is the bare gharchive read.
func BenchmarkAttribute1M(b *testing.B) {
	var gz bytes.Buffer
	zw := newGzip(&gz)
	w := &ghatest.Writer{W: zw}
	w.Mix(rand.New(rand.NewPCG(1, 2)), 1_000_000, 20000, 0.1)
	zw.Close()
	b.Logf("gzip size %d MB", gz.Len()>>20)
	b.Run("baseline-read", func(b *testing.B) {
		for b.Loop() {
			if _, err := gharchive.Read(context.Background(), bytes.NewReader(gz.Bytes()), gharchive.Options{}, func(*gharchive.Event) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read+attribute", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ev := NewEvents(DefaultTable())
			st, err := gharchive.Read(context.Background(), bytes.NewReader(gz.Bytes()), gharchive.Options{Keep: ev.Keep}, func(e *gharchive.Event) error { ev.Add(e); return nil })
			if err != nil || st.Lines != 1_000_000 {
				b.Fatal(st, err)
			}
			if r := ev.Report(); r.PRs.Opened == 0 || r.PRs.Participated == 0 {
				b.Fatalf("report %+v", r.PRs)
			}
		}
	})
}
