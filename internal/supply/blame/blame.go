package blame

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aicensus/aicensus/internal/supply/agents"
	"github.com/aicensus/aicensus/internal/supply/gitlog"
	"github.com/aicensus/aicensus/internal/supply/result"
)

// Config selects releases and files.
type Config struct {
	// All measures every interval between consecutive release tags, plus
	// the last tag to HEAD; otherwise only the latest tag to HEAD (or, when
	// HEAD is that tag, the interval ending at it).
	All bool
	// Include keeps files whose path or base name matches any pattern
	// (path.Match syntax; "dir/*" style patterns match the full path);
	// empty keeps every tracked file.
	Include []string
	// Exclude drops files matching any pattern, after Include.
	Exclude []string
	// Agent, when set, counts only lines of commits attributed to that
	// agent (e.g. "aider"); otherwise any agent.
	Agent string
}

// Interval is the result for one release interval.
type Interval struct {
	Start      string         `json:"start"` // tag, or "" for the repository's first commit
	End        string         `json:"end"`   // tag or "HEAD"
	Commits    int            `json:"commits"`
	Files      int            `json:"files"`
	Lines      int            `json:"new_lines"`
	AgentLines int            `json:"agent_lines"`
	Share      float64        `json:"agent_share"` // AgentLines / Lines
	ByAgent    map[string]int `json:"by_agent,omitempty"`
}

// Report is the result of Run.
type Report struct {
	Repo      string     `json:"repo"`
	Intervals []Interval `json:"intervals"`
	// Pooled sums every interval: AgentLines / Lines over all of them.
	Pooled Interval `json:"pooled"`
}

var releaseTag = regexp.MustCompile(`^v(\d+)\.(\d+)\.0$`)

// Run measures the repository at dir with git g and the agent rules tab.
func Run(ctx context.Context, g gitlog.Git, dir string, tab *agents.Table, cfg Config) (Report, error) {
	var rep Report
	tags, err := releaseTags(ctx, g, dir)
	if err != nil {
		return rep, err
	}
	head, err := revParse(ctx, g, dir, "HEAD")
	if err != nil {
		return rep, err
	}
	for _, iv := range intervals(ctx, g, dir, tags, head, cfg.All) {
		res, err := measure(ctx, g, dir, tab, cfg, iv[0], iv[1])
		if err != nil {
			return rep, err
		}
		rep.Intervals = append(rep.Intervals, res)
		rep.Pooled.Commits += res.Commits
		rep.Pooled.Lines += res.Lines
		rep.Pooled.AgentLines += res.AgentLines
		for a, n := range res.ByAgent {
			if rep.Pooled.ByAgent == nil {
				rep.Pooled.ByAgent = map[string]int{}
			}
			rep.Pooled.ByAgent[a] += n
		}
	}
	if len(rep.Intervals) > 0 {
		rep.Pooled.Start, rep.Pooled.End = rep.Intervals[0].Start, rep.Intervals[len(rep.Intervals)-1].End
	}
	rep.Pooled.Share = share(rep.Pooled.AgentLines, rep.Pooled.Lines)
	return rep, nil
}

