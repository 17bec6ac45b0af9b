package agents

import (
	"testing"

	"github.com/aicensus/aicensus/internal/supply/gitlog"
)

func TestLogin(t *testing.T) {
	tab := DefaultTable()
	tests := []struct {
		login string
		id    int64
		agent string
		role  Role
		auto  bool
	}{
		{"Copilot", 198982749, "copilot", RoleAuthor, false},
		{"copilot-swe-agent[bot]", 0, "copilot", RoleAuthor, false},
		{"copilot-pull-request-reviewer[bot]", 0, "copilot", RoleReviewer, false},
		{"devin-ai-integration[bot]", 0, "devin", RoleAuthor, false},
		{"devin-ai-integration", 0, "devin", RoleAuthor, false}, // GraphQL form
		{"app/google-labs-jules", 0, "jules", RoleAuthor, false},
		{"claude[bot]", 0, "claude", RoleAuthor, false},
		{"claude", 81847, "", "", false}, // the human account
		{"claude", 0, "", "", false},     // bare login: not the app
		{"claude", 209825114, "claude", RoleAuthor, false},
		{"cursor", 0, "", "", false}, // bare word guard
		{"cursor[bot]", 0, "cursor", RoleReviewer, false},
		{"CodeRabbitAI[bot]", 0, "coderabbit", RoleReviewer, false},
		{"dependabot[bot]", 0, "", "", true},
		{"renovate[bot]", 0, "", "", true},
		{"snyk-bot", 0, "", "", true},
		{"blacksmith-sh[bot]", 0, "", "", true}, // any other app is automation
		{"devin", 0, "", "", false},
		{"alice", 0, "", "", false},
	}
	for _, tc := range tests {
		a, r, auto := tab.Login(tc.login, tc.id)
		if a != tc.agent || r != tc.role || auto != tc.auto {
			t.Errorf("Login(%q, %d) = %q %q %v; want %q %q %v", tc.login, tc.id, a, r, auto, tc.agent, tc.role, tc.auto)
		}
	}
}

func TestPerson(t *testing.T) {
	tab := DefaultTable()
	tests := []struct {
		person string
		agent  string
		role   Role
		rule   string
		auto   bool
	}{
		{"Claude <noreply@anthropic.com>", "claude", RoleAuthor, RuleEmail, false},
		{"Claude 3.5 Sonnet <claude-3-5-sonnet@anthropic.com>", "claude", RoleAuthor, RuleEmail, false},
		{"Ashwin Bhat <ashwin@anthropic.com>", "", "", "", false}, // people at the vendor
		{"Copilot <198982749+Copilot@users.noreply.github.com>", "copilot", RoleAuthor, RuleNoreplyEmail, false},
		{"Copilot App <223556219+Copilot@users.noreply.github.com>", "copilot", RoleAuthor, RuleNoreplyEmail, false},
		{"claude[bot] <209825114+claude[bot]@users.noreply.github.com>", "claude", RoleAuthor, RuleNoreplyEmail, false},
		{"x <81847+claude@users.noreply.github.com>", "", "", "", false}, // the human "claude" account
		{"Devin <165725058+devin-cognition@users.noreply.github.com>", "", "", "", false},
		{"amodev <100158968+amodevinc@users.noreply.github.com>", "", "", "", false},
		{"Copilot Autofix powered by AI <62310815+github-advanced-security[bot]@users.noreply.github.com>", "", "", "", true},
		{"dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>", "", "", "", true},
		{"github-actions[bot] <github-actions[bot]@users.noreply.github.com>", "", "", "", true},
		{"sourcery-ai[bot] <58596630+sourcery-ai[bot]@users.noreply.github.com>", "sourcery", RoleAuthor, RuleNoreplyEmail, false},
		{"Paul Gauthier (aider) <aider@paulg.org>", "aider", RoleCoAuthor, RuleNameSuffix, false},
		{"Paul Gauthier <aider@paulg.org>", "", "", "", false}, // local part "aider" at a person's domain
		{"JV <aider@codewithjv.com>", "", "", "", false},       // same guard
		{"aider (openai/gpt-4.1) <noreply@aider.chat>", "aider", RoleAuthor, RuleEmail, false},
		{"OH <openhands@example.com>", "", "", "", false}, // whole addresses only
		{"openhands <openhands@all-hands.dev>", "openhands", RoleAuthor, RuleEmail, false},
		{"Christian Balcom <robot.inventor@gmail.com>", "", "", "", false},
		{"Cursor Agent <cursoragent@cursor.com>", "cursor", RoleAuthor, RuleEmail, false},
		{"codex <codex@openai.com>", "codex", RoleAuthor, RuleEmail, false},
	}
	for _, tc := range tests {
		m, auto := tab.Person(gitlog.ParsePerson(tc.person))
		if m.agent != tc.agent || m.role != tc.role || m.rule != tc.rule || auto != tc.auto {
			t.Errorf("Person(%q) = %+v %v; want %q %q %q %v", tc.person, m, auto, tc.agent, tc.role, tc.rule, tc.auto)
		}
	}
}

