package agents

import (
	"slices"
	"strings"

	"github.com/aicensus/aicensus/internal/supply/gharchive"
	"github.com/aicensus/aicensus/internal/supply/gitlog"
)

// Events aggregates GH Archive events into pull request attributions. The
// PR universe is the PRs opened in the input (PullRequestEvent, action
// "opened"), keyed by repository and number. Reviews, review comments and
// PR conversation comments by AI identities, and commits pushed to the PR's
// head branch in the same repository, are joined at Report time whatever
// their order in the input; activity on PRs not opened in the input is
// ignored (cohort by opening month). Push commits are also counted on their
// own (distinct SHAs). Feed it with Add; it is not safe for concurrent use.
type Events struct {
	t          *Table
	prs        map[prKey]*prState
	reviews    map[prKey][]Signal     // AI review/comment signals
	branches   map[branchKey][]Signal // agent signals of commits pushed to a branch
	commits    map[string]Role        // push commit SHA → strongest role ("" none)
	commitAuto map[string]bool
	trimmedPRs int
}

type prKey struct {
	repo   string
	number int
}

type branchKey struct{ repo, branch string }

type prState struct {
	month   string
	headRef string
	a       Attribution
}

// NewEvents returns an empty aggregation using t.
func NewEvents(t *Table) *Events {
	return &Events{t: t, prs: map[prKey]*prState{}, reviews: map[prKey][]Signal{}, branches: map[branchKey][]Signal{},
		commits: map[string]Role{}, commitAuto: map[string]bool{}}
}

// Keep is a gharchive.Options.Keep filter for this aggregation: it skips,
// before decoding, PullRequestEvents other than "opened" and review and
// comment events whose actor is not an AI identity. It only reads the
// Table, so it is safe for concurrent use.
func (e *Events) Keep(typ, action, actor string) bool {
	switch typ {
	case gharchive.TypePullRequest:
		return action == "" || action == "opened"
	case gharchive.TypePullRequestReview, gharchive.TypePullRequestReviewComment, gharchive.TypeIssueComment:
		if actor == "" {
			return true
		}
		ag, _, _ := e.t.Login(actor, 0)
		return ag != "" || isBareBotOnly(e.t, actor)
	}
	return true
}

// isBareBotOnly reports whether login is the bare form of a bot-only
// identity ("claude"), which the id may still make an agent.
func isBareBotOnly(t *Table, login string) bool {
	norm, bot := NormalizeLogin(login)
	r, ok := t.logins[norm]
	return ok && r.botOnly && !bot
}

// Add takes one event; ev is not retained.
func (e *Events) Add(ev *gharchive.Event) {
	switch ev.Type {
	case gharchive.TypePullRequest:
		if ev.Payload.Action == "opened" {
			e.opened(ev)
		}
	case gharchive.TypePullRequestReview, gharchive.TypePullRequestReviewComment, gharchive.TypeIssueComment:
		n := ev.PRNumber()
		if n == 0 {
			return
		}
		if ag, _, _ := e.t.Login(ev.Actor.Login, ev.Actor.ID); ag != "" {
			k := prKey{ev.Repo.Name, n}
			s := Signal{Agent: ag, Role: RoleReviewer, Rule: RuleLogin, Evidence: strings.TrimSuffix(ev.Type, "Event") + " by " + ev.Actor.Login}
			if !slices.Contains(e.reviews[k], s) {
				e.reviews[k] = append(e.reviews[k], s)
			}
		}
	case gharchive.TypePush:
		e.push(ev)
	}
}

