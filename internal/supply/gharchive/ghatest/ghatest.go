package ghatest

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Writer appends one event per line to W. IDs and timestamps increase from
// Start. A Writer is not safe for concurrent use.
type Writer struct {
	W       io.Writer
	Trimmed bool      // write the payloads GitHub sends since 2025-10-07
	Start   time.Time // created_at of the first event; zero means 2025-06-01
	nextID  int64
	n       int64
	err     error
	buf     []byte
}

// Err returns the first write error.
func (w *Writer) Err() error { return w.err }

// Commit is a push commit.
type Commit struct {
	SHA, AuthorName, AuthorEmail, Message string
}

// PR describes a pull request event.
type PR struct {
	Repo            string
	Number          int
	Action          string // "opened" when empty
	Login, UserType string // opener; UserType "User" when empty
	HeadRef, Title  string
	Body            string
	Merged          bool
}

func (w *Writer) start() time.Time {
	if w.Start.IsZero() {
		return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	}
	return w.Start
}

// envelope writes `{"id":…,"type":…,"actor":…,"repo":…,"payload":` then
// payload, then the tail.
func (w *Writer) envelope(typ, actor, repo string, payload []byte) {
	w.nextID++
	at := w.start().Add(time.Duration(w.n) * 50 * time.Millisecond)
	w.n++
	b := w.buf[:0]
	b = append(b, `{"id":"`...)
	b = strconv.AppendInt(b, 40000000000+w.nextID, 10)
	b = append(b, `","type":"`...)
	b = append(b, typ...)
	b = append(b, `","actor":`...)
	b = appendActor(b, actor)
	b = append(b, `,"repo":{"id":`...)
	b = strconv.AppendInt(b, repoID(repo), 10)
	b = append(b, `,"name":`...)
	b = strconv.AppendQuote(b, repo)
	b = append(b, `,"url":"https://api.github.com/repos/`...)
	b = append(b, repo...)
	b = append(b, `"},"payload":`...)
	b = append(b, payload...)
	b = append(b, `,"public":true,"created_at":"`...)
	b = at.UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	owner, _, _ := strings.Cut(repo, "/")
	b = append(b, `","org":{"id":`...)
	b = strconv.AppendInt(b, loginID(owner), 10)
	b = append(b, `,"login":`...)
	b = strconv.AppendQuote(b, owner)
	b = append(b, `,"gravatar_id":"","url":"https://api.github.com/orgs/`...)
	b = append(b, owner...)
	b = append(b, `","avatar_url":"https://avatars.githubusercontent.com/u/`...)
	b = strconv.AppendInt(b, loginID(owner), 10)
	b = append(b, `?"}}`...)
	b = append(b, '\n')
	w.buf = b
	if w.err == nil {
		_, w.err = w.W.Write(b)
	}
}

func appendActor(b []byte, login string) []byte {
	id := loginID(login)
	display := strings.TrimSuffix(login, "[bot]")
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"login":`...)
	b = strconv.AppendQuote(b, login)
	b = append(b, `,"display_login":`...)
	b = strconv.AppendQuote(b, display)
	b = append(b, `,"gravatar_id":"","url":"https://api.github.com/users/`...)
	b = append(b, login...)
	b = append(b, `","avatar_url":"https://avatars.githubusercontent.com/u/`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `?"}`...)
	return b
}

// appendUser writes a REST user object (as embedded in payloads).
func appendUser(b []byte, login, typ string) []byte {
	if typ == "" {
		typ = "User"
		if strings.HasSuffix(login, "[bot]") {
			typ = "Bot"
		}
	}
	id := strconv.FormatInt(loginID(login), 10)
	u := "https://api.github.com/users/" + login
	b = append(b, `{"login":`...)
	b = strconv.AppendQuote(b, login)
	b = append(b, `,"id":`+id+`,"node_id":"MDQ6VXNlcj`+id+`","avatar_url":"https://avatars.githubusercontent.com/u/`+id+`?v=4","gravatar_id":"","url":"`+u+
		`","html_url":"https://github.com/`+login+`","followers_url":"`+u+`/followers","following_url":"`+u+`/following{/other_user}","gists_url":"`+u+
		`/gists{/gist_id}","starred_url":"`+u+`/starred{/owner}{/repo}","subscriptions_url":"`+u+`/subscriptions","organizations_url":"`+u+
		`/orgs","repos_url":"`+u+`/repos","events_url":"`+u+`/events{/privacy}","received_events_url":"`+u+`/received_events","type":"`+typ+
		`","user_view_type":"public","site_admin":false}`...)
	return b
}

