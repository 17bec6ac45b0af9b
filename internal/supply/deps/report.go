package deps

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aicensus/aicensus/internal/supply/manifest"
	"github.com/aicensus/aicensus/internal/supply/result"
	"github.com/aicensus/aicensus/internal/supply/sdk"
)

// Config selects what counts.
type Config struct {
	// Tiers counted as "LLM SDK"; A, B and C when empty.
	Tiers []string
	// Lockfiles also counts lockfile entries (transitive variant).
	Lockfiles bool
	// IncludeIndirect also counts go.mod "// indirect" requirements.
	IncludeIndirect bool
}

// Count is a number of repositories.
type Count struct {
	Key   string  `json:"key"`
	Repos int     `json:"repos"`
	Share float64 `json:"share"` // of repositories with any manifest
}

// YearGrowth counts repositories created in a year that depend on an LLM
// SDK, and the change over the previous year.
type YearGrowth struct {
	Year     int     `json:"year"`
	Created  int     `json:"created"`   // repositories with a manifest created that year
	LLMSDK   int     `json:"llm_sdk"`   // of which depend on an LLM SDK
	YoY      float64 `json:"yoy"`       // LLMSDK / previous LLMSDK − 1; 0 without a previous year
	YoYKnown bool    `json:"yoy_known"` // a previous year with LLMSDK > 0 exists
}

// Report is the result of Summarize.
type Report struct {
	Tiers          []string     `json:"tiers"`
	Lockfiles      bool         `json:"lockfiles"`
	Repos          int          `json:"repos"`
	WithManifest   int          `json:"repos_with_manifest"`
	ParseErrors    int          `json:"parse_errors"`
	LLMSDK         int          `json:"repos_llm_sdk"`
	LLMSDKShare    float64      `json:"llm_sdk_share"`
	ByTier         []Count      `json:"by_tier"`
	BySDK          []Count      `json:"by_sdk"`
	ByEcosystem    []Count      `json:"by_ecosystem"`
	TierX          int          `json:"repos_tier_x"`
	MCP            int          `json:"repos_mcp"`
	Growth         []YearGrowth `json:"growth,omitempty"`
	CreatedUnknown int          `json:"created_at_missing"`
	LLMRepos       []string     `json:"llm_sdk_repos"`
}

// counted filters a repository's matches by cfg.
func counted(r Repo, cfg Config, tiers []string) (llm, x, mcp []Match) {
	for _, m := range r.Matches {
		if m.Scope == manifest.ScopeLock && !cfg.Lockfiles {
			continue
		}
		if m.Scope == manifest.ScopeIndirect && !cfg.IncludeIndirect && !cfg.Lockfiles {
			continue
		}
		switch {
		case slices.Contains(tiers, m.Tier):
			llm = append(llm, m)
		case m.Tier == sdk.TierX:
			x = append(x, m)
		case m.Tier == sdk.TierMCP:
			mcp = append(mcp, m)
		}
	}
	return llm, x, mcp
}

// Summarize counts repos.
func Summarize(repos []Repo, cfg Config) Report {
	tiers := cfg.Tiers
	if len(tiers) == 0 {
		tiers = sdk.LLMTiers()
	}
	rep := Report{Tiers: tiers, Lockfiles: cfg.Lockfiles, Repos: len(repos)}
	bySDK, byTier, byEco := map[string]int{}, map[string]int{}, map[string]int{}
	years := map[int]*YearGrowth{}
	for _, r := range repos {
		rep.ParseErrors += len(r.ParseErrors)
		if r.Manifests == 0 {
			continue
		}
		rep.WithManifest++
		llm, x, mcp := counted(r, cfg, tiers)
		if len(x) > 0 {
			rep.TierX++
		}
		if len(mcp) > 0 {
			rep.MCP++
		}
		if len(llm) > 0 {
			rep.LLMSDK++
			rep.LLMRepos = append(rep.LLMRepos, r.Name)
			for _, k := range distinct(llm, func(m Match) string { return m.Ecosystem + ":" + m.SDK }) {
				bySDK[k]++
			}
			for _, k := range distinct(llm, func(m Match) string { return m.Tier }) {
				byTier[k]++
			}
			for _, k := range distinct(llm, func(m Match) string { return m.Ecosystem }) {
				byEco[k]++
			}
		}
		if r.CreatedAt.IsZero() {
			rep.CreatedUnknown++
			continue
		}
		y := years[r.CreatedAt.Year()]
		if y == nil {
			y = &YearGrowth{Year: r.CreatedAt.Year()}
			years[y.Year] = y
		}
		y.Created++
		if len(llm) > 0 {
			y.LLMSDK++
		}
	}
	rep.LLMSDKShare = share(rep.LLMSDK, rep.WithManifest)
	rep.BySDK = counts(bySDK, rep.WithManifest)
	rep.ByTier = counts(byTier, rep.WithManifest)
	rep.ByEcosystem = counts(byEco, rep.WithManifest)
	for _, y := range years {
		rep.Growth = append(rep.Growth, *y)
	}
	slices.SortFunc(rep.Growth, func(a, b YearGrowth) int { return a.Year - b.Year })
	for i := range rep.Growth {
		if i > 0 && rep.Growth[i-1].Year == rep.Growth[i].Year-1 && rep.Growth[i-1].LLMSDK > 0 {
			rep.Growth[i].YoY = float64(rep.Growth[i].LLMSDK)/float64(rep.Growth[i-1].LLMSDK) - 1
			rep.Growth[i].YoYKnown = true
		}
	}
	slices.Sort(rep.LLMRepos)
	return rep
}

