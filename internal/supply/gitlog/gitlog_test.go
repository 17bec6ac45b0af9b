package gitlog

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aicensus/aicensus/internal/supply/gitlog/gittest"
)

func TestParseMessage(t *testing.T) {
	tests := []struct {
		name      string
		msg       string
		subject   string
		trailers  []Trailer
		generated int
	}{
		{"plain", "Fix bug\n\nLonger text: with a colon in prose\nmore.", "Fix bug", nil, 0},
		{
			"claude code", "Add parser (#12)\n\nBody.\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n",
			"Add parser (#12)", []Trailer{{"Co-Authored-By", "Claude <noreply@anthropic.com>"}}, 1,
		},
		{
			"block and stray co-author", "Squash (#3)\n\n* one\nCo-authored-by: A <a@x>\n\nSigned-off-by: B <b@x>\nAssisted-by: Cursor",
			"Squash (#3)", []Trailer{{"Co-authored-by", "A <a@x>"}, {"Signed-off-by", "B <b@x>"}, {"Assisted-by", "Cursor"}}, 0,
		},
		{"subject only looks like a trailer", "fix: thing", "fix: thing", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, tr, gen := ParseMessage(tc.msg)
			if s != tc.subject || len(gen) != tc.generated || len(tr) != len(tc.trailers) {
				t.Fatalf("got %q %v %v", s, tr, gen)
			}
			for i := range tr {
				if tr[i] != tc.trailers[i] {
					t.Fatalf("trailer %d = %v, want %v", i, tr[i], tc.trailers[i])
				}
			}
		})
	}
}

func TestPRFromSubject(t *testing.T) {
	tests := []struct {
		s      string
		n      int
		branch string
	}{
		{"Fix thing (#123)", 123, ""},
		{"Merge pull request #45 from octo/copilot/fix-45", 45, "copilot/fix-45"},
		{"Refer to #9 in docs", 0, ""},
		{"(#7) at start", 0, ""},
	}
	for _, tc := range tests {
		if n, b := PRFromSubject(tc.s); n != tc.n || b != tc.branch {
			t.Errorf("PRFromSubject(%q) = %d %q", tc.s, n, b)
		}
	}
}

func TestParsePerson(t *testing.T) {
	if p := ParsePerson(" aider (openai/gpt-4.1) <noreply@aider.chat> "); p.Name != "aider (openai/gpt-4.1)" || p.Email != "noreply@aider.chat" {
		t.Fatalf("%+v", p)
	}
	if p := ParsePerson("Sourcery AI <>"); p.Name != "Sourcery AI" || p.Email != "" {
		t.Fatalf("%+v", p)
	}
	if p := ParsePerson("bare"); p.Name != "bare" {
		t.Fatalf("%+v", p)
	}
}

