package github

import (
	"strings"
	"time"
)

// Repo is one repository. Stars is -1 when unknown; CreatedAt is zero when
// unknown.
type Repo struct {
	FullName  string    `json:"full_name"`
	Topics    []string  `json:"topics,omitempty"`
	Stars     int64     `json:"stars"`
	CreatedAt time.Time `json:"created_at"`
	Fork      bool      `json:"fork"`
	Archived  bool      `json:"archived"`
	Language  string    `json:"language,omitempty"`
}

// Canonical column names.
const (
	ColFullName  = "full_name"
	ColTopics    = "topics"
	ColStars     = "stars"
	ColCreatedAt = "created_at"
	ColFork      = "fork"
	ColArchived  = "archived"
	ColLanguage  = "language"
)

// Aliases lists, per canonical column, the source column names tried in
// order (case-insensitive). repo_url/html_url values are reduced to
// owner/name. best-of lists' "github_id" and the GitHub-Ranking CSV's
// "repo_url" are covered; "labels" is not a topics alias (map it with
// --column topics=labels when the labels are topic-like).
func Aliases() map[string][]string {
	return map[string][]string{
		ColFullName:  {"full_name", "nameWithOwner", "repo_name_with_owner", "github_id", "repo", "repo_url", "html_url", "url"},
		ColTopics:    {"topics", "repositoryTopics", "topic"},
		ColStars:     {"stars", "stargazers_count", "stargazerCount", "star_count", "stargazers"},
		ColCreatedAt: {"created_at", "createdAt", "created"},
		ColFork:      {"fork", "isFork", "is_fork"},
		ColArchived:  {"archived", "isArchived", "is_archived"},
		ColLanguage:  {"language", "primaryLanguage", "primary_language"},
	}
}

// NormalizeTopic lower-cases a topic and turns spaces and underscores into
// hyphens, the form GitHub topics take ("machine learning" →
// "machine-learning").
func NormalizeTopic(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	t = strings.Trim(t, `"'[] `)
	return strings.Join(strings.FieldsFunc(t, func(r rune) bool { return r == ' ' || r == '_' || r == '-' }), "-")
}

// fullNameOf reduces URLs to owner/name and validates the shape.
func fullNameOf(s string) string {
	s = strings.TrimSpace(s)
	for _, p := range []string{"https://github.com/", "http://github.com/", "https://api.github.com/repos/", "github.com/"} {
		s = strings.TrimPrefix(s, p)
	}
	s = strings.TrimSuffix(strings.TrimSuffix(s, "/"), ".git")
	parts := strings.Split(s, "/")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return ""
	}
	return parts[0] + "/" + parts[1]
}