func TestTrailerBranchMarkers(t *testing.T) {
	tab := DefaultTable()
	trailers := []struct {
		key, value string
		agent      string
	}{
		{"Co-authored-by", "Claude Opus 4.6 <noreply@anthropic.com>", "claude"},
		{"Co-Authored-By", "aider (vertex_ai/gemini-2.5-pro) <aider@aider.chat>", "aider"},
		{"Co-authored-by", "Sourcery AI <>", ""},
		{"Co-authored-by", "Jane <jane@example.org>", ""},
		{"Assisted-by", "Cursor (claude-4-sonnet)", "cursor"},
		{"Assisted-by", "SomeNewTool v2", "other"},
		{"Generated-by", "Terraform", ""},
		{"Claude-Generated-By", "Claude Code (cli/claude=100%)", "claude"},
		{"Replit-Commit-Author", "Agent", "replit"},
		{"Replit-Commit-Author", "User", ""},
		{"Signed-off-by", "Claude <noreply@anthropic.com>", ""},
	}
	for _, tc := range trailers {
		m, _ := tab.Trailer(gitlog.Trailer{Key: tc.key, Value: tc.value})
		if m.agent != tc.agent || (m.agent != "" && (m.role != RoleCoAuthor || m.rule != RuleTrailer)) {
			t.Errorf("Trailer(%s: %s) = %+v, want %q", tc.key, tc.value, m, tc.agent)
		}
	}
	for ref, want := range map[string]string{"codex/fix-1": "codex", "refs/heads/copilot/x": "copilot", "Claude/y": "claude",
		"cosine/z": "cosine", "feature/codex": "", "cursor-fix": "", "devin": ""} {
		if got := tab.Branch(ref); got != want {
			t.Errorf("Branch(%q) = %q, want %q", ref, got, want)
		}
	}
	for text, want := range map[string]string{
		"🤖 Generated with [Claude Code](https://claude.ai/code)":            "claude",
		"see https://chatgpt.com/codex/tasks/task_e_6842abc":                "codex",
		"[Open in Cursor](https://cursor.com/background-agent?bcId=bc-1)":   "cursor",
		"I used claude and cursor and codex and devin to write this; jules": "",
		"Generated with love by the team":                                   "",
	} {
		hits := tab.Markers(text)
		got := ""
		if len(hits) > 0 {
			got = hits[0].agent
		}
		if got != want {
			t.Errorf("Markers(%q) = %v, want %q", text, hits, want)
		}
	}
}

func TestCommitAttribution(t *testing.T) {
	tab := DefaultTable()
	tests := []struct {
		name       string
		c          gitlog.Commit
		class      Role
		agents     []string
		automation string
	}{
		{"copilot squash", gitlog.Commit{Author: gitlog.Person{Name: "copilot-swe-agent[bot]", Email: "198982749+Copilot@users.noreply.github.com"}, PR: 4}, RoleAuthor, []string{"copilot"}, ""},
		{"claude code cli", gitlog.Commit{Author: gitlog.Person{Name: "Dev", Email: "dev@x.org"}, Message: "Fix\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
			Trailers: []gitlog.Trailer{{Key: "Co-Authored-By", Value: "Claude <noreply@anthropic.com>"}}}, RoleCoAuthor, []string{"claude"}, ""},
		{"aider subject", gitlog.Commit{Author: gitlog.Person{Name: "Paul", Email: "p@x"}, Subject: "aider: Added a test"}, RoleCoAuthor, []string{"aider"}, ""},
		{"merge of codex branch", gitlog.Commit{Author: gitlog.Person{Name: "Maint", Email: "m@x"}, Subject: "Merge pull request #9 from o/codex/x", Branch: "codex/x", PR: 9}, RoleAuthor, []string{"codex"}, ""},
		{"merge with aider branch commits", gitlog.Commit{Author: gitlog.Person{Name: "Maint", Email: "m@x"}, PR: 3,
			BranchAuthors: []gitlog.Person{{Name: "Amir (aider)", Email: "a@x"}}, BranchCoauthors: []gitlog.Person{{Name: "aider (gpt-4)", Email: "noreply@aider.chat"}}}, RoleCoAuthor, []string{"aider"}, ""},
		{"dependabot", gitlog.Commit{Author: gitlog.Person{Name: "dependabot[bot]", Email: "49699333+dependabot[bot]@users.noreply.github.com"},
			Trailers: []gitlog.Trailer{{Key: "Signed-off-by", Value: "dependabot[bot] <support@github.com>"}}}, "", nil, "dependabot[bot]"},
		{"human", gitlog.Commit{Author: gitlog.Person{Name: "Claude Monet", Email: "claude@monet.fr"}, Subject: "Use cursor pagination with codex data"}, "", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tab.Commit(tc.c)
			if a.Class() != tc.class || a.Automation != tc.automation || len(a.Agents("")) != len(tc.agents) {
				t.Fatalf("attribution %+v", a)
			}
			for i, ag := range tc.agents {
				if a.Agents("")[i] != ag {
					t.Fatalf("agents %v, want %v", a.Agents(""), tc.agents)
				}
			}
		})
	}
}
