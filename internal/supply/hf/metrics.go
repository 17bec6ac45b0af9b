package hf

import (
	"fmt"
	"slices"
	"time"

	"github.com/aicensus/aicensus/internal/supply/stats"
)

// PlaceholderCreatedAt is the createdAt the Hub gives every repository older
// than its creation-date tracking (2022-03-02T23:29:04.000Z); it is not an
// upload date and is excluded from time series.
var PlaceholderCreatedAt = time.Date(2022, 3, 2, 23, 29, 4, 0, time.UTC).Unix()

// Config selects the measures. The zero value means the defaults of
// DefaultConfig.
type Config struct {
	// Below are the thresholds k of the share below (strict x < k).
	Below []int64
	// TopP are the fractions p of the top-p shares (0.0001 = top 0.01%).
	TopP []float64
	// LorenzPoints is the number of Lorenz intervals emitted (≤ N).
	LorenzPoints int
	// ExcludeDisabled drops models flagged disabled (a variant universe).
	ExcludeDisabled bool
}

// DefaultConfig returns the §2.4 defaults: k = 1 (zero downloads), 10, 200,
// 1000; p = 0.01% and 1%; 10 Lorenz intervals (deciles).
func DefaultConfig() Config {
	return Config{Below: []int64{1, 10, 200, 1000}, TopP: []float64{0.0001, 0.01}, LorenzPoints: 10}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if len(c.Below) == 0 {
		c.Below = d.Below
	}
	if len(c.TopP) == 0 {
		c.TopP = d.TopP
	}
	if c.LorenzPoints <= 0 {
		c.LorenzPoints = d.LorenzPoints
	}
	return c
}

// Report is the result of Compute. JSON names are the metric names.
type Report struct {
	Universe             string         `json:"universe"`
	Models               int            `json:"models"`
	Disabled             int            `json:"disabled"`
	DisabledExcluded     bool           `json:"disabled_excluded"`
	Authors              int            `json:"authors"`
	Fields               []FieldStats   `json:"fields"`
	AuthorFields         []FieldStats   `json:"author_fields"`
	CreatedAtSource      string         `json:"created_at_source,omitempty"`
	CreatedAtMissing     int            `json:"created_at_missing"`
	CreatedAtPlaceholder int            `json:"created_at_placeholder"`
	UploadsPerQuarter    []QuarterCount `json:"uploads_per_quarter"`
}

// FieldStats are the concentration measures of one count field over a
// universe of items (models, or authors with their models' sum).
type FieldStats struct {
	Field       string        `json:"field"`
	SourceField string        `json:"source_field"`
	Meaning     string        `json:"meaning"`
	Universe    string        `json:"universe"`
	Items       int           `json:"items"`
	Missing     int           `json:"missing"`
	Total       float64       `json:"total"`
	Median      int64         `json:"median"`
	Max         int64         `json:"max"`
	ShareBelow  []BelowShare  `json:"share_below"`
	TopShare    []TopShare    `json:"top_share"`
	Gini        float64       `json:"gini"`
	HHI         float64       `json:"hhi"`
	Lorenz      []stats.Point `json:"lorenz"`
}

// BelowShare is B(k): Count items with x < Below, Share = Count / Items.
type BelowShare struct {
	Below int64   `json:"below"`
	Count int     `json:"count"`
	Share float64 `json:"share"`
}

// TopShare is S(p): the Items = ⌈p·N⌉ largest hold Share of the total.
type TopShare struct {
	P     float64 `json:"p"`
	Items int     `json:"items"`
	Share float64 `json:"share"`
}

// QuarterCount counts models created in a quarter ("2024Q1"), a lower bound
// since deleted and private repositories are gone; NewAuthors counts authors
// whose first dated model falls in the quarter, ActiveAuthors those who
// created at least one model in it.
type QuarterCount struct {
	Quarter       string `json:"quarter"`
	Models        int    `json:"models"`
	ActiveAuthors int    `json:"active_authors"`
	NewAuthors    int    `json:"new_authors"`
}

// meanings documents the count fields.
var meanings = map[string]string{
	FieldDownloads:        "downloads over the last 30 days (Hub API `downloads`)",
	FieldDownloadsAllTime: "cumulative downloads since creation (Hub API `downloadsAllTime`)",
	FieldLikes:            "likes",
}

// Compute measures m. It does not modify m.
func Compute(m *Models, cfg Config) Report {
	cfg = cfg.withDefaults()
	keep := make([]bool, m.Len())
	r := Report{Universe: "all models in the input", DisabledExcluded: cfg.ExcludeDisabled}
	for i := range keep {
		keep[i] = true
		if m.Disabled[i] {
			r.Disabled++
			if cfg.ExcludeDisabled {
				keep[i] = false
			}
		}
	}
	if cfg.ExcludeDisabled {
		r.Universe = "models in the input, disabled excluded"
	}
	authorIdx, nAuthors := authorIndex(m, keep)
	r.Authors = nAuthors
	for _, f := range []string{FieldDownloadsAllTime, FieldDownloads, FieldLikes} {
		src, ok := m.Sources[f]
		if !ok {
			continue
		}
		col := m.column(f)
		r.Fields = append(r.Fields, fieldStats(f, src, "models", col, keep, nil, 0, cfg))
		r.AuthorFields = append(r.AuthorFields, fieldStats(f, src, "authors", col, keep, authorIdx, nAuthors, cfg))
	}
	for _, k := range keep {
		if k {
			r.Models++
		}
	}
	r.CreatedAtSource = m.Sources[FieldCreatedAt]
	r.UploadsPerQuarter, r.CreatedAtMissing, r.CreatedAtPlaceholder = quarters(m, keep, authorIdx, nAuthors)
	return r
}

