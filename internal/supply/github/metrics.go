package github

import (
	"fmt"
	"slices"

	"github.com/aicensus/aicensus/internal/supply/result"
	"github.com/aicensus/aicensus/internal/supply/stats"
)

// Config selects the measures.
type Config struct {
	// MinStars is the star threshold (≥); 10 when 0.
	MinStars int64
	// StarSource names where Stars came from, for the report.
	StarSource string
	// TopP are the fractions of the top-p star shares; 0.01 and 0.1 when nil.
	TopP []float64
}

// Group counts one universe of repositories.
type Group struct {
	Repos         int        `json:"repos"`
	WithStars     int        `json:"with_stars"` // stars known
	AtLeast       int        `json:"at_least_min_stars"`
	ShareAtLeast  float64    `json:"share_at_least_min_stars"` // AtLeast / Repos
	StarsGini     float64    `json:"stars_gini"`
	StarsTopShare []TopShare `json:"stars_top_share"`
	StarsMedian   int64      `json:"stars_median"`
}

// TopShare is the share of all stars held by the top p fraction.
type TopShare struct {
	P     float64 `json:"p"`
	Share float64 `json:"share"`
}

// YearCount counts repositories by creation year.
type YearCount struct {
	Year       int `json:"year"`
	Repos      int `json:"repos"`
	AI         int `json:"ai_repos"`
	AIAtLeast  int `json:"ai_repos_at_least_min_stars"`
	AllAtLeast int `json:"repos_at_least_min_stars"`
}

// Report is the result of Compute.
type Report struct {
	StarSource      string      `json:"star_source"`
	MinStars        int64       `json:"min_stars"`
	Input           int         `json:"input_repos"`
	Forks           int         `json:"forks_excluded"`
	Archived        int         `json:"archived_included"`
	TopicsKnown     bool        `json:"topics_known"`
	WithTopics      int         `json:"repos_with_topics"`
	ClassifierTopic []string    `json:"classifier_topics"`
	Expanded        []Expansion `json:"expanded_topics,omitempty"`
	All             Group       `json:"all"`
	AI              Group       `json:"ai"`
	AIShare         float64     `json:"ai_share"` // AI repos / all non-fork repos
	ByYear          []YearCount `json:"by_year"`
	NoCreatedAt     int         `json:"created_at_missing"`
}

// Compute measures repos (forks excluded, archived kept, §1.2). When
// topicsKnown is false the AI group is empty and reported as unknown.
func Compute(repos []Repo, c *Classifier, topicsKnown bool, cfg Config) Report {
	if cfg.MinStars == 0 {
		cfg.MinStars = 10
	}
	if cfg.TopP == nil {
		cfg.TopP = []float64{0.01, 0.1}
	}
	r := Report{StarSource: cfg.StarSource, MinStars: cfg.MinStars, Input: len(repos), TopicsKnown: topicsKnown, ClassifierTopic: c.Topics()}
	var all, ai []int64
	years := map[int]*YearCount{}
	for _, x := range repos {
		if x.Fork {
			r.Forks++
			continue
		}
		if x.Archived {
			r.Archived++
		}
		if len(x.Topics) > 0 {
			r.WithTopics++
		}
		isAI := topicsKnown && c.IsAI(x.Topics)
		r.All.Repos++
		if isAI {
			r.AI.Repos++
		}
		if x.Stars >= 0 {
			all = append(all, x.Stars)
			if isAI {
				ai = append(ai, x.Stars)
			}
		}
		atLeast := x.Stars >= cfg.MinStars
		if x.CreatedAt.IsZero() {
			r.NoCreatedAt++
		} else {
			y := years[x.CreatedAt.Year()]
			if y == nil {
				y = &YearCount{Year: x.CreatedAt.Year()}
				years[y.Year] = y
			}
			y.Repos++
			if atLeast {
				y.AllAtLeast++
			}
			if isAI {
				y.AI++
				if atLeast {
					y.AIAtLeast++
				}
			}
		}
	}
	fill(&r.All, all, cfg)
	fill(&r.AI, ai, cfg)
	r.AIShare = ratio(r.AI.Repos, r.All.Repos)
	for _, y := range years {
		r.ByYear = append(r.ByYear, *y)
	}
	slices.SortFunc(r.ByYear, func(a, b YearCount) int { return a.Year - b.Year })
	return r
}

