package blame

import (
	"context"
	"strings"
	"testing"

	"github.com/aicensus/aicensus/internal/supply/agents"
	"github.com/aicensus/aicensus/internal/supply/gitlog"
	"github.com/aicensus/aicensus/internal/supply/gitlog/gittest"
)

func lines(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(prefix)
		b.WriteString(" line ")
		b.WriteByte(byte('a' + i))
		b.WriteByte('\n')
	}
	return b.String()
}

// TestRun builds a repository with releases v0.1.0, v0.2.0 and work after
// it, by a person, aider (name suffix and "aider:" subject) and Claude Code
// (co-author trailer), and checks the new lines per release.
func TestRun(t *testing.T) {
	r := gittest.New(t)
	human := gittest.Author{Name: "Paul", Email: "paul@example.org"}
	aider := gittest.Author{Name: "Paul (aider)", Email: "paul@example.org"}
	r.Commit(human, "Initial", map[string]string{"app.py": lines("old", 4), "logo.png": "\x89PNG"})
	r.Git("tag", "v0.1.0")
	// Interval v0.1.0..v0.2.0: 3 human lines, 5 aider lines (2 by name
	// suffix, 3 by subject prefix), 2 Claude lines; one old line rewritten by
	// a human; a line added then removed (does not survive).
	r.Commit(human, "Add feature", map[string]string{"app.py": lines("old", 4) + lines("human", 3) + "temporary\n"})
	r.Commit(aider, "Add helpers", map[string]string{"util.py": lines("aider", 2)})
	r.Commit(human, "aider: add parser", map[string]string{"parse.py": lines("parser", 3)})
	r.Commit(human, "Add docs\n\nCo-Authored-By: Claude <noreply@anthropic.com>", map[string]string{"docs.py": lines("claude", 2)})
	r.Commit(human, "Tweak", map[string]string{"app.py": "old line a CHANGED\n" + lines("old", 4)[len("old line a\n"):] + lines("human", 3)})
	r.Git("tag", "v0.2.0")
	r.Git("tag", "v0.2.1") // patch tags are not releases
	// After v0.2.0: 4 Copilot lines (noreply e-mail) and 4 human lines.
	r.Commit(gittest.Author{Name: "Copilot", Email: "198982749+Copilot@users.noreply.github.com"}, "Fix", map[string]string{"fix.py": lines("copilot", 4)})
	r.Commit(human, "More", map[string]string{"more.py": lines("more", 4)})

	ctx := context.Background()
	tab := agents.DefaultTable()
	rep, err := Run(ctx, gitlog.Git{}, r.Dir, tab, Config{All: true, Exclude: []string{"*.png"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Intervals) != 2 {
		t.Fatalf("intervals %+v", rep.Intervals)
	}
	first, last := rep.Intervals[0], rep.Intervals[1]
	// new lines surviving at v0.2.0: 3 human + 1 changed + 2 + 3 + 2 = 11.
	if first.Start != "v0.1.0" || first.End != "v0.2.0" || first.Lines != 11 || first.AgentLines != 7 ||
		first.ByAgent["aider"] != 5 || first.ByAgent["claude"] != 2 || first.Commits != 5 {
		t.Fatalf("first interval %+v", first)
	}
	if last.Start != "v0.2.0" || last.End != "HEAD" || last.Lines != 8 || last.AgentLines != 4 || last.Share != 0.5 {
		t.Fatalf("last interval %+v", last)
	}
	if rep.Pooled.Lines != 19 || rep.Pooled.AgentLines != 11 {
		t.Fatalf("pooled %+v", rep.Pooled)
	}
	only, err := Run(ctx, gitlog.Git{}, r.Dir, tab, Config{Agent: "aider", Include: []string{"*.py"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(only.Intervals) != 1 || only.Intervals[0].Start != "v0.2.0" || only.Intervals[0].AgentLines != 0 {
		t.Fatalf("default interval, aider only: %+v", only.Intervals)
	}
}

func TestRunWithoutTags(t *testing.T) {
	r := gittest.New(t)
	r.Commit(gittest.Author{Name: "A", Email: "a@x"}, "one", map[string]string{"a.txt": lines("a", 3)})
	r.Commit(gittest.Author{Name: "A (aider)", Email: "a@x"}, "two", map[string]string{"b.txt": lines("b", 1)})
	rep, err := Run(context.Background(), gitlog.Git{}, r.Dir, agents.DefaultTable(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Intervals) != 1 || rep.Intervals[0].Lines != 4 || rep.Intervals[0].AgentLines != 1 {
		t.Fatalf("%+v", rep.Intervals)
	}
}

func TestParsePorcelain(t *testing.T) {
	out := "1111111111111111111111111111111111111111 1 1 2\nauthor A\nboundary\nfilename f\n\told\n" +
		"2222222222222222222222222222222222222222 2 2\nauthor B\nfilename f\n\tnew\n" +
		"2222222222222222222222222222222222222222 3 3\nauthor B\nfilename f\n\tnew2\n" +
		"garbage\n\torphan\n"
	c := ParsePorcelain([]byte(out))
	if len(c) != 1 || c["2222222222222222222222222222222222222222"] != 2 {
		t.Fatalf("%v", c)
	}
}

func FuzzParsePorcelain(f *testing.F) {
	f.Add([]byte("abcdef1234567 1 1 1\nboundary\n\tx\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		total := 0
		for sha, n := range ParsePorcelain(data) {
			if n <= 0 || sha == "" {
				t.Fatalf("count %d for %q", n, sha)
			}
			total += n
		}
		if total > strings.Count(string(data), "\t") {
			t.Fatalf("more lines than tab-prefixed lines")
		}
	})
}