func (e *Events) opened(ev *gharchive.Event) {
	pr := ev.Payload.PullRequest
	n := ev.PRNumber()
	if n == 0 {
		return
	}
	st := &prState{month: ev.CreatedAt.UTC().Format("2006-01")}
	login, id, userType := ev.Actor.Login, ev.Actor.ID, ""
	var body string
	if pr != nil {
		st.headRef = pr.Head.Ref
		body = pr.Body
		if pr.User != nil {
			login, id, userType = pr.User.Login, pr.User.ID, pr.User.Type
		} else {
			e.trimmedPRs++
		}
	}
	ag, _, auto := e.t.Login(login, id)
	if ag != "" {
		st.a.add(match{ag, RoleAuthor, RuleLogin}, "opened by "+login)
	} else if auto || strings.EqualFold(userType, "Bot") {
		st.a.Automation = login
	}
	if b := e.t.Branch(st.headRef); b != "" {
		st.a.add(match{b, RoleAuthor, RuleBranchPrefix}, "head "+branchFamily(st.headRef))
	}
	for _, h := range e.t.Markers(body) {
		st.a.add(match{h.agent, RoleAuthor, RuleBodyMarker}, h.text)
	}
	e.prs[prKey{ev.Repo.Name, n}] = st
}

func branchFamily(ref string) string {
	if i := strings.IndexByte(ref, '/'); i > 0 {
		return ref[:i+1] + "…"
	}
	return ref
}

func (e *Events) push(ev *gharchive.Event) {
	branch := strings.TrimPrefix(ev.Payload.Ref, "refs/heads/")
	for _, c := range ev.Payload.Commits {
		subject, trailers, generated := gitlog.ParseMessage(c.Message)
		a := e.t.Commit(gitlog.Commit{Author: gitlog.Person{Name: c.Author.Name, Email: c.Author.Email},
			Subject: subject, Message: c.Message, Trailers: trailers, GeneratedWith: generated})
		if c.SHA != "" {
			if old, ok := e.commits[c.SHA]; !ok || rank(a.Class()) < rank(old) {
				e.commits[c.SHA] = a.Class()
			}
			if a.Automation != "" {
				e.commitAuto[c.SHA] = true
			}
		}
		if len(a.Signals) == 0 {
			continue
		}
		k := branchKey{ev.Repo.Name, branch}
		for _, s := range a.Signals {
			s.Role = RoleCoAuthor // a commit in the PR, not the PR's opening
			s.Evidence = "pushed commit: " + normalizeEvidence(s.Evidence)
			if !slices.Contains(e.branches[k], s) {
				e.branches[k] = append(e.branches[k], s)
			}
		}
	}
}

func rank(r Role) int {
	switch r {
	case RoleAuthor:
		return 0
	case RoleCoAuthor:
		return 1
	case RoleReviewer:
		return 2
	}
	return 3
}

// PRCounts are the pull request counts of a set of opened PRs. Participated
// counts PRs with any agent signal: authored, co-authored or an AI review
// or comment. Automation counts PRs opened by non-AI bots.
type PRCounts struct {
	Opened       int `json:"opened"`
	Automation   int `json:"automation"`
	Authored     int `json:"authored"`
	CoAuthored   int `json:"co_authored"`
	Reviewed     int `json:"reviewed_only"`
	Participated int `json:"participated"`
}

func (c *PRCounts) add(a Attribution) {
	c.Opened++
	switch a.Class() {
	case RoleAuthor:
		c.Authored++
	case RoleCoAuthor:
		c.CoAuthored++
	case RoleReviewer:
		c.Reviewed++
	default:
		if a.Automation != "" {
			c.Automation++
		}
	}
	if len(a.Signals) > 0 {
		c.Participated++
	}
}

// AuthoredShare, ParticipationShare: over all opened PRs; the *Human
// variants drop PRs opened by non-AI bots from the denominator.
func (c PRCounts) AuthoredShare() float64      { return ratio(c.Authored, c.Opened) }
func (c PRCounts) CoAuthoredShare() float64    { return ratio(c.CoAuthored, c.Opened) }
func (c PRCounts) ParticipationShare() float64 { return ratio(c.Participated, c.Opened) }
func (c PRCounts) ParticipationShareHuman() float64 {
	return ratio(c.Participated, c.Opened-c.Automation)
}

// MonthCounts are PRCounts of the PRs opened in one month (UTC, "2025-06").
type MonthCounts struct {
	Month string `json:"month"`
	PRCounts
}