// TestReadRepo builds a repository with a squash-style PR commit, a
// --no-ff merge of an agent branch with co-authored commits, and checks the
// corpus-shaped result.
func TestReadRepo(t *testing.T) {
	r := gittest.New(t)
	human := gittest.Author{Name: "Alice Doe", Email: "alice@example.org"}
	r.Commit(human, "Initial commit", map[string]string{"a.go": "package a\n"})
	r.Commit(gittest.Author{Name: "copilot-swe-agent[bot]", Email: "198982749+Copilot@users.noreply.github.com"},
		"Fix nil map (#2)\n\nCo-authored-by: alice <1+alice@users.noreply.github.com>", map[string]string{"a.go": "package a\n\nvar m = map[string]int{}\n"})
	r.Git("checkout", "-q", "-b", "claude/add-docs")
	r.Commit(human, "Add docs\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\nCo-Authored-By: Claude <noreply@anthropic.com>", map[string]string{"README.md": "# a\n"})
	r.Commit(gittest.Author{Name: "Alice Doe (aider)", Email: "alice@example.org"}, "aider: tweak docs", map[string]string{"README.md": "# a\n\nDocs.\n"})
	r.Git("checkout", "-q", "main")
	r.Merge("claude/add-docs", "Merge pull request #3 from acme/claude/add-docs")
	r.Git("remote", "add", "origin", "https://github.com/acme/widget.git")

	commits, err := Git{}.ReadRepo(context.Background(), r.Dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(commits) != 3 {
		t.Fatalf("%d first-parent commits, want 3", len(commits))
	}
	merge, squash := commits[0], commits[1]
	if merge.Repo != "acme/widget" || merge.Parents != 2 || merge.PR != 3 || merge.Branch != "claude/add-docs" || merge.BranchCommits != 2 {
		t.Fatalf("merge %+v", merge)
	}
	if len(merge.BranchAuthors) != 2 || merge.BranchAuthors[0].Name != "Alice Doe (aider)" || len(merge.BranchCoauthors) != 1 || merge.BranchCoauthors[0].Email != "noreply@anthropic.com" {
		t.Fatalf("branch authors %v co-authors %v", merge.BranchAuthors, merge.BranchCoauthors)
	}
	if squash.PR != 2 || squash.Author.Name != "copilot-swe-agent[bot]" || len(squash.Trailers) != 1 || squash.AuthorDate.IsZero() {
		t.Fatalf("squash %+v", squash)
	}
	if _, err := (Git{}).ReadRepo(context.Background(), t.TempDir(), ""); err == nil {
		t.Fatal("ReadRepo of an empty directory succeeded")
	}
}

func TestReadCorpusCSV(t *testing.T) {
	const path = "../../../../shared/corpus/prs/git-history-agent-repos/first_parent_commits.csv.gz"
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("corpus absent: %v", err)
	}
	defer f.Close()
	perRepo := map[string]int{}
	withPR := 0
	var sample Commit
	err = ReadCorpusCSV(f, func(c Commit) error {
		perRepo[c.Repo]++
		if c.PR > 0 {
			withPR++
		}
		if c.SHA == "a7c3b494e6cdd70312ad4535f661eadf323b8e18" {
			sample = c
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range perRepo {
		total += n
	}
	// Counts stated in the corpus SOURCE.md.
	if total != 15661 || withPR != 7690 || len(perRepo) != 7 {
		t.Fatalf("rows %d, with PR %d, repos %d", total, withPR, len(perRepo))
	}
	if sample.Repo != "github/github-mcp-server" || len(sample.Trailers) != 1 || !strings.Contains(sample.Trailers[0].Value, "Copilot") {
		t.Fatalf("sample %+v", sample)
	}
}

func TestReadCorpusCSVRejects(t *testing.T) {
	for _, doc := range []string{"", "a,b\n1,2\n", strings.Join(corpusColumns, ",") + "\nx,y\n"} {
		if err := ReadCorpusCSV(strings.NewReader(doc), func(Commit) error { return nil }); err == nil {
			t.Errorf("ReadCorpusCSV(%q) succeeded", doc)
		}
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add("Fix (#1)\n\nCo-authored-by: A <a@x>\n\nSigned-off-by: B")
	f.Add("\n\n\n")
	f.Add("x\r\n\r\nKey: v")
	f.Fuzz(func(t *testing.T, msg string) {
		s, tr, _ := ParseMessage(msg)
		if strings.Contains(s, "\n") {
			t.Fatalf("subject %q has a newline", s)
		}
		for _, x := range tr {
			if x.Key == "" || strings.Contains(x.Key, ":") {
				t.Fatalf("bad trailer %+v", x)
			}
		}
		_ = ParsePerson(msg)
		_, _ = PRFromSubject(msg)
	})
}

func FuzzReadCorpusCSV(f *testing.F) {
	header := strings.Join(corpusColumns, ",") + "\n"
	f.Add([]byte(header + "o/r,abc,1,2025-01-01T00:00:00Z,,A,a@x,C,c@x,3,Fix (#3),Co-authored-by: X <x@y> | K: v,,2,A <a> | B <b>,C <c>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = ReadCorpusCSV(strings.NewReader(string(data)), func(c Commit) error {
			if c.PR < 0 && !strings.Contains(string(data), "-") {
				t.Fatalf("negative PR %d", c.PR)
			}
			return nil
		})
	})
}
