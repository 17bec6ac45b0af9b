package gittest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Repo is a git work tree in a test's temporary directory.
type Repo struct {
	T    testing.TB
	Dir  string
	when time.Time
}

// New runs git init in a new temporary directory with main as the initial
// branch; it skips the test when git is not installed.
func New(t testing.TB) *Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	r := &Repo{T: t, Dir: t.TempDir(), when: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	r.Git("init", "-q", "-b", "main")
	r.Git("config", "user.name", "Test Maintainer")
	r.Git("config", "user.email", "maintainer@example.org")
	r.Git("config", "commit.gpgsign", "false")
	r.Git("config", "tag.gpgsign", "false")
	return r
}

// Git runs git in the repository with a fixed environment and returns its
// trimmed output; it fails the test on error.
func (r *Repo) Git(args ...string) string {
	r.T.Helper()
	return r.git(nil, args...)
}

func (r *Repo) git(env []string, args ...string) string {
	r.T.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+r.Dir, "GIT_TERMINAL_PROMPT=0")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.T.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Author is a commit author "Name <email>".
type Author struct{ Name, Email string }

// Commit writes files (path → content; "" deletes the file), stages them
// and commits with message as author, one hour after the previous commit.
// It returns the commit hash.
func (r *Repo) Commit(author Author, message string, files map[string]string) string {
	r.T.Helper()
	for path, content := range files {
		full := filepath.Join(r.Dir, path)
		if content == "" {
			r.Git("rm", "-q", "-f", path)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.T.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			r.T.Fatal(err)
		}
		r.Git("add", path)
	}
	r.when = r.when.Add(time.Hour)
	date := r.when.Format(time.RFC3339)
	env := []string{"GIT_AUTHOR_NAME=" + author.Name, "GIT_AUTHOR_EMAIL=" + author.Email, "GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date}
	r.git(env, "commit", "-q", "--allow-empty", "-m", message)
	return r.Git("rev-parse", "HEAD")
}

// Merge merges branch into the current branch with a merge commit whose
// message is message (GitHub's "Merge pull request #N from owner/branch").
func (r *Repo) Merge(branch, message string) string {
	r.T.Helper()
	r.when = r.when.Add(time.Hour)
	date := r.when.Format(time.RFC3339)
	r.git([]string{"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date}, "merge", "-q", "--no-ff", "-m", message, branch)
	return r.Git("rev-parse", "HEAD")
}