// AgentPRCounts counts the PRs an agent is credited in, by its strongest
// role in that PR.
type AgentPRCounts struct {
	Agent      string `json:"agent"`
	Authored   int    `json:"authored"`
	CoAuthored int    `json:"co_authored"`
	Reviewed   int    `json:"reviewed"`
}

// CommitCounts count distinct pushed commits (PushEvent payloads until
// 2025-10-07).
type CommitCounts struct {
	Total      int `json:"total"`
	Automation int `json:"automation"`
	Authored   int `json:"authored"`
	CoAuthored int `json:"co_authored"`
}

// EventsReport is the result of an Events aggregation.
type EventsReport struct {
	PRs        PRCounts        `json:"prs"`
	ByMonth    []MonthCounts   `json:"by_month"`
	ByAgent    []AgentPRCounts `json:"by_agent"`
	Commits    CommitCounts    `json:"commits"`
	TrimmedPRs int             `json:"trimmed_pr_events"`
	Explained  []Explained     `json:"explained"`
}

// Report joins reviews and pushes to the opened PRs and counts.
func (e *Events) Report() EventsReport {
	var r EventsReport
	months := map[string]*MonthCounts{}
	agents := map[string]*AgentPRCounts{}
	explained := map[Signal]*Explained{}
	for k, st := range e.prs {
		a := st.a
		if st.headRef != "" {
			for _, s := range e.branches[branchKey{k.repo, st.headRef}] {
				a.add(match{s.Agent, s.Role, s.Rule}, s.Evidence)
			}
		}
		for _, s := range e.reviews[k] {
			a.add(match{s.Agent, s.Role, s.Rule}, s.Evidence)
		}
		if len(a.Signals) > 0 {
			a.Automation = ""
		}
		r.PRs.add(a)
		mc := months[st.month]
		if mc == nil {
			mc = &MonthCounts{Month: st.month}
			months[st.month] = mc
		}
		mc.add(a)
		for _, ag := range a.Agents("") {
			ac := agents[ag]
			if ac == nil {
				ac = &AgentPRCounts{Agent: ag}
				agents[ag] = ac
			}
			switch {
			case slices.Contains(a.Agents(RoleAuthor), ag):
				ac.Authored++
			case slices.Contains(a.Agents(RoleCoAuthor), ag):
				ac.CoAuthored++
			default:
				ac.Reviewed++
			}
		}
		for _, s := range a.Signals {
			key := Signal{Agent: s.Agent, Role: s.Role, Rule: s.Rule, Evidence: s.Evidence}
			if x := explained[key]; x != nil {
				x.PRs++
			} else {
				explained[key] = &Explained{Agent: s.Agent, Role: s.Role, Rule: s.Rule, Evidence: s.Evidence, PRs: 1}
			}
		}
	}
	for _, m := range months {
		r.ByMonth = append(r.ByMonth, *m)
	}
	slices.SortFunc(r.ByMonth, func(a, b MonthCounts) int { return strings.Compare(a.Month, b.Month) })
	for _, a := range agents {
		r.ByAgent = append(r.ByAgent, *a)
	}
	slices.SortFunc(r.ByAgent, func(a, b AgentPRCounts) int { return strings.Compare(a.Agent, b.Agent) })
	for _, x := range explained {
		r.Explained = append(r.Explained, *x)
	}
	sortExplained(r.Explained)
	for sha, role := range e.commits {
		r.Commits.Total++
		switch role {
		case RoleAuthor:
			r.Commits.Authored++
		case RoleCoAuthor:
			r.Commits.CoAuthored++
		default:
			if e.commitAuto[sha] {
				r.Commits.Automation++
			}
		}
	}
	r.TrimmedPRs = e.trimmedPRs
	return r
}

func sortExplained(xs []Explained) {
	slices.SortFunc(xs, func(a, b Explained) int {
		for _, c := range []int{strings.Compare(a.Agent, b.Agent), strings.Compare(string(a.Role), string(b.Role)), strings.Compare(a.Rule, b.Rule)} {
			if c != 0 {
				return c
			}
		}
		return strings.Compare(a.Evidence, b.Evidence)
	})
}
