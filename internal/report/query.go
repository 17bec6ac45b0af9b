package report

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/aicensus/aicensus/internal/model"
)

// querier runs the report's SQL for one scan and filter.
type querier struct {
	db   *sql.DB
	scan int64
	f    Filter
}

// detSQL returns the filtered detections of a scan as a subquery: ok
// results only, with a domain, AI only when ai is set. Columns: domain,
// technology, version, categories, open_source, license, ai,
// evidence_class, running.
func (q *querier) detSQL(scan int64, ai bool) (string, []any) {
	return q.detColsSQL(scan, ai, `domain, technology, version, categories, open_source, license, ai, evidence_class, running`)
}

// detColsSQL is detSQL with the given select list.
func (q *querier) detColsSQL(scan int64, ai bool, cols string) (string, []any) {
	var b strings.Builder
	args := []any{scan}
	b.WriteString(`SELECT ` + cols + ` FROM detections WHERE scan_id = ? AND status = 'ok' AND domain IS NOT NULL`)
	if ai {
		b.WriteString(` AND ai`)
	}
	f := q.f
	if f.Category != "" {
		b.WriteString(` AND list_contains(categories, ?)`)
		args = append(args, f.Category)
	}
	switch f.Open {
	case "open":
		b.WriteString(` AND open_source`)
	case "closed":
		b.WriteString(` AND NOT open_source`)
	}
	switch {
	case f.Evidence == EvidenceRunning:
		b.WriteString(` AND running`)
	case f.Evidence != "":
		b.WriteString(` AND list_contains(classes, ?)`)
		args = append(args, f.Evidence)
	}
	if f.Technology != "" {
		b.WriteString(` AND technology = ?`)
		args = append(args, f.Technology)
	}
	if f.Size != "" {
		b.WriteString(` AND domain IN (SELECT domain FROM companies WHERE size_bucket = ?)`)
		args = append(args, f.Size)
	}
	return b.String(), args
}

// okDomainsSQL returns the domains of a scan's ok results (restricted to a
// company size with Filter.Size) as a subquery with one column, domain. A
// domain with several ok targets appears once per target: use it on the
// right of a SEMI JOIN or deduplicate.
func (q *querier) okDomainsSQL(scan int64) (string, []any) {
	s := `SELECT domain FROM results WHERE scan_id = ? AND status = 'ok' AND domain IS NOT NULL`
	args := []any{scan}
	if q.f.Size != "" {
		s += ` AND domain IN (SELECT domain FROM companies WHERE size_bucket = ?)`
		args = append(args, q.f.Size)
	}
	return s, args
}

// classRankSQL is a SQL list literal of the evidence classes, strongest
// first: list_position(<it>, class) is the class's 1-based rank.
func classRankSQL() string {
	var cs []string
	for _, c := range model.EvidenceClasses() {
		cs = append(cs, "'"+string(c)+"'")
	}
	return "[" + strings.Join(cs, ", ") + "]"
}

// population computes the denominators and the AI totals.
func (q *querier) population(ctx context.Context, r *Report) error {
	p := &r.Population
	var err error
	p.Domains, p.OKDomains, err = q.domainCounts(ctx)
	if err != nil {
		return fmt.Errorf("population: %w", err)
	}
	det, args := q.detSQL(q.scan, true)
	var ai, running int64
	err = q.db.QueryRowContext(ctx, `SELECT count(DISTINCT domain), count(DISTINCT domain) FILTER (WHERE running) FROM (`+det+`)`,
		args...).Scan(&ai, &running)
	if err != nil {
		return fmt.Errorf("ai domains: %w", err)
	}
	p.AI, p.AIRunning = NewProportion(ai, p.OKDomains), NewProportion(running, p.OKDomains)
	// AI detections on results that are not ok, on domains with no ok
	// AI detection: reported, never counted.
	err = q.db.QueryRowContext(ctx, `SELECT count(DISTINCT domain) FROM detections
		WHERE scan_id = ? AND status <> 'ok' AND ai AND domain IS NOT NULL
			AND domain NOT IN (SELECT domain FROM detections WHERE scan_id = ? AND status = 'ok' AND ai AND domain IS NOT NULL)`,
		q.scan, q.scan).Scan(&p.ExcludedAIDomains)
	if err != nil {
		return fmt.Errorf("excluded ai domains: %w", err)
	}
	return nil
}

