package agents

import (
	"slices"
	"strings"

	"github.com/aicensus/aicensus/internal/supply/gitlog"
)

// Counts are the attribution counts of one unit (commits or pull requests).
// Authored counts units with an author signal; CoAuthored units with a
// co-author signal and no author signal; Agent = Authored + CoAuthored.
// Automation counts units authored by non-AI bots (no agent signal).
type Counts struct {
	Total      int `json:"total"`
	Automation int `json:"automation"`
	Authored   int `json:"authored"`
	CoAuthored int `json:"co_authored"`
	Agent      int `json:"agent"`
}

func (c *Counts) add(a Attribution) {
	c.Total++
	switch a.Class() {
	case RoleAuthor:
		c.Authored++
		c.Agent++
	case RoleCoAuthor:
		c.CoAuthored++
		c.Agent++
	default:
		if a.Automation != "" {
			c.Automation++
		}
	}
}

// Share is Agent/Total (0 when Total is 0).
func (c Counts) Share() float64 { return ratio(c.Agent, c.Total) }

// ShareHuman is Agent/(Total − Automation): the share among human and agent
// work, non-AI bots removed from the denominator.
func (c Counts) ShareHuman() float64 { return ratio(c.Agent, c.Total-c.Automation) }

func ratio(a, b int) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// AgentCounts counts the pull requests (and commits) a given agent is
// credited in, by role; a unit credited to two agents counts for both.
type AgentCounts struct {
	Agent         string `json:"agent"`
	PRsAuthored   int    `json:"prs_authored"`
	PRsCoAuthored int    `json:"prs_co_authored"`
	Commits       int    `json:"commits"`
}

// Explained is the number of pull requests whose attribution includes a
// given signal; the golden file lists these so every count is explained.
type Explained struct {
	Agent    string `json:"agent"`
	Role     Role   `json:"role"`
	Rule     string `json:"rule"`
	Evidence string `json:"evidence"`
	PRs      int    `json:"prs"`
	Commits  int    `json:"commits"`
}

// RepoReport is the attribution of one repository's first-parent history.
type RepoReport struct {
	Repo      string        `json:"repo"`
	Commits   Counts        `json:"commits"`
	PRs       Counts        `json:"prs"`
	ByAgent   []AgentCounts `json:"by_agent"`
	Explained []Explained   `json:"explained"`
}

// History aggregates commit attributions per repository. Feed it with Add
// (any order); it is not safe for concurrent use.
type History struct {
	t     *Table
	repos map[string]*historyRepo
}

type historyRepo struct {
	r         RepoReport
	byAgent   map[string]*AgentCounts
	explained map[Signal]*Explained
}

// NewHistory returns an empty aggregation using t.
func NewHistory(t *Table) *History { return &History{t: t, repos: map[string]*historyRepo{}} }

// Add attributes c and counts it; it returns the attribution.
func (h *History) Add(c gitlog.Commit) Attribution {
	a := h.t.Commit(c)
	hr := h.repos[c.Repo]
	if hr == nil {
		hr = &historyRepo{r: RepoReport{Repo: c.Repo}, byAgent: map[string]*AgentCounts{}, explained: map[Signal]*Explained{}}
		h.repos[c.Repo] = hr
	}
	hr.r.Commits.add(a)
	isPR := c.PR > 0
	if isPR {
		hr.r.PRs.add(a)
	}
	for _, ag := range a.Agents("") {
		ac := hr.byAgent[ag]
		if ac == nil {
			ac = &AgentCounts{Agent: ag}
			hr.byAgent[ag] = ac
		}
		ac.Commits++
		if isPR {
			if slices.Contains(a.Agents(RoleAuthor), ag) {
				ac.PRsAuthored++
			} else {
				ac.PRsCoAuthored++
			}
		}
	}
	for _, s := range a.Signals {
		key := Signal{Agent: s.Agent, Role: s.Role, Rule: s.Rule, Evidence: normalizeEvidence(s.Evidence)}
		e := hr.explained[key]
		if e == nil {
			e = &Explained{Agent: key.Agent, Role: key.Role, Rule: key.Rule, Evidence: key.Evidence}
			hr.explained[key] = e
		}
		e.Commits++
		if isPR {
			e.PRs++
		}
	}
	return a
}

// normalizeEvidence drops what varies between otherwise equal signals (the
// model in "aider (openai/gpt-4.1)", a PR branch's suffix) so the
// explanation table stays short.
func normalizeEvidence(s string) string {
	switch {
	case strings.Contains(s, " (aider) <"):
		return prefixOf(s) + "<user> (aider) <…>"
	case strings.HasPrefix(s, "subject "):
		return "subject aider: …"
	case strings.HasPrefix(s, "branch ") && !strings.HasPrefix(s, "branch author ") && !strings.HasPrefix(s, "branch co-author "):
		if i := strings.IndexByte(s, '/'); i > 0 {
			return s[:i+1] + "…"
		}
	}
	if i := strings.Index(s, "<"); i >= 0 {
		// Keep the address, drop the display name: names vary per model.
		return prefixOf(s) + s[i:]
	}
	return s
}

// prefixOf returns the leading "Key: " or "author " / "branch author " of an
// evidence string.
func prefixOf(s string) string {
	for _, p := range []string{"author ", "branch author ", "branch co-author "} {
		if strings.HasPrefix(s, p) {
			return p
		}
	}
	if i := strings.Index(s, ": "); i > 0 {
		return s[:i+2]
	}
	return ""
}

// Reports returns one report per repository, sorted by name; ByAgent is
// sorted by agent, Explained by agent, role, rule and evidence.
func (h *History) Reports() []RepoReport {
	out := make([]RepoReport, 0, len(h.repos))
	for _, hr := range h.repos {
		r := hr.r
		r.ByAgent = r.ByAgent[:0]
		for _, ac := range hr.byAgent {
			r.ByAgent = append(r.ByAgent, *ac)
		}
		slices.SortFunc(r.ByAgent, func(a, b AgentCounts) int { return strings.Compare(a.Agent, b.Agent) })
		r.Explained = nil
		for _, e := range hr.explained {
			r.Explained = append(r.Explained, *e)
		}
		sortExplained(r.Explained)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b RepoReport) int { return strings.Compare(a.Repo, b.Repo) })
	return out
}
