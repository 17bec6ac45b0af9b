package gharchive

import "time"

// Event types decoded by this package.
const (
	TypePullRequest              = "PullRequestEvent"
	TypePullRequestReview        = "PullRequestReviewEvent"
	TypePullRequestReviewComment = "PullRequestReviewCommentEvent"
	TypeIssueComment             = "IssueCommentEvent"
	TypePush                     = "PushEvent"
	TypeWatch                    = "WatchEvent"
	TypeCreate                   = "CreateEvent"
)

// Event is one GitHub event with the fields the metrics need. Pointer fields
// are nil when the payload lacks them.
type Event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Actor     Actor     `json:"actor"`
	Repo      Repo      `json:"repo"`
	CreatedAt time.Time `json:"created_at"`
	Payload   Payload   `json:"payload"`
}

// Actor is the account that caused the event. Logins of GitHub Apps end in
// "[bot]" here (REST form).
type Actor struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
}

// Repo names the repository ("owner/name").
type Repo struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Payload is the union of the payload fields used, over all decoded types.
type Payload struct {
	Action      string       `json:"action"`
	Number      int          `json:"number"`
	PullRequest *PullRequest `json:"pull_request"`
	Review      *Review      `json:"review"`
	Comment     *Comment     `json:"comment"`
	Issue       *Issue       `json:"issue"`
	Ref         string       `json:"ref"`
	RefType     string       `json:"ref_type"`
	Head        string       `json:"head"`
	Commits     []PushCommit `json:"commits"`
}

// PullRequest is the pull_request object; after 2025-10-07 only Number, ID
// and Head are filled.
type PullRequest struct {
	ID        int64     `json:"id"`
	Number    int       `json:"number"`
	User      *User     `json:"user"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Head      Branch    `json:"head"`
	Merged    bool      `json:"merged"`
	CreatedAt time.Time `json:"created_at"`
}

// Branch is a head or base reference.
type Branch struct {
	Ref string `json:"ref"`
	SHA string `json:"sha"`
}

// User is a GitHub account as embedded in payloads; Type is "User", "Bot"
// or "Organization".
type User struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Type  string `json:"type"`
}

// Review is a pull request review.
type Review struct {
	User  *User  `json:"user"`
	State string `json:"state"`
}

// Comment is an issue, PR conversation or inline review comment.
type Comment struct {
	User                  *User `json:"user"`
	PerformedViaGitHubApp *App  `json:"performed_via_github_app"`
}

// App is a GitHub App.
type App struct {
	Slug string `json:"slug"`
}

// Issue is the issue of an IssueCommentEvent; PullRequest is non-nil when
// the issue is a pull request.
type Issue struct {
	Number      int       `json:"number"`
	PullRequest *struct{} `json:"pull_request"`
}

// PushCommit is one commit of a PushEvent (absent after 2025-10-07).
type PushCommit struct {
	SHA     string `json:"sha"`
	Author  Person `json:"author"`
	Message string `json:"message"`
}

// Person is a git identity.
type Person struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// PRNumber returns the pull request number an event is about, or 0.
func (e *Event) PRNumber() int {
	p := &e.Payload
	switch e.Type {
	case TypePullRequest, TypePullRequestReview, TypePullRequestReviewComment:
		if p.Number != 0 {
			return p.Number
		}
		if p.PullRequest != nil {
			return p.PullRequest.Number
		}
	case TypeIssueComment:
		if p.Issue != nil && p.Issue.PullRequest != nil {
			return p.Issue.Number
		}
	}
	return 0
}
