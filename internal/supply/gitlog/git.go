package gitlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrNotRepository is returned (wrapped) when a directory is not a git
// work tree or repository.
var ErrNotRepository = errors.New("not a git repository")

// Git runs the git binary. The zero value runs "git" from PATH.
type Git struct {
	Binary string
}

// Run runs git with args in dir and returns its standard output.
func (g Git) Run(ctx context.Context, dir string, args ...string) ([]byte, error) {
	bin := g.Binary
	if bin == "" {
		bin = "git"
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"-C", dir, "-c", "core.quotepath=off"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "not a git repository") {
			return nil, fmt.Errorf("git %s in %s: %w", args[0], dir, ErrNotRepository)
		}
		return nil, fmt.Errorf("git %s in %s: %w: %s", args[0], dir, err, msg)
	}
	return out, nil
}

const logFormat = "--format=%H%x1f%P%x1f%aI%x1f%cI%x1f%an%x1f%ae%x1f%cn%x1f%ce%x1f%B%x1e"

// ReadRepo returns the first-parent commits of rev ("HEAD" when empty) in
// the repository at dir, newest first, in the corpus shape. Repo is the
// owner/name of the origin remote when it is a GitHub URL, else the
// directory name. Merge commits carry the authors and co-authors of the
// commits they merged (git rev-list p1..p2).
func (g Git) ReadRepo(ctx context.Context, dir, rev string) ([]Commit, error) {
	if rev == "" {
		rev = "HEAD"
	}
	out, err := g.Run(ctx, dir, "log", logFormat, rev, "--")
	if err != nil {
		return nil, err
	}
	repo := g.repoName(ctx, dir)
	all := map[string]*Commit{}
	parents := map[string][]string{}
	for rec := range bytes.SplitSeq(out, []byte{0x1e}) {
		rec = bytes.TrimLeft(rec, "\n")
		if len(rec) == 0 {
			continue
		}
		f := strings.SplitN(string(rec), "\x1f", 9)
		if len(f) != 9 {
			return nil, fmt.Errorf("git log in %s: record with %d fields", dir, len(f))
		}
		c := &Commit{Repo: repo, SHA: f[0], Message: f[8]}
		ps := strings.Fields(f[1])
		parents[c.SHA] = ps
		c.Parents = len(ps)
		c.AuthorDate, _ = time.Parse(time.RFC3339, f[2])
		c.CommitDate, _ = time.Parse(time.RFC3339, f[3])
		c.Author = Person{Name: f[4], Email: f[5]}
		c.Committer = Person{Name: f[6], Email: f[7]}
		c.Subject, c.Trailers, c.GeneratedWith = ParseMessage(c.Message)
		c.PR, c.Branch = PRFromSubject(c.Subject)
		all[c.SHA] = c
	}
	first, err := g.Run(ctx, dir, "rev-list", "--first-parent", rev, "--")
	if err != nil {
		return nil, err
	}
	var commits []Commit
	for sha := range strings.FieldsSeq(string(first)) {
		c, ok := all[sha]
		if !ok {
			return nil, fmt.Errorf("git rev-list in %s: %s not in log", dir, sha)
		}
		if ps := parents[sha]; len(ps) >= 2 {
			if err := g.branchOf(ctx, dir, c, ps[0], ps[1], all); err != nil {
				return nil, err
			}
		}
		commits = append(commits, *c)
	}
	return commits, nil
}

// branchOf fills the Branch* fields of merge commit c from p1..p2.
func (g Git) branchOf(ctx context.Context, dir string, c *Commit, p1, p2 string, all map[string]*Commit) error {
	out, err := g.Run(ctx, dir, "rev-list", p1+".."+p2, "--")
	if err != nil {
		return err
	}
	seenA, seenC := map[Person]bool{}, map[Person]bool{}
	for sha := range strings.FieldsSeq(string(out)) {
		b, ok := all[sha]
		if !ok {
			continue
		}
		c.BranchCommits++
		if !seenA[b.Author] {
			seenA[b.Author] = true
			c.BranchAuthors = append(c.BranchAuthors, b.Author)
		}
		for _, t := range b.Trailers {
			if strings.EqualFold(t.Key, "Co-authored-by") {
				p := ParsePerson(t.Value)
				if !seenC[p] {
					seenC[p] = true
					c.BranchCoauthors = append(c.BranchCoauthors, p)
				}
			}
		}
	}
	return nil
}

// repoName derives owner/name from the origin remote, else the directory.
func (g Git) repoName(ctx context.Context, dir string) string {
	if out, err := g.Run(ctx, dir, "config", "--get", "remote.origin.url"); err == nil {
		if name := githubName(strings.TrimSpace(string(out))); name != "" {
			return name
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return filepath.Base(dir)
	}
	return filepath.Base(abs)
}

// githubName extracts owner/name from https://github.com/owner/name(.git)
// or git@github.com:owner/name(.git).
func githubName(url string) string {
	for _, p := range []string{"https://github.com/", "http://github.com/", "git@github.com:", "ssh://git@github.com/"} {
		if rest, ok := strings.CutPrefix(url, p); ok {
			rest = strings.TrimSuffix(strings.TrimSuffix(rest, "/"), ".git")
			if strings.Count(rest, "/") == 1 {
				return rest
			}
		}
	}
	return ""
}