// appendRepoObject writes a full REST repository object, as in head.repo and
// base.repo of a pre-2025-10-07 pull_request.
func appendRepoObject(b []byte, repo string) []byte {
	owner, name, _ := strings.Cut(repo, "/")
	a := "https://api.github.com/repos/" + repo
	id := strconv.FormatInt(repoID(repo), 10)
	b = append(b, `{"id":`+id+`,"node_id":"MDEwOlJlcG9zaXRvcnk`+id+`","name":`...)
	b = strconv.AppendQuote(b, name)
	b = append(b, `,"full_name":`...)
	b = strconv.AppendQuote(b, repo)
	b = append(b, `,"private":false,"owner":`...)
	b = appendUser(b, owner, "Organization")
	b = append(b, `,"html_url":"https://github.com/`+repo+`","description":"A project","fork":false,"url":"`+a+`"`...)
	for _, k := range []string{"forks", "keys", "collaborators", "teams", "hooks", "issue_events", "events", "assignees", "branches", "tags", "blobs", "git_tags", "git_refs", "trees", "statuses", "languages", "stargazers", "contributors", "subscribers", "subscription", "commits", "git_commits", "comments", "issue_comment", "contents", "compare", "merges", "archive", "downloads", "issues", "pulls", "milestones", "notifications", "labels", "releases", "deployments"} {
		b = append(b, `,"`+k+`_url":"`+a+"/"+k+`"`...)
	}
	b = append(b, `,"created_at":"2019-04-01T10:00:00Z","updated_at":"2025-05-30T12:00:00Z","pushed_at":"2025-05-31T12:00:00Z","git_url":"git://github.com/`+repo+
		`.git","ssh_url":"git@github.com:`+repo+`.git","clone_url":"https://github.com/`+repo+`.git","svn_url":"https://github.com/`+repo+
		`","homepage":null,"size":10240,"stargazers_count":120,"watchers_count":120,"language":"Go","has_issues":true,"has_projects":true,"has_downloads":true,"has_wiki":false,"has_pages":false,"has_discussions":false,"forks_count":12,"mirror_url":null,"archived":false,"disabled":false,"open_issues_count":7,"license":{"key":"mit","name":"MIT License","spdx_id":"MIT","url":"https://api.github.com/licenses/mit","node_id":"MDc6TGljZW5zZTEz"},"allow_forking":true,"is_template":false,"web_commit_signoff_required":false,"topics":["cli","go"],"visibility":"public","forks":12,"open_issues":7,"watchers":120,"default_branch":"main"}`...)
	return b
}