// domainCounts returns the distinct domains of the scan's results (any
// status, and ok) without hashing every domain. Results are unique per
// (scan, target) (the Writer and FinalizeArchiveScan guarantee it,
// docs/store.md), so the rows whose domain is their own target (A) have
// distinct domains; only the few others (O: subdomain targets such as
// chat.example.com) are grouped, and M are the O domains that are also an A
// target:
//
//	domains = |A| + |O| - |M|
//	ok      = |A ok| + |O with an ok row| - |M where both the A row and an O row are ok|
func (q *querier) domainCounts(ctx context.Context) (domains, ok int64, err error) {
	cond, args := "", []any{q.scan}
	if q.f.Size != "" {
		cond, args = ` AND domain IN (SELECT domain FROM companies WHERE size_bucket = $2)`, append(args, q.f.Size)
	}
	var a, aOK, o, oOK, m, mOK int64
	err = q.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'ok')
		FROM results WHERE scan_id = $1 AND domain = target`+cond, args...).Scan(&a, &aOK)
	if err != nil {
		return 0, 0, err
	}
	err = q.db.QueryRowContext(ctx, `WITH o AS (
			SELECT domain, bool_or(status = 'ok') AS ok FROM results
			WHERE scan_id = $1 AND domain IS NOT NULL AND domain <> target`+cond+` GROUP BY domain),
		m AS (SELECT o.ok AND r.status = 'ok' AS both_ok FROM o JOIN results r
			ON r.target = o.domain AND r.domain = r.target AND r.scan_id = $1)
		SELECT (SELECT count(*) FROM o), (SELECT count(*) FILTER (WHERE ok) FROM o),
			(SELECT count(*) FROM m), (SELECT count(*) FILTER (WHERE both_ok) FROM m)`, args...).Scan(&o, &oOK, &m, &mOK)
	if err != nil {
		return 0, 0, err
	}
	return a + o - m, aOK + oOK - mOK, nil
}

// technologies fills the per-technology rows.
func (q *querier) technologies(ctx context.Context, r *Report, all bool) error {
	det, args := q.detSQL(q.scan, !all)
	rows, err := q.db.QueryContext(ctx, `WITH det AS (`+det+`),
		meta AS (SELECT technology, any_value(categories) AS categories, bool_or(open_source) AS open_source,
			any_value(license) AS license, bool_or(ai) AS ai FROM det GROUP BY technology),
		per AS (SELECT technology, domain, bool_or(running) AS running,
			min(list_position(`+classRankSQL()+`, evidence_class)) AS rank FROM det GROUP BY technology, domain)
		SELECT p.technology, m.categories, m.open_source, coalesce(m.license, ''), m.ai, coalesce(p.rank, 0),
			count(*), count(*) FILTER (WHERE p.running)
		FROM per p JOIN meta m USING (technology) GROUP BY ALL`, args...)
	if err != nil {
		return fmt.Errorf("technologies: %w", err)
	}
	defer rows.Close()
	byName := map[string]*TechRow{}
	classes := model.EvidenceClasses()
	for rows.Next() {
		var t TechRow
		var cats []any
		var rank, n, running int64
		if err := rows.Scan(&t.Technology, &cats, &t.OpenSource, &t.License, &t.AI, &rank, &n, &running); err != nil {
			return fmt.Errorf("technologies: %w", err)
		}
		row, ok := byName[t.Technology]
		if !ok {
			t.Categories = strs(cats)
			row = &t
			byName[t.Technology] = row
		}
		row.Domains += n
		row.Running += running
		cls := "unknown"
		if rank >= 1 && int(rank) <= len(classes) {
			cls = string(classes[rank-1])
		}
		row.ByClass = append(row.ByClass, ClassCount{cls, n})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("technologies: %w", err)
	}
	if err := q.versions(ctx, det, args, byName); err != nil {
		return err
	}
	r.Technologies = []TechRow{}
	for _, t := range byName {
		slices.SortFunc(t.ByClass, func(a, b ClassCount) int {
			return model.EvidenceClass(a.Class).Rank() - model.EvidenceClass(b.Class).Rank()
		})
		t.Share = NewProportion(t.Domains, r.Population.OKDomains)
		t.RunningShare = NewProportion(t.Running, r.Population.OKDomains)
		if t.Versions == nil {
			t.Versions = []VersionCount{}
		}
		r.Technologies = append(r.Technologies, *t)
	}
	slices.SortFunc(r.Technologies, func(a, b TechRow) int {
		if a.Domains != b.Domains {
			return int(b.Domains - a.Domains)
		}
		return strings.Compare(a.Technology, b.Technology)
	})
	return nil
}

// versions fills TechRow.Versions.
func (q *querier) versions(ctx context.Context, det string, args []any, byName map[string]*TechRow) error {
	rows, err := q.db.QueryContext(ctx, `SELECT technology, coalesce(version, ''), count(DISTINCT domain) AS n
		FROM (`+det+`) GROUP BY ALL ORDER BY technology, n DESC, 2`, args...)
	if err != nil {
		return fmt.Errorf("versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tech string
		var v VersionCount
		if err := rows.Scan(&tech, &v.Version, &v.Domains); err != nil {
			return fmt.Errorf("versions: %w", err)
		}
		if t := byName[tech]; t != nil {
			t.Versions = append(t.Versions, v)
		}
	}
	return rows.Err()
}

// strs converts a scanned DuckDB VARCHAR[] to strings.
func strs(v []any) []string {
	out := make([]string, 0, len(v))
	for _, x := range v {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
