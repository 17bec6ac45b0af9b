package agents

import (
	"fmt"

	"github.com/aicensus/aicensus/internal/supply/result"
)

// HistoryReport is the attribution of git histories: one RepoReport per
// repository and their sum.
type HistoryReport struct {
	Repos []RepoReport `json:"repos"`
	All   RepoReport   `json:"all"`
}

// NewHistoryReport sums reports into All.
func NewHistoryReport(repos []RepoReport) HistoryReport {
	h := HistoryReport{Repos: repos, All: RepoReport{Repo: "(all)"}}
	for _, r := range repos {
		h.All.Commits = sumCounts(h.All.Commits, r.Commits)
		h.All.PRs = sumCounts(h.All.PRs, r.PRs)
	}
	return h
}

func sumCounts(a, b Counts) Counts {
	return Counts{Total: a.Total + b.Total, Automation: a.Automation + b.Automation, Authored: a.Authored + b.Authored,
		CoAuthored: a.CoAuthored + b.CoAuthored, Agent: a.Agent + b.Agent}
}

// Rows flattens h for table and CSV output and for storage.
func (h HistoryReport) Rows() []result.Row {
	var rows []result.Row
	for _, r := range append(append([]RepoReport(nil), h.Repos...), h.All) {
		rows = append(rows, r.rows()...)
	}
	return rows
}

func (r RepoReport) rows() []result.Row {
	scope := "repo=" + r.Repo
	var out []result.Row
	for _, u := range []struct {
		unit string
		c    Counts
		desc string
	}{
		{"prs", r.PRs, "first-parent commits with a PR number"},
		{"commits", r.Commits, "first-parent commits"},
	} {
		uni := fmt.Sprintf("%s (N=%d)", u.desc, u.c.Total)
		out = append(out,
			result.Row{Scope: scope, Metric: u.unit, Value: float64(u.c.Total), Universe: uni},
			result.Row{Scope: scope, Metric: u.unit + "_authored", Value: float64(u.c.Authored), Universe: uni},
			result.Row{Scope: scope, Metric: u.unit + "_co_authored", Value: float64(u.c.CoAuthored), Universe: uni},
			result.Row{Scope: scope, Metric: u.unit + "_agent", Value: float64(u.c.Agent), Universe: uni},
			result.Row{Scope: scope, Metric: u.unit + "_automation", Value: float64(u.c.Automation), Universe: uni},
			result.Row{Scope: scope, Metric: u.unit + "_authored_share", Value: ratio(u.c.Authored, u.c.Total), Universe: uni},
			result.Row{Scope: scope, Metric: u.unit + "_co_authored_share", Value: ratio(u.c.CoAuthored, u.c.Total), Universe: uni},
			result.Row{Scope: scope, Metric: u.unit + "_agent_share", Value: u.c.Share(), Universe: uni},
			result.Row{Scope: scope, Metric: u.unit + "_agent_share_excluding_automation", Value: u.c.ShareHuman(), Universe: fmt.Sprintf("%s, non-AI bot work removed (N=%d)", u.desc, u.c.Total-u.c.Automation)},
		)
	}
	for _, a := range r.ByAgent {
		k := "agent=" + a.Agent
		out = append(out,
			result.Row{Scope: scope, Metric: "prs_authored", Key: k, Value: float64(a.PRsAuthored)},
			result.Row{Scope: scope, Metric: "prs_co_authored", Key: k, Value: float64(a.PRsCoAuthored)},
			result.Row{Scope: scope, Metric: "commits_agent", Key: k, Value: float64(a.Commits)},
		)
	}
	return out
}

// Rows flattens r for table and CSV output and for storage.
func (r EventsReport) Rows() []result.Row {
	out := prRows("prs", r.PRs, fmt.Sprintf("PRs opened in the input (N=%d)", r.PRs.Opened))
	for _, m := range r.ByMonth {
		out = append(out, prRows("month="+m.Month, m.PRCounts, fmt.Sprintf("PRs opened in %s, later activity in the input included (N=%d)", m.Month, m.Opened))...)
	}
	for _, a := range r.ByAgent {
		k := "agent=" + a.Agent
		out = append(out,
			result.Row{Scope: "prs", Metric: "authored", Key: k, Value: float64(a.Authored)},
			result.Row{Scope: "prs", Metric: "co_authored", Key: k, Value: float64(a.CoAuthored)},
			result.Row{Scope: "prs", Metric: "reviewed_only", Key: k, Value: float64(a.Reviewed)},
		)
	}
	cu := fmt.Sprintf("distinct commits in PushEvent payloads (N=%d)", r.Commits.Total)
	out = append(out,
		result.Row{Scope: "commits", Metric: "commits", Value: float64(r.Commits.Total), Universe: cu},
		result.Row{Scope: "commits", Metric: "authored", Value: float64(r.Commits.Authored), Universe: cu},
		result.Row{Scope: "commits", Metric: "co_authored", Value: float64(r.Commits.CoAuthored), Universe: cu},
		result.Row{Scope: "commits", Metric: "automation", Value: float64(r.Commits.Automation), Universe: cu},
		result.Row{Scope: "commits", Metric: "agent_share", Value: ratio(r.Commits.Authored+r.Commits.CoAuthored, r.Commits.Total), Universe: cu},
		result.Row{Scope: "prs", Metric: "trimmed_pr_events", Value: float64(r.TrimmedPRs), Universe: "opened events without pull_request.user (payloads trimmed since 2025-10-07)"},
	)
	return out
}

func prRows(scope string, c PRCounts, uni string) []result.Row {
	return []result.Row{
		{Scope: scope, Metric: "opened", Value: float64(c.Opened), Universe: uni},
		{Scope: scope, Metric: "automation", Value: float64(c.Automation), Universe: uni},
		{Scope: scope, Metric: "authored", Value: float64(c.Authored), Universe: uni},
		{Scope: scope, Metric: "co_authored", Value: float64(c.CoAuthored), Universe: uni},
		{Scope: scope, Metric: "reviewed_only", Value: float64(c.Reviewed), Universe: uni},
		{Scope: scope, Metric: "participated", Value: float64(c.Participated), Universe: uni},
		{Scope: scope, Metric: "authored_share", Value: c.AuthoredShare(), Universe: uni},
		{Scope: scope, Metric: "co_authored_share", Value: c.CoAuthoredShare(), Universe: uni},
		{Scope: scope, Metric: "participation_share", Value: c.ParticipationShare(), Universe: uni},
		{Scope: scope, Metric: "participation_share_excluding_automation", Value: c.ParticipationShareHuman(), Universe: uni + ", PRs opened by non-AI bots removed"},
	}
}
