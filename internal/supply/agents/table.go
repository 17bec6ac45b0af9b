package agents

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aicensus/aicensus/internal/supply/gitlog"
)

// Role is what an agent did in a pull request or commit.
type Role string

// Roles, strongest first.
const (
	RoleAuthor   Role = "author"    // opened the PR or wrote the commit
	RoleCoAuthor Role = "co-author" // credited in a commit (trailer, name suffix, marker)
	RoleReviewer Role = "reviewer"  // reviewed or commented on the PR
)

// Rule names, as they appear in Signal.Rule.
const (
	RuleLogin         = "login"          // PR author or reviewer login
	RuleEmail         = "email"          // commit author/co-author e-mail address
	RuleNoreplyEmail  = "noreply-email"  // <id>+<login>@users.noreply.github.com
	RuleBotName       = "bot-name"       // git name "<login>[bot]"
	RuleNameSuffix    = "name-suffix"    // git name "<user> (aider)"
	RuleTrailer       = "trailer"        // Co-authored-by / Assisted-by / Generated-by / Replit-Commit-Author
	RuleSubjectPrefix = "subject-prefix" // "aider: …"
	RuleBodyMarker    = "body-marker"    // "Generated with [Claude Code]", agent task URLs
	RuleBranchPrefix  = "branch-prefix"  // head ref "codex/…"
)

// loginRule is one account of the identity table.
type loginRule struct {
	agent string
	role  Role
	// botOnly: the bare login belongs to a person (e.g. "claude", id 81847);
	// only the "[bot]" form or one of ids is the agent.
	botOnly bool
	ids     []int64
}

// Table is the attribution rule set. Build it with DefaultTable; a Table is
// read-only after construction and safe for concurrent use.
type Table struct {
	logins     map[string]loginRule
	automation map[string]bool
	emails     map[string]string // whole lower-case address → agent
	// emailLocalPrefix maps a vendor domain to local-part prefixes that are
	// agents there (e.g. claude-3-5-sonnet@anthropic.com).
	emailLocalPrefix map[string][]string
	branches         []prefixRule
	markers          []markerRule
	toolWords        []prefixRule // words in Assisted-by/Generated-by values
}

type prefixRule struct{ prefix, agent string }

type markerRule struct {
	re    *regexp.Regexp
	agent string
}