func (m *Models) column(f string) []int64 {
	switch f {
	case FieldDownloads:
		return m.Downloads
	case FieldDownloadsAllTime:
		return m.DownloadsAllTime
	default:
		return m.Likes
	}
}

// authorIndex numbers the distinct authors of kept rows; rows not kept get -1.
func authorIndex(m *Models, keep []bool) ([]int32, int) {
	idx := make([]int32, m.Len())
	ids := map[string]int32{}
	for i, a := range m.Author {
		if !keep[i] {
			idx[i] = -1
			continue
		}
		j, ok := ids[a]
		if !ok {
			j = int32(len(ids))
			ids[a] = j
		}
		idx[i] = j
	}
	return idx, len(ids)
}

// fieldStats measures one column. With authorIdx nil the items are the kept
// rows with a value; otherwise the items are authors and each author's value
// is the sum over its kept rows with a value (authors with no value at all
// are missing).
func fieldStats(field, src, unit string, col []int64, keep []bool, authorIdx []int32, nAuthors int, cfg Config) FieldStats {
	var vals []int64
	missing := 0
	if authorIdx == nil {
		vals = make([]int64, 0, len(col))
		for i, v := range col {
			switch {
			case !keep[i]:
			case v < 0:
				missing++
			default:
				vals = append(vals, v)
			}
		}
	} else {
		sums := make([]int64, nAuthors)
		seen := make([]bool, nAuthors)
		for i, v := range col {
			if a := authorIdx[i]; a >= 0 && v >= 0 {
				sums[a] += v
				seen[a] = true
			}
		}
		vals = sums[:0]
		for a, ok := range seen {
			if ok {
				vals = append(vals, sums[a])
			} else {
				missing++
			}
		}
	}
	d := stats.New(vals)
	fs := FieldStats{
		Field: field, SourceField: src, Meaning: meanings[field],
		Universe: fmt.Sprintf("%s with %s present (N=%d)", unit, field, d.N()),
		Items:    d.N(), Missing: missing, Total: d.Total(), Median: d.Quantile(0.5), Max: d.Max(),
		Gini: d.Gini(), HHI: d.HHI(), Lorenz: d.Lorenz(cfg.LorenzPoints),
	}
	if unit == "authors" {
		fs.Universe = fmt.Sprintf("authors, sum of %s over their models (N=%d)", field, d.N())
	}
	for _, k := range cfg.Below {
		fs.ShareBelow = append(fs.ShareBelow, BelowShare{Below: k, Count: d.CountBelow(k), Share: d.ShareBelow(k)})
	}
	for _, p := range cfg.TopP {
		fs.TopShare = append(fs.TopShare, TopShare{P: p, Items: d.TopCount(p), Share: d.TopShare(p)})
	}
	return fs
}

// quarters counts uploads per calendar quarter (UTC), excluding missing and
// placeholder dates, with active and new authors per quarter.
func quarters(m *Models, keep []bool, authorIdx []int32, nAuthors int) (out []QuarterCount, missing, placeholder int) {
	type qa struct{ q, a int32 }
	models := map[int32]int{}
	active := map[qa]struct{}{}
	firstQ := make([]int32, nAuthors)
	for i := range firstQ {
		firstQ[i] = -1
	}
	for i, c := range m.CreatedAt {
		if !keep[i] {
			continue
		}
		switch {
		case c < 0:
			missing++
			continue
		case c == PlaceholderCreatedAt:
			placeholder++
			continue
		}
		t := time.Unix(c, 0).UTC()
		q := int32(t.Year()*4 + int(t.Month()-1)/3)
		models[q]++
		a := authorIdx[i]
		active[qa{q, a}] = struct{}{}
		if firstQ[a] < 0 || q < firstQ[a] {
			firstQ[a] = q
		}
	}
	activeN := map[int32]int{}
	for k := range active {
		activeN[k.q]++
	}
	newN := map[int32]int{}
	for _, q := range firstQ {
		if q >= 0 {
			newN[q]++
		}
	}
	qs := make([]int32, 0, len(models))
	for q := range models {
		qs = append(qs, q)
	}
	slices.Sort(qs)
	for _, q := range qs {
		out = append(out, QuarterCount{Quarter: fmt.Sprintf("%dQ%d", q/4, q%4+1), Models: models[q], ActiveAuthors: activeN[q], NewAuthors: newN[q]})
	}
	return out, missing, placeholder
}