func fill(g *Group, stars []int64, cfg Config) {
	d := stats.New(stars)
	g.WithStars = d.N()
	g.AtLeast = d.N() - d.CountBelow(cfg.MinStars)
	g.ShareAtLeast = ratio(g.AtLeast, g.Repos)
	g.StarsGini = d.Gini()
	g.StarsMedian = d.Quantile(0.5)
	for _, p := range cfg.TopP {
		g.StarsTopShare = append(g.StarsTopShare, TopShare{p, d.TopShare(p)})
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Rows flattens r for table and CSV output and for storage.
func (r Report) Rows() []result.Row {
	field := "stars (" + r.StarSource + ")"
	k := fmt.Sprintf("min_stars=%d", r.MinStars)
	var rows []result.Row
	rows = append(rows,
		result.Row{Scope: "input", Metric: "repos", Value: float64(r.Input), Universe: "rows with a full name, de-duplicated"},
		result.Row{Scope: "input", Metric: "forks_excluded", Value: float64(r.Forks)},
		result.Row{Scope: "input", Metric: "archived_included", Value: float64(r.Archived)},
		result.Row{Scope: "input", Metric: "repos_with_topics", Value: float64(r.WithTopics)},
	)
	groups := []struct {
		scope string
		g     Group
		uni   string
	}{{"repos", r.All, fmt.Sprintf("non-fork repositories (N=%d)", r.All.Repos)}}
	if r.TopicsKnown {
		groups = append(groups, struct {
			scope string
			g     Group
			uni   string
		}{"ai_repos", r.AI, fmt.Sprintf("non-fork repositories with an AI topic, %d topics (N=%d)", len(r.ClassifierTopic), r.AI.Repos)})
		rows = append(rows, result.Row{Scope: "ai_repos", Metric: "ai_share", Value: r.AIShare, Universe: fmt.Sprintf("AI repos / non-fork repos (N=%d)", r.All.Repos)})
	} else {
		rows = append(rows, result.Row{Scope: "ai_repos", Metric: "ai_share_unknown", Value: 1, Universe: "the input has no topics column: AI classification not possible"})
	}
	for _, g := range groups {
		rows = append(rows,
			result.Row{Scope: g.scope, Metric: "repos", Value: float64(g.g.Repos), Universe: g.uni},
			result.Row{Scope: g.scope, Metric: "with_stars", Field: field, Value: float64(g.g.WithStars), Universe: g.uni},
			result.Row{Scope: g.scope, Metric: "at_least_min_stars", Field: field, Key: k, Value: float64(g.g.AtLeast), Universe: g.uni},
			result.Row{Scope: g.scope, Metric: "share_at_least_min_stars", Field: field, Key: k, Value: g.g.ShareAtLeast, Universe: g.uni},
			result.Row{Scope: g.scope, Metric: "stars_median", Field: field, Value: float64(g.g.StarsMedian), Universe: g.uni},
			result.Row{Scope: g.scope, Metric: "stars_gini", Field: field, Value: g.g.StarsGini, Universe: g.uni},
		)
		for _, t := range g.g.StarsTopShare {
			rows = append(rows, result.Row{Scope: g.scope, Metric: "stars_top_share", Field: field, Key: fmt.Sprintf("p=%g", t.P), Value: t.Share, Universe: g.uni})
		}
	}
	for _, y := range r.ByYear {
		key := fmt.Sprintf("year=%d", y.Year)
		rows = append(rows, result.Row{Scope: "repos", Metric: "created", Field: "created_at", Key: key, Value: float64(y.Repos)},
			result.Row{Scope: "repos", Metric: "created_at_least_min_stars", Field: "created_at", Key: key, Value: float64(y.AllAtLeast)})
		if r.TopicsKnown {
			rows = append(rows, result.Row{Scope: "ai_repos", Metric: "created", Field: "created_at", Key: key, Value: float64(y.AI)},
				result.Row{Scope: "ai_repos", Metric: "created_at_least_min_stars", Field: "created_at", Key: key, Value: float64(y.AIAtLeast)})
		}
	}
	for _, e := range r.Expanded {
		rows = append(rows, result.Row{Scope: "classifier", Metric: "expanded_topic", Key: e.Topic, Value: e.Ratio,
			Universe: fmt.Sprintf("%d of %d repositories with it carry a seed topic", e.With, e.Total)})
	}
	return rows
}
