package report

import (
	"context"
	"fmt"
	"time"

	"github.com/aicensus/aicensus/internal/store"
)

// Companies describes the size of the companies behind the domains.
type Companies struct {
	// Available is false when no company data was imported.
	Available bool            `json:"available"`
	Sources   []CompanySource `json:"sources"`
	// Companies is the number of domains with company data.
	Companies int64 `json:"companies"`
	// Conflicts is the number of those whose sources disagree on the size.
	Conflicts int64 `json:"conflicts"`
	// Buckets are the size bucket labels, smallest first.
	Buckets []string `json:"buckets"`
	// Baseline is every OK domain of the scan.
	Baseline SizeRow `json:"baseline"`
	// Groups are: any AI, any open-source AI, any closed AI, then each AI
	// technology (in the order of Report.Technologies).
	Groups []SizeRow `json:"groups"`
}

// CompanySource is one imported company dataset.
type CompanySource struct {
	Source     string    `json:"source"`
	File       string    `json:"file,omitempty"`
	Rows       int64     `json:"rows"`
	ImportedAt time.Time `json:"imported_at"`
}

// SizeRow is the company-size distribution of one group of domains.
type SizeRow struct {
	Group string `json:"group"`
	// Kind is "baseline", "ai", "open", "closed" or "technology".
	Kind    string `json:"kind"`
	Domains int64  `json:"domains"` // OK domains in the group
	// Matched counts the group's domains with company data; MatchRate is
	// Matched / Domains.
	Matched   int64      `json:"matched"`
	MatchRate Proportion `json:"match_rate"`
	// Buckets holds, per size bucket (Companies.Buckets order), the
	// matched companies in it and their share of Matched.
	Buckets []BucketShare `json:"buckets"`
	// UpTo10 is the share of matched companies with 10 or fewer
	// employees (bucket 1-10), UpTo50 with 50 or fewer (1-10 and 11-50).
	UpTo10 Proportion `json:"up_to_10"`
	UpTo50 Proportion `json:"up_to_50"`
}

// BucketShare is one size bucket of a SizeRow.
type BucketShare struct {
	Bucket    string  `json:"bucket"`
	Companies int64   `json:"companies"`
	Share     float64 `json:"share"`
}

// companies fills Report.Companies.
func (q *querier) companies(ctx context.Context, r *Report) error {
	c := &r.Companies
	c.Sources, c.Groups = []CompanySource{}, []SizeRow{}
	for _, b := range store.SizeBuckets() {
		c.Buckets = append(c.Buckets, b.Label)
	}
	err := q.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE conflict) FROM companies`).Scan(&c.Companies, &c.Conflicts)
	if err != nil {
		return fmt.Errorf("companies: %w", err)
	}
	if c.Available = c.Companies > 0; !c.Available {
		return nil
	}
	if err := q.companySources(ctx, c); err != nil {
		return err
	}
	// Baseline: every OK domain; companies is the small side of the join.
	ok, okArgs := q.okDomainsSQL(q.scan)
	base := map[string]int64{}
	if err := q.bucketCounts(ctx, `SELECT 'baseline', c.size_bucket, count(*) FROM companies c SEMI JOIN (`+ok+`) r USING (domain) GROUP BY ALL`,
		okArgs, map[string]map[string]int64{"baseline": base}); err != nil {
		return err
	}
	c.Baseline = sizeRow("all OK domains", "baseline", r.Population.OKDomains, base, c.Buckets)
	// Groups, from the (small) AI detections.
	det, args := q.detSQL(q.scan, true)
	counts := map[string]map[string]int64{}
	domains := map[string]int64{}
	rows, err := q.db.QueryContext(ctx, `WITH det AS (`+det+`),
		g AS (
			SELECT 'technology:' || technology AS grp, domain FROM det GROUP BY ALL
			UNION ALL SELECT 'ai', domain FROM det GROUP BY domain
			UNION ALL SELECT 'open', domain FROM det WHERE open_source GROUP BY domain
			UNION ALL SELECT 'closed', domain FROM det WHERE NOT open_source GROUP BY domain)
		SELECT grp, coalesce(c.size_bucket, ''), count(*) FROM g LEFT JOIN companies c USING (domain) GROUP BY ALL`, args...)
	if err != nil {
		return fmt.Errorf("company sizes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var grp, bucket string
		var n int64
		if err := rows.Scan(&grp, &bucket, &n); err != nil {
			return fmt.Errorf("company sizes: %w", err)
		}
		domains[grp] += n
		if bucket != "" {
			if counts[grp] == nil {
				counts[grp] = map[string]int64{}
			}
			counts[grp][bucket] += n
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("company sizes: %w", err)
	}
	c.Groups = append(c.Groups,
		sizeRow("any AI", "ai", domains["ai"], counts["ai"], c.Buckets),
		sizeRow("any open-source AI", "open", domains["open"], counts["open"], c.Buckets),
		sizeRow("any closed AI", "closed", domains["closed"], counts["closed"], c.Buckets))
	for _, t := range r.Technologies {
		if k := "technology:" + t.Technology; t.AI && domains[k] > 0 {
			c.Groups = append(c.Groups, sizeRow(t.Technology, "technology", domains[k], counts[k], c.Buckets))
		}
	}
	return nil
}

func (q *querier) companySources(ctx context.Context, c *Companies) error {
	rows, err := q.db.QueryContext(ctx, `SELECT source, coalesce(file, ''), rows_stored, imported_at FROM company_imports
		WHERE id IN (SELECT max(id) FROM company_imports GROUP BY source)
			AND source IN (SELECT DISTINCT source FROM company_sources)
		ORDER BY id`)
	if err != nil {
		return fmt.Errorf("company sources: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s CompanySource
		if err := rows.Scan(&s.Source, &s.File, &s.Rows, &s.ImportedAt); err != nil {
			return fmt.Errorf("company sources: %w", err)
		}
		s.ImportedAt = s.ImportedAt.UTC()
		c.Sources = append(c.Sources, s)
	}
	return rows.Err()
}

// bucketCounts runs a (group, bucket, count) query into into[group][bucket].
func (q *querier) bucketCounts(ctx context.Context, query string, args []any, into map[string]map[string]int64) error {
	rows, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("company sizes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var grp, bucket string
		var n int64
		if err := rows.Scan(&grp, &bucket, &n); err != nil {
			return fmt.Errorf("company sizes: %w", err)
		}
		if into[grp] != nil {
			into[grp][bucket] += n
		}
	}
	return rows.Err()
}

// sizeRow builds a SizeRow from per-bucket counts of matched domains.
func sizeRow(group, kind string, domains int64, counts map[string]int64, buckets []string) SizeRow {
	row := SizeRow{Group: group, Kind: kind, Domains: domains, Buckets: []BucketShare{}}
	for _, b := range buckets {
		row.Matched += counts[b]
	}
	for _, b := range buckets {
		bs := BucketShare{Bucket: b, Companies: counts[b]}
		if row.Matched > 0 {
			bs.Share = float64(counts[b]) / float64(row.Matched)
		}
		row.Buckets = append(row.Buckets, bs)
	}
	row.MatchRate = NewProportion(row.Matched, domains)
	small := counts[buckets[0]]
	row.UpTo10 = NewProportion(small, row.Matched)
	row.UpTo50 = NewProportion(small+counts[buckets[1]], row.Matched)
	return row
}
