package report

import (
	"context"
	"fmt"
)

// OpenClosed compares open-source and closed AI technologies by domains.
type OpenClosed struct {
	// All counts every (selected) AI detection; Running only detections
	// with running evidence (no DNS-verification- or CSP-only ones).
	All     OpenClosedCounts `json:"all"`
	Running OpenClosedCounts `json:"running"`
	// Categories repeats both per catalog category of the technologies.
	Categories []CategoryOpenClosed `json:"categories"`
}

// CategoryOpenClosed is OpenClosed for one category.
type CategoryOpenClosed struct {
	Category string           `json:"category"`
	All      OpenClosedCounts `json:"all"`
	Running  OpenClosedCounts `json:"running"`
}

// OpenClosedCounts counts OK domains with AI. A domain with both an open and
// a closed technology counts in Open, in Closed and in Both.
type OpenClosedCounts struct {
	AIDomains  int64 `json:"ai_domains"`  // domains with any AI technology
	Open       int64 `json:"open"`        // ... with any open-source one
	Closed     int64 `json:"closed"`      // ... with any closed one
	Both       int64 `json:"both"`        // ... with both
	OpenOnly   int64 `json:"open_only"`   // Open - Both
	ClosedOnly int64 `json:"closed_only"` // Closed - Both
	// Ratio is Closed:Open formatted by Ratio ("34:1").
	Ratio string `json:"ratio"`
	// ClosedPerOpen is Closed / Open (0 when Open is 0).
	ClosedPerOpen float64 `json:"closed_per_open"`
	// OpenShare is Open / AIDomains with its Wilson interval.
	OpenShare Proportion `json:"open_share"`
}

func newOpenClosed(ai, open, closed, both int64) OpenClosedCounts {
	c := OpenClosedCounts{AIDomains: ai, Open: open, Closed: closed, Both: both,
		OpenOnly: open - both, ClosedOnly: closed - both, Ratio: Ratio(closed, open), OpenShare: NewProportion(open, ai)}
	if open > 0 {
		c.ClosedPerOpen = float64(closed) / float64(open)
	}
	return c
}

// openClosed fills Report.OpenClosed: one pass over the per-domain flags,
// grouped by category and overall (GROUPING SETS).
func (q *querier) openClosed(ctx context.Context, r *Report) error {
	det, args := q.detSQL(q.scan, true)
	rows, err := q.db.QueryContext(ctx, `WITH det AS (`+det+`),
		dc AS (SELECT domain, open_source, running, unnest(CASE WHEN len(categories) > 0 THEN categories ELSE [NULL] END) AS category FROM det),
		per AS (
			SELECT category, domain, grouping(category) AS g,
				bool_or(open_source) AS o, bool_or(NOT open_source) AS c,
				bool_or(open_source AND running) AS ro, bool_or(NOT open_source AND running) AS rc
			FROM dc GROUP BY GROUPING SETS ((category, domain), (domain)))
		SELECT category, g = 1 AS overall,
			count(*), count(*) FILTER (WHERE o), count(*) FILTER (WHERE c), count(*) FILTER (WHERE o AND c),
			count(*) FILTER (WHERE ro OR rc), count(*) FILTER (WHERE ro), count(*) FILTER (WHERE rc), count(*) FILTER (WHERE ro AND rc)
		FROM per GROUP BY category, g
		ORDER BY g DESC, 3 DESC, category`, args...)
	if err != nil {
		return fmt.Errorf("open vs closed: %w", err)
	}
	defer rows.Close()
	r.OpenClosed.Categories = []CategoryOpenClosed{}
	for rows.Next() {
		var cat *string
		var overall bool
		var n [8]int64
		if err := rows.Scan(&cat, &overall, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &n[6], &n[7]); err != nil {
			return fmt.Errorf("open vs closed: %w", err)
		}
		all, running := newOpenClosed(n[0], n[1], n[2], n[3]), newOpenClosed(n[4], n[5], n[6], n[7])
		switch {
		case overall:
			r.OpenClosed.All, r.OpenClosed.Running = all, running
		case cat != nil:
			r.OpenClosed.Categories = append(r.OpenClosed.Categories, CategoryOpenClosed{*cat, all, running})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("open vs closed: %w", err)
	}
	if r.OpenClosed.All.Ratio == "" {
		r.OpenClosed.All, r.OpenClosed.Running = newOpenClosed(0, 0, 0, 0), newOpenClosed(0, 0, 0, 0)
	}
	return nil
}