// DefaultTable returns the rules of §4.2–4.3 (identity table, CHAOSS and
// logicstar branch prefixes, body markers, trailers, automation
// exclusions), plus identities seen in the corpus histories that §4.3 does
// not list (OpenHands/OpenDevin addresses, noreply@aider.dev,
// claude-*@anthropic.com, bot@sourcery.ai), each documented in docs/supply.md.
func DefaultTable() *Table {
	t := &Table{
		logins: map[string]loginRule{
			"copilot":                       {agent: "copilot", role: RoleAuthor},
			"copilot-swe-agent":             {agent: "copilot", role: RoleAuthor},
			"copilot-pull-request-reviewer": {agent: "copilot", role: RoleReviewer},
			"chatgpt-codex-connector":       {agent: "codex", role: RoleReviewer},
			"openai-codex":                  {agent: "codex", role: RoleReviewer},
			"claude":                        {agent: "claude", role: RoleAuthor, botOnly: true, ids: []int64{209825114}},
			"claude-code-action":            {agent: "claude", role: RoleAuthor},
			"anthropic-claude":              {agent: "claude", role: RoleAuthor},
			"cursor":                        {agent: "cursor", role: RoleReviewer, botOnly: true, ids: []int64{206951365}},
			"devin-ai-integration":          {agent: "devin", role: RoleAuthor},
			"google-labs-jules":             {agent: "jules", role: RoleAuthor},
			"gemini-code-assist":            {agent: "gemini", role: RoleReviewer},
			"coderabbitai":                  {agent: "coderabbit", role: RoleReviewer},
			"amazon-q-developer":            {agent: "amazon-q", role: RoleReviewer},
			"greptile-apps":                 {agent: "greptile", role: RoleReviewer},
			"ellipsis-dev":                  {agent: "ellipsis", role: RoleReviewer},
			"sourcery-ai":                   {agent: "sourcery", role: RoleReviewer},
			"entelligence-ai-pr-reviews":    {agent: "entelligence", role: RoleReviewer},
			"codegen-sh":                    {agent: "codegen", role: RoleAuthor},
			"sweep-ai":                      {agent: "sweep", role: RoleAuthor},
			"cline":                         {agent: "cline", role: RoleAuthor, botOnly: true},
			"continue":                      {agent: "continue", role: RoleAuthor, botOnly: true},
			"sourcegraph-cody":              {agent: "cody", role: RoleReviewer},
			"jetbrains-ai":                  {agent: "jetbrains-ai", role: RoleReviewer},
			"openhands":                     {agent: "openhands", role: RoleAuthor},
			"openhands-agent":               {agent: "openhands", role: RoleAuthor},
			"tembo-io":                      {agent: "tembo", role: RoleAuthor},
		},
		automation: map[string]bool{},
		emails: map[string]string{
			"copilot@github.com":      "copilot",
			"noreply@anthropic.com":   "claude",
			"codex@openai.com":        "codex",
			"cursoragent@cursor.com":  "cursor",
			"aider@aider.chat":        "aider",
			"noreply@aider.chat":      "aider",
			"noreply@aider.dev":       "aider",
			"openhands@all-hands.dev": "openhands",
			"opendevin@all-hands.dev": "openhands",
			"opendevin@opendevin.ai":  "openhands",
			"bot@opendevin.com":       "openhands",
			"bot@sourcery.ai":         "sourcery",
		},
		emailLocalPrefix: map[string][]string{"anthropic.com": {"claude-"}},
		markers: []markerRule{
			{regexp.MustCompile(`(?i)generated with \[claude code\]`), "claude"},
			{regexp.MustCompile(`(?i)https?://(claude\.ai/code|claude\.com/claude-code)\b`), "claude"},
			{regexp.MustCompile(`(?i)https?://chatgpt\.com/codex/tasks/task_\w+`), "codex"},
			{regexp.MustCompile(`(?i)https?://(www\.)?cursor\.com/(background-agent|agents)\b`), "cursor"},
		},
	}
	for _, b := range []string{"dependabot", "renovate", "github-actions", "pre-commit-ci", "allcontributors", "codecov",
		"netlify", "vercel", "changeset-bot", "imgbot", "snyk-bot", "mergify", "stale", "github-advanced-security"} {
		t.automation[b] = true
	}
	for _, p := range []string{"codex", "claude", "copilot", "cursor", "devin", "cline", "aider", "gemini", "cosine"} {
		t.branches = append(t.branches, prefixRule{p + "/", p})
	}
	for _, w := range []string{"claude", "copilot", "codex", "cursor", "gemini", "aider", "openhands", "devin", "jules", "cline", "windsurf", "chatgpt", "openai"} {
		agent := w
		if w == "chatgpt" || w == "openai" {
			agent = "codex"
		}
		t.toolWords = append(t.toolWords, prefixRule{w, agent})
	}
	return t
}

// NormalizeLogin lower-cases a login and strips the "[bot]" suffix of
// GitHub App accounts (REST and GH Archive form) and the "app/" prefix
// (GraphQL form); bot reports whether either was present.
func NormalizeLogin(login string) (norm string, bot bool) {
	s := strings.ToLower(strings.TrimSpace(login))
	if rest, ok := strings.CutPrefix(s, "app/"); ok {
		s, bot = rest, true
	}
	if rest, ok := strings.CutSuffix(s, "[bot]"); ok {
		s, bot = rest, true
	}
	return s, bot
}

// Login classifies an account: the agent and its role for an AI identity,
// automation for a non-AI bot (the automation list, or any other "[bot]"
// login). id is the numeric account id when known, else 0.
func (t *Table) Login(login string, id int64) (agent string, role Role, automation bool) {
	norm, bot := NormalizeLogin(login)
	if norm == "" {
		return "", "", false
	}
	if r, ok := t.logins[norm]; ok {
		if !r.botOnly || bot || (id != 0 && slices.Contains(r.ids, id)) {
			return r.agent, r.role, false
		}
		return "", "", false
	}
	if t.automation[norm] || bot {
		return "", "", true
	}
	return "", "", false
}

// match is one agent identification before it is placed in a Signal.
type match struct {
	agent string
	role  Role
	rule  string
}