func share(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// releaseTags returns the vX.Y.0 tags in version order.
func releaseTags(ctx context.Context, g gitlog.Git, dir string) ([]string, error) {
	out, err := g.Run(ctx, dir, "tag", "--list", "v*")
	if err != nil {
		return nil, err
	}
	type ver struct {
		tag          string
		major, minor int
	}
	var vs []ver
	for t := range strings.FieldsSeq(string(out)) {
		if m := releaseTag.FindStringSubmatch(t); m != nil {
			a, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			vs = append(vs, ver{t, a, b})
		}
	}
	slices.SortFunc(vs, func(x, y ver) int {
		if x.major != y.major {
			return x.major - y.major
		}
		return x.minor - y.minor
	})
	tags := make([]string, len(vs))
	for i, v := range vs {
		tags[i] = v.tag
	}
	return tags, nil
}

func revParse(ctx context.Context, g gitlog.Git, dir, rev string) (string, error) {
	out, err := g.Run(ctx, dir, "rev-parse", rev+"^{commit}")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// intervals lists [start, end] pairs; start "" means from the first commit.
func intervals(ctx context.Context, g gitlog.Git, dir string, tags []string, head string, all bool) [][2]string {
	if len(tags) == 0 {
		return [][2]string{{"", "HEAD"}}
	}
	var out [][2]string
	if all {
		for i := 1; i < len(tags); i++ {
			out = append(out, [2]string{tags[i-1], tags[i]})
		}
	}
	last := tags[len(tags)-1]
	if sha, err := revParse(ctx, g, dir, last); err == nil && sha != head {
		out = append(out, [2]string{last, "HEAD"})
	} else if !all && len(tags) > 1 {
		out = append(out, [2]string{tags[len(tags)-2], last})
	}
	return out
}

// measure blames every selected file at end over start..end.
func measure(ctx context.Context, g gitlog.Git, dir string, tab *agents.Table, cfg Config, start, end string) (Interval, error) {
	iv := Interval{Start: start, End: end}
	rng := end
	if start != "" {
		rng = start + ".." + end
	}
	agentOf, n, err := commitAgents(ctx, g, dir, tab, rng, cfg.Agent)
	if err != nil {
		return iv, err
	}
	iv.Commits = n
	out, err := g.Run(ctx, dir, "ls-tree", "-r", "--name-only", "-z", end)
	if err != nil {
		return iv, err
	}
	for f := range strings.SplitSeq(strings.TrimRight(string(out), "\x00"), "\x00") {
		if f == "" || !selected(f, cfg) {
			continue
		}
		counts, err := blameFile(ctx, g, dir, rng, f)
		if err != nil {
			return iv, err
		}
		iv.Files++
		for sha, lines := range counts {
			iv.Lines += lines
			if a := agentOf[sha]; a != "" {
				iv.AgentLines += lines
				if iv.ByAgent == nil {
					iv.ByAgent = map[string]int{}
				}
				iv.ByAgent[a] += lines
			}
		}
	}
	iv.Share = share(iv.AgentLines, iv.Lines)
	return iv, nil
}

// commitAgents maps every commit of rng to its agents ("+"-joined), or ""
// for commits without an agent signal (or without only's signal).
func commitAgents(ctx context.Context, g gitlog.Git, dir string, tab *agents.Table, rng, only string) (map[string]string, int, error) {
	out, err := g.Run(ctx, dir, "log", "--format=%H%x1f%an%x1f%ae%x1f%B%x1e", rng, "--")
	if err != nil {
		return nil, 0, err
	}
	m := map[string]string{}
	n := 0
	for rec := range bytes.SplitSeq(out, []byte{0x1e}) {
		rec = bytes.TrimLeft(rec, "\n")
		f := strings.SplitN(string(rec), "\x1f", 4)
		if len(f) != 4 {
			continue
		}
		n++
		subject, trailers, generated := gitlog.ParseMessage(f[3])
		a := tab.Commit(gitlog.Commit{SHA: f[0], Author: gitlog.Person{Name: f[1], Email: f[2]}, Subject: subject,
			Message: f[3], Trailers: trailers, GeneratedWith: generated})
		names := a.Agents("")
		if only != "" {
			names = slices.DeleteFunc(names, func(s string) bool { return s != only })
		}
		m[f[0]] = strings.Join(names, "+")
	}
	return m, n, nil
}

// selected applies Include and Exclude to a path.
func selected(p string, cfg Config) bool {
	matches := func(pats []string) bool {
		for _, pat := range pats {
			if ok, _ := path.Match(pat, p); ok {
				return true
			}
			if ok, _ := path.Match(pat, path.Base(p)); ok {
				return true
			}
		}
		return false
	}
	if len(cfg.Include) > 0 && !matches(cfg.Include) {
		return false
	}
	return !matches(cfg.Exclude)
}

// blameFile returns, for one file, the number of lines per commit inside rng
// (boundary lines, older than the range start, are dropped).
func blameFile(ctx context.Context, g gitlog.Git, dir, rng, file string) (map[string]int, error) {
	args := []string{"blame", "--line-porcelain", "-M100", "-C100", "-C", "-C"}
	if !strings.Contains(rng, "..") {
		args = append(args, "--root") // whole history: the root commit's lines are new too
	}
	out, err := g.Run(ctx, dir, append(args, rng, "--", file)...)
	if err != nil {
		return nil, fmt.Errorf("blame %s: %w", file, err)
	}
	return ParsePorcelain(out), nil
}

// ParsePorcelain counts the lines per commit in `git blame --line-porcelain`
// output, skipping lines marked "boundary". Malformed input yields what
// could be parsed.
func ParsePorcelain(out []byte) map[string]int {
	counts := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	sha, boundary := "", false
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) > 0 && line[0] == '\t':
			if sha != "" && !boundary {
				counts[sha]++
			}
			sha, boundary = "", false
		case sha == "":
			if f := bytes.Fields(line); len(f) >= 3 && isHex(f[0]) {
				sha = string(f[0])
			}
		case bytes.Equal(line, []byte("boundary")):
			boundary = true
		}
	}
	return counts
}

func isHex(b []byte) bool {
	if len(b) < 7 {
		return false
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Rows flattens r for table and CSV output and for storage.
func (r Report) Rows() []result.Row {
	var rows []result.Row
	for _, iv := range append(append([]Interval(nil), r.Intervals...), r.Pooled) {
		scope := fmt.Sprintf("blame repo=%s", r.Repo)
		key := fmt.Sprintf("%s..%s", iv.Start, iv.End)
		if iv.Start == "" {
			key = "..." + iv.End
		}
		if len(r.Intervals) > 1 && iv.End == r.Pooled.End && iv.Start == r.Pooled.Start && iv.Lines == r.Pooled.Lines {
			key = "pooled " + key
		}
		uni := fmt.Sprintf("new lines surviving at %s (N=%d)", iv.End, iv.Lines)
		rows = append(rows,
			result.Row{Scope: scope, Metric: "new_lines", Key: key, Value: float64(iv.Lines), Universe: uni},
			result.Row{Scope: scope, Metric: "agent_lines", Key: key, Value: float64(iv.AgentLines), Universe: uni},
			result.Row{Scope: scope, Metric: "agent_share", Key: key, Value: iv.Share, Universe: uni})
	}
	return rows
}