// PullRequest writes a PullRequestEvent.
func (w *Writer) PullRequest(p PR) {
	if p.Action == "" {
		p.Action = "opened"
	}
	num := strconv.Itoa(p.Number)
	b := []byte(`{"action":"` + p.Action + `","number":` + num + `,"pull_request":{`)
	if w.Trimmed {
		b = append(b, `"url":"https://api.github.com/repos/`+p.Repo+`/pulls/`+num+`","id":`...)
		b = strconv.AppendInt(b, repoID(p.Repo)*1000+int64(p.Number), 10)
		b = append(b, `,"number":`+num+`,"head":{"ref":`...)
		b = strconv.AppendQuote(b, p.HeadRef)
		b = append(b, `,"sha":"`+sha(p.Repo, p.Number)+`","repo":{"id":`+strconv.FormatInt(repoID(p.Repo), 10)+`,"url":"https://api.github.com/repos/`+p.Repo+`","name":"`+p.Repo+`"}},"base":{"ref":"main","sha":"`+sha(p.Repo, -p.Number)+`","repo":{"id":`+strconv.FormatInt(repoID(p.Repo), 10)+`,"url":"https://api.github.com/repos/`+p.Repo+`","name":"`+p.Repo+`"}}}}`...)
		w.envelope("PullRequestEvent", p.Login, p.Repo, b)
		return
	}
	a := "https://api.github.com/repos/" + p.Repo
	b = append(b, `"url":"`+a+`/pulls/`+num+`","id":`...)
	b = strconv.AppendInt(b, repoID(p.Repo)*1000+int64(p.Number), 10)
	b = append(b, `,"node_id":"PR_kwDO`+num+`","html_url":"https://github.com/`+p.Repo+`/pull/`+num+`","diff_url":"https://github.com/`+p.Repo+`/pull/`+num+`.diff","patch_url":"https://github.com/`+p.Repo+`/pull/`+num+`.patch","issue_url":"`+a+`/issues/`+num+`","number":`+num+`,"state":"open","locked":false,"title":`...)
	b = strconv.AppendQuote(b, p.Title)
	b = append(b, `,"user":`...)
	b = appendUser(b, p.Login, p.UserType)
	b = append(b, `,"body":`...)
	b = strconv.AppendQuote(b, p.Body)
	b = append(b, `,"created_at":"2025-06-01T10:00:00Z","updated_at":"2025-06-01T10:00:00Z","closed_at":null,"merged_at":null,"merge_commit_sha":null,"assignee":null,"assignees":[],"requested_reviewers":[],"requested_teams":[],"labels":[],"milestone":null,"draft":false,"commits_url":"`+a+`/pulls/`+num+`/commits","review_comments_url":"`+a+`/pulls/`+num+`/comments","review_comment_url":"`+a+`/pulls/comments{/number}","comments_url":"`+a+`/issues/`+num+`/comments","statuses_url":"`+a+`/statuses/`+sha(p.Repo, p.Number)+`","head":{"label":"x:`...)
	b = append(b, p.HeadRef...)
	b = append(b, `","ref":`...)
	b = strconv.AppendQuote(b, p.HeadRef)
	b = append(b, `,"sha":"`+sha(p.Repo, p.Number)+`","user":`...)
	b = appendUser(b, p.Login, p.UserType)
	b = append(b, `,"repo":`...)
	b = appendRepoObject(b, p.Repo)
	b = append(b, `},"base":{"label":"x:main","ref":"main","sha":"`+sha(p.Repo, -p.Number)+`","user":`...)
	owner, _, _ := strings.Cut(p.Repo, "/")
	b = appendUser(b, owner, "Organization")
	b = append(b, `,"repo":`...)
	b = appendRepoObject(b, p.Repo)
	b = append(b, `},"_links":{"self":{"href":"`+a+`/pulls/`+num+`"},"html":{"href":"https://github.com/`+p.Repo+`/pull/`+num+`"}},"author_association":"CONTRIBUTOR","auto_merge":null,"active_lock_reason":null,"merged":`+strconv.FormatBool(p.Merged)+`,"mergeable":null,"rebaseable":null,"mergeable_state":"unknown","merged_by":null,"comments":0,"review_comments":0,"maintainer_can_modify":true,"commits":3,"additions":120,"deletions":14,"changed_files":5}}`...)
	w.envelope("PullRequestEvent", p.Login, p.Repo, b)
}

// Review writes a PullRequestReviewEvent by reviewer on repo#number.
func (w *Writer) Review(repo string, number int, reviewer string) {
	num := strconv.Itoa(number)
	b := []byte(`{"action":"created","review":{"id":` + strconv.FormatInt(loginID(reviewer)+int64(number), 10) + `,"node_id":"PRR_kw","user":`)
	b = appendUser(b, reviewer, "")
	b = append(b, `,"body":"Looks good overall; two suggestions inline.","commit_id":"`+sha(repo, number)+`","submitted_at":"2025-06-01T11:00:00Z","state":"commented","html_url":"https://github.com/`+repo+`/pull/`+num+`#pullrequestreview-1","pull_request_url":"https://api.github.com/repos/`+repo+`/pulls/`+num+`","author_association":"NONE"},"pull_request":{"url":"https://api.github.com/repos/`+repo+`/pulls/`+num+`","id":1,"number":`+num+`,"head":{"ref":"feature","sha":"`+sha(repo, number)+`"},"base":{"ref":"main","sha":"`+sha(repo, -number)+`"}}}`...)
	w.envelope("PullRequestReviewEvent", reviewer, repo, b)
}

// ReviewComment writes a PullRequestReviewCommentEvent.
func (w *Writer) ReviewComment(repo string, number int, login string) {
	num := strconv.Itoa(number)
	b := []byte(`{"action":"created","comment":{"url":"https://api.github.com/repos/` + repo + `/pulls/comments/1","pull_request_review_id":1,"id":2,"diff_hunk":"@@ -1,3 +1,4 @@\n package main\n+import \"fmt\"","path":"main.go","commit_id":"` + sha(repo, number) + `","user":`)
	b = appendUser(b, login, "")
	b = append(b, `,"body":"Consider handling the error here.","created_at":"2025-06-01T11:00:00Z","author_association":"NONE","line":4,"side":"RIGHT"},"pull_request":{"url":"https://api.github.com/repos/`+repo+`/pulls/`+num+`","id":1,"number":`+num+`,"head":{"ref":"feature","sha":"`+sha(repo, number)+`"},"base":{"ref":"main","sha":"`+sha(repo, -number)+`"}}}`...)
	w.envelope("PullRequestReviewCommentEvent", login, repo, b)
}