// Person classifies a git identity by, in order: its whole e-mail address,
// its GitHub noreply address (<id>+<login> or <login>[bot]), a vendor
// local-part prefix, a "<login>[bot]" name, and the " (aider)" name suffix
// (a co-author role). automation is set for non-AI bots.
func (t *Table) Person(p gitlog.Person) (m match, automation bool) {
	email := strings.ToLower(strings.TrimSpace(p.Email))
	if a, ok := t.emails[email]; ok {
		return match{a, RoleAuthor, RuleEmail}, false
	}
	local, domain, _ := strings.Cut(email, "@")
	if domain == "users.noreply.github.com" {
		login, hasID := local, false
		var id int64
		if i := strings.IndexByte(local, '+'); i > 0 {
			n, err := strconv.ParseInt(local[:i], 10, 64)
			if err == nil {
				login, id, hasID = local[i+1:], n, true
			}
		}
		if _, bot := NormalizeLogin(login); hasID || bot {
			a, role, auto := t.Login(login, id)
			if a != "" {
				if role == RoleReviewer {
					role = RoleAuthor // a commit is authored, whatever the account usually does
				}
				return match{a, role, RuleNoreplyEmail}, false
			}
			if auto {
				return match{}, true
			}
		}
	}
	for _, pre := range t.emailLocalPrefix[domain] {
		if strings.HasPrefix(local, pre) {
			return match{t.emailAgent(domain), RoleAuthor, RuleEmail}, false
		}
	}
	name := strings.TrimSpace(p.Name)
	if strings.HasSuffix(strings.ToLower(name), "[bot]") {
		a, _, auto := t.Login(name, 0)
		if a != "" {
			return match{a, RoleAuthor, RuleBotName}, false
		}
		return match{}, auto
	}
	if strings.HasSuffix(strings.ToLower(name), " (aider)") {
		return match{"aider", RoleCoAuthor, RuleNameSuffix}, false
	}
	return match{}, false
}

// emailAgent names the agent of a vendor domain with local-part rules.
func (t *Table) emailAgent(domain string) string {
	if domain == "anthropic.com" {
		return "claude"
	}
	return domain
}

// Branch returns the agent whose prefix starts a head ref, or "".
func (t *Table) Branch(ref string) string {
	r := strings.ToLower(strings.TrimPrefix(ref, "refs/heads/"))
	for _, b := range t.branches {
		if strings.HasPrefix(r, b.prefix) {
			return b.agent
		}
	}
	return ""
}

// Markers returns the agents whose markers occur in text with the matched
// text; never bare words.
func (t *Table) Markers(text string) []markerHit {
	var out []markerHit
	for _, m := range t.markers {
		if s := m.re.FindString(text); s != "" {
			out = append(out, markerHit{m.agent, s})
		}
	}
	return out
}

type markerHit struct{ agent, text string }

// Trailer classifies one commit trailer: Co-authored-by by its person,
// Assisted-by and *-Generated-By / Generated-by by the tool words of the
// value (Assisted-by with an unknown tool counts as agent "other"),
// Replit-Commit-Author: Agent|Assistant as replit.
func (t *Table) Trailer(tr gitlog.Trailer) (m match, automation bool) {
	key := strings.ToLower(tr.Key)
	switch {
	case key == "co-authored-by":
		pm, auto := t.Person(gitlog.ParsePerson(tr.Value))
		if pm.agent != "" {
			return match{pm.agent, RoleCoAuthor, RuleTrailer}, false
		}
		return match{}, auto
	case key == "assisted-by" || key == "generated-by" || strings.HasSuffix(key, "-generated-by"):
		v := strings.ToLower(tr.Value)
		best, at := "", len(v)+1
		for _, w := range t.toolWords { // the tool named first wins
			if i := wordIndex(v, w.prefix); i >= 0 && i < at {
				best, at = w.agent, i
			}
		}
		if best != "" {
			return match{best, RoleCoAuthor, RuleTrailer}, false
		}
		if key == "assisted-by" && strings.TrimSpace(v) != "" {
			return match{"other", RoleCoAuthor, RuleTrailer}, false
		}
	case key == "replit-commit-author":
		if v := strings.ToLower(strings.TrimSpace(tr.Value)); v == "agent" || v == "assistant" {
			return match{"replit", RoleCoAuthor, RuleTrailer}, false
		}
	}
	return match{}, false
}

// wordIndex returns the first index of w in s delimited by non-letters, or
// -1.
func wordIndex(s, w string) int {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return -1
		}
		j += i
		before := j == 0 || !isLetter(s[j-1])
		after := j+len(w) == len(s) || !isLetter(s[j+len(w)])
		if before && after {
			return j
		}
		i = j + 1
	}
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