func distinct(ms []Match, key func(Match) string) []string {
	var out []string
	for _, m := range ms {
		if k := key(m); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func counts(m map[string]int, total int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{Key: k, Repos: n, Share: share(n, total)})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if a.Repos != b.Repos {
			return b.Repos - a.Repos
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

func share(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// SetCreated fills CreatedAt from a name → time map (keys compared
// case-insensitively, full "owner/name" first, then the base name).
func SetCreated(repos []Repo, created map[string]time.Time) {
	lower := map[string]time.Time{}
	for k, v := range created {
		lower[strings.ToLower(k)] = v
	}
	for i := range repos {
		n := strings.ToLower(repos[i].Name)
		if t, ok := lower[n]; ok {
			repos[i].CreatedAt = t
			continue
		}
		if j := strings.LastIndexByte(n, '/'); j >= 0 {
			if t, ok := lower[n[j+1:]]; ok {
				repos[i].CreatedAt = t
			}
		}
	}
}

// Rows flattens r for table and CSV output and for storage.
func (r Report) Rows() []result.Row {
	variant := "direct dependencies"
	if r.Lockfiles {
		variant = "direct and lockfile dependencies"
	}
	uni := fmt.Sprintf("repositories with a manifest (N=%d), %s, tiers %s", r.WithManifest, variant, strings.Join(r.Tiers, "+"))
	rows := []result.Row{
		{Scope: "repos", Metric: "repos", Value: float64(r.Repos), Universe: "checkouts scanned"},
		{Scope: "repos", Metric: "repos_with_manifest", Value: float64(r.WithManifest), Universe: "checkouts scanned"},
		{Scope: "repos", Metric: "parse_errors", Value: float64(r.ParseErrors), Universe: "manifest files that did not parse"},
		{Scope: "repos", Metric: "repos_llm_sdk", Value: float64(r.LLMSDK), Universe: uni},
		{Scope: "repos", Metric: "llm_sdk_share", Value: r.LLMSDKShare, Universe: uni},
		{Scope: "repos", Metric: "repos_tier_x", Value: float64(r.TierX), Universe: "generic ML (torch, tensorflow, transformers, ...), not LLM SDK"},
		{Scope: "repos", Metric: "repos_mcp", Value: float64(r.MCP), Universe: "MCP SDK, not LLM SDK"},
	}
	for _, c := range r.ByTier {
		rows = append(rows, result.Row{Scope: "tier=" + c.Key, Metric: "repos_llm_sdk", Value: float64(c.Repos), Universe: uni})
	}
	for _, c := range r.ByEcosystem {
		rows = append(rows, result.Row{Scope: "ecosystem=" + c.Key, Metric: "repos_llm_sdk", Value: float64(c.Repos), Universe: uni})
	}
	for _, c := range r.BySDK {
		rows = append(rows, result.Row{Scope: "sdk=" + c.Key, Metric: "repos_llm_sdk", Value: float64(c.Repos), Universe: uni})
	}
	for _, g := range r.Growth {
		k := fmt.Sprintf("year=%d", g.Year)
		rows = append(rows,
			result.Row{Scope: "repos", Metric: "created", Field: "created_at", Key: k, Value: float64(g.Created)},
			result.Row{Scope: "repos", Metric: "created_llm_sdk", Field: "created_at", Key: k, Value: float64(g.LLMSDK)})
		if g.YoYKnown {
			rows = append(rows, result.Row{Scope: "repos", Metric: "created_llm_sdk_yoy", Field: "created_at", Key: k, Value: g.YoY, Universe: "new LLM-SDK repositories this year / last year − 1"})
		}
	}
	return rows
}