// IssueComment writes an IssueCommentEvent on repo#number; onPR marks the
// issue as a pull request.
func (w *Writer) IssueComment(repo string, number int, login string, onPR bool) {
	num := strconv.Itoa(number)
	a := "https://api.github.com/repos/" + repo
	b := []byte(`{"action":"created","issue":{"url":"` + a + `/issues/` + num + `","repository_url":"` + a + `","labels_url":"` + a + `/issues/` + num + `/labels{/name}","comments_url":"` + a + `/issues/` + num + `/comments","events_url":"` + a + `/issues/` + num + `/events","html_url":"https://github.com/` + repo + `/issues/` + num + `","id":` + strconv.FormatInt(repoID(repo)+int64(number), 10) + `,"node_id":"I_kw","number":` + num + `,"title":"Crash when the config file is empty","user":`)
	b = appendUser(b, "reporter"+num, "User")
	b = append(b, `,"labels":[],"state":"open","locked":false,"assignee":null,"assignees":[],"milestone":null,"comments":2,"created_at":"2025-05-30T10:00:00Z","updated_at":"2025-06-01T11:00:00Z","closed_at":null,"author_association":"NONE","active_lock_reason":null,`...)
	if onPR {
		b = append(b, `"draft":false,"pull_request":{"url":"`+a+`/pulls/`+num+`","html_url":"https://github.com/`+repo+`/pull/`+num+`","diff_url":"https://github.com/`+repo+`/pull/`+num+`.diff","patch_url":"https://github.com/`+repo+`/pull/`+num+`.patch","merged_at":null},`...)
	}
	b = append(b, `"body":"Steps to reproduce: run with an empty file.","reactions":{"url":"`+a+`/issues/`+num+`/reactions","total_count":0},"timeline_url":"`+a+`/issues/`+num+`/timeline","performed_via_github_app":null,"state_reason":null},"comment":{"url":"`+a+`/issues/comments/1","html_url":"https://github.com/`+repo+`/issues/`+num+`#issuecomment-1","issue_url":"`+a+`/issues/`+num+`","id":1,"node_id":"IC_kw","user":`...)
	b = appendUser(b, login, "")
	b = append(b, `,"created_at":"2025-06-01T11:00:00Z","updated_at":"2025-06-01T11:00:00Z","author_association":"NONE","body":"Thanks, I can reproduce this on main.","reactions":{"total_count":0},"performed_via_github_app":null}}`...)
	w.envelope("IssueCommentEvent", login, repo, b)
}

// Push writes a PushEvent to main by actor with commits (dropped when
// Trimmed).
func (w *Writer) Push(repo, actor string, commits []Commit) { w.PushTo(repo, actor, "main", commits) }

