package agents

import (
	"slices"
	"strings"

	"github.com/aicensus/aicensus/internal/supply/gitlog"
)

// Signal is one reason to attribute work to an agent.
type Signal struct {
	Agent    string `json:"agent"`
	Role     Role   `json:"role"`
	Rule     string `json:"rule"`
	Evidence string `json:"evidence"`
}

// Attribution collects the signals found for one pull request or commit.
// The zero value has none.
type Attribution struct {
	Signals []Signal `json:"signals,omitempty"`
	// Automation names the non-AI bot (dependabot, renovate, any other
	// [bot] account) that authored the work, "" otherwise.
	Automation string `json:"automation,omitempty"`
}

// Has reports whether any signal has role r.
func (a Attribution) Has(r Role) bool {
	return slices.ContainsFunc(a.Signals, func(s Signal) bool { return s.Role == r })
}

// Class is the strongest role: RoleAuthor if any author signal, else
// RoleCoAuthor, else RoleReviewer, else "".
func (a Attribution) Class() Role {
	for _, r := range []Role{RoleAuthor, RoleCoAuthor, RoleReviewer} {
		if a.Has(r) {
			return r
		}
	}
	return ""
}

// Agents returns the distinct agents of signals with role r ("" = any),
// sorted.
func (a Attribution) Agents(r Role) []string {
	var out []string
	for _, s := range a.Signals {
		if (r == "" || s.Role == r) && !slices.Contains(out, s.Agent) {
			out = append(out, s.Agent)
		}
	}
	slices.Sort(out)
	return out
}

func (a *Attribution) add(m match, evidence string) {
	if m.agent == "" {
		return
	}
	s := Signal{Agent: m.agent, Role: m.role, Rule: m.rule, Evidence: evidence}
	if !slices.Contains(a.Signals, s) {
		a.Signals = append(a.Signals, s)
	}
}

// Commit attributes one first-parent commit (a squash-merged or merged pull
// request when it has a PR number). Signals, in order: the commit author
// (identity rules; "(aider)" name suffix is a co-author), trailers, the
// "aider:" subject prefix, markers in the message or its "generated with"
// lines (co-author: the CLI agents credit themselves this way), the merged
// branch's prefix (author), and for merge commits the merged commits'
// authors (their identity role) and co-authors. The committer is not used:
// GitHub commits squash merges as itself.
func (t *Table) Commit(c gitlog.Commit) Attribution {
	var a Attribution
	m, auto := t.Person(c.Author)
	a.add(m, "author "+c.Author.String())
	if auto {
		a.Automation = c.Author.Name
	}
	for _, tr := range c.Trailers {
		m, _ := t.Trailer(tr)
		a.add(m, tr.Key+": "+tr.Value)
	}
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(c.Subject)), "aider:") {
		a.add(match{"aider", RoleCoAuthor, RuleSubjectPrefix}, "subject "+c.Subject)
	}
	text := c.Message
	if text == "" {
		text = strings.Join(c.GeneratedWith, "\n")
	}
	for _, h := range t.Markers(text) {
		a.add(match{h.agent, RoleCoAuthor, RuleBodyMarker}, h.text)
	}
	if ag := t.Branch(c.Branch); ag != "" {
		a.add(match{ag, RoleAuthor, RuleBranchPrefix}, "branch "+c.Branch)
	}
	for _, p := range c.BranchAuthors {
		m, _ := t.Person(p)
		a.add(m, "branch author "+p.String())
	}
	for _, p := range c.BranchCoauthors {
		m, _ := t.Person(p)
		if m.agent != "" {
			m.role, m.rule = RoleCoAuthor, RuleTrailer
		}
		a.add(m, "branch co-author "+p.String())
	}
	if a.Automation != "" && len(a.Signals) > 0 {
		a.Automation = "" // an agent credited in a bot's commit is still agent work
	}
	return a
}