// PushTo writes a PushEvent to branch.
func (w *Writer) PushTo(repo, actor, branch string, commits []Commit) {
	b := []byte(`{"repository_id":` + strconv.FormatInt(repoID(repo), 10) + `,"push_id":` + strconv.FormatInt(w.nextID+1, 10) + `,`)
	if !w.Trimmed {
		b = append(b, `"size":`+strconv.Itoa(len(commits))+`,"distinct_size":`+strconv.Itoa(len(commits))+`,`...)
	}
	b = append(b, `"ref":"refs/heads/`+branch+`","head":"`+sha(repo, len(commits))+`","before":"`+sha(repo, -len(commits))+`"`...)
	if !w.Trimmed {
		b = append(b, `,"commits":[`...)
		for i, c := range commits {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"sha":"`+c.SHA+`","author":{"email":`...)
			b = strconv.AppendQuote(b, c.AuthorEmail)
			b = append(b, `,"name":`...)
			b = strconv.AppendQuote(b, c.AuthorName)
			b = append(b, `},"message":`...)
			b = strconv.AppendQuote(b, c.Message)
			b = append(b, `,"distinct":true,"url":"https://api.github.com/repos/`+repo+`/commits/`+c.SHA+`"}`...)
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	w.envelope("PushEvent", actor, repo, b)
}

// Watch writes a WatchEvent (a star).
func (w *Writer) Watch(repo, actor string) {
	w.envelope("WatchEvent", actor, repo, []byte(`{"action":"started"}`))
}

// Create writes a CreateEvent of a branch or, with refType "repository", of
// the repository.
func (w *Writer) Create(repo, actor, refType string) {
	ref := `"feature-x"`
	if refType == "repository" {
		ref = "null"
	}
	w.envelope("CreateEvent", actor, repo, []byte(`{"ref":`+ref+`,"ref_type":"`+refType+`","full_ref":"refs/heads/feature-x","master_branch":"main","description":"A project","pusher_type":"user"}`))
}

// Other writes an event of a type this project ignores (DeleteEvent,
// IssuesEvent, ForkEvent, ReleaseEvent, ...), with a typical payload.
func (w *Writer) Other(typ, repo, actor string) {
	w.envelope(typ, actor, repo, []byte(`{"action":"opened","ref":"old-branch","ref_type":"branch","pusher_type":"user","forkee":{"id":1,"name":"x","full_name":"`+actor+`/x","private":false},"issue":{"number":9,"title":"Docs typo","state":"open","body":"The README says instal instead of install."}}`))
}

func repoID(repo string) int64 { return int64(hash(repo)%900000000) + 100000000 }

func loginID(login string) int64 { return int64(hash(login)%190000000) + 1000 }

func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func sha(repo string, n int) string {
	return fmt.Sprintf("%016x%016x%08x", hash(repo), hash(repo+strconv.Itoa(n)), uint32(n))
}

// Mix writes n events with the approximate type mix of a GH Archive hour
// (PushEvent ≈ 55%, CreateEvent 12%, PullRequestEvent 7%, WatchEvent 6%,
// IssueCommentEvent 5%, reviews and review comments 5.5%, other types the
// rest) over repos repositories. Share of pull requests is agent-related:
// Copilot-authored, codex/ branches, Claude Code body markers, Devin,
// co-authored push commits and review bots, in proportion agentShare.
func (w *Writer) Mix(r *rand.Rand, n, repos int, agentShare float64) {
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	humans := []string{"alice", "bob", "carol", "dmitri", "eve", "farah", "gonzalo", "hana"}
	bots := []string{"dependabot[bot]", "renovate[bot]", "github-actions[bot]"}
	reviewBots := []string{"coderabbitai[bot]", "copilot-pull-request-reviewer[bot]", "gemini-code-assist[bot]"}
	for i := 0; i < n && w.err == nil; i++ {
		repo := "org" + strconv.Itoa(r.IntN(repos/10+1)) + "/repo" + strconv.Itoa(r.IntN(repos))
		num := 1 + r.IntN(500)
		agent := r.Float64() < agentShare
		x := r.Float64()
		switch {
		case x < 0.55:
			c := Commit{SHA: sha(repo, i), AuthorName: "Alice Doe", AuthorEmail: "alice@example.com", Message: "Fix the parser on empty input\n\nCloses #12"}
			if agent {
				c.Message += "\n\nCo-authored-by: Claude <noreply@anthropic.com>"
			}
			w.Push(repo, pick(humans), []Commit{c, {SHA: sha(repo, -i), AuthorName: "Bob", AuthorEmail: "bob@example.com", Message: "Update docs"}})
		case x < 0.67:
			w.Create(repo, pick(humans), "branch")
		case x < 0.74:
			p := PR{Repo: repo, Number: num, Login: pick(humans), HeadRef: "fix-" + strconv.Itoa(num), Title: "Fix crash on empty config", Body: "This fixes the crash.\n\nTested locally."}
			switch {
			case agent && r.IntN(4) == 0:
				p.Login, p.HeadRef = "Copilot", "copilot/fix-"+strconv.Itoa(num)
			case agent && r.IntN(3) == 0:
				p.HeadRef = "codex/fix-crash"
			case agent && r.IntN(2) == 0:
				p.Body += "\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)"
			case agent:
				p.Login = "devin-ai-integration[bot]"
			case r.IntN(5) == 0:
				p.Login = pick(bots)
			}
			if r.IntN(3) == 0 {
				p.Action = "closed"
				p.Merged = true
			}
			w.PullRequest(p)
		case x < 0.80:
			w.Watch(repo, pick(humans))
		case x < 0.85:
			w.IssueComment(repo, num, pick(humans), r.IntN(2) == 0)
		case x < 0.88:
			reviewer := pick(humans)
			if agent {
				reviewer = pick(reviewBots)
			}
			w.Review(repo, num, reviewer)
		case x < 0.905:
			w.ReviewComment(repo, num, pick(humans))
		default:
			w.Other(pick([]string{"DeleteEvent", "IssuesEvent", "ForkEvent", "ReleaseEvent", "GollumEvent", "MemberEvent"}), repo, pick(humans))
		}
	}
}
