package report

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/aicensus/aicensus/internal/store"
)

// DomainQuery selects the domains of one technology in a scan, a page at a
// time, with the report's filter (Filter.Technology is required).
type DomainQuery struct {
	ScanID int64 // 0: the latest scan
	Filter Filter
	Offset int
	Limit  int // default 100, at most 1000
}

// DomainPage is one page of domains with a technology, by domain name.
type DomainPage struct {
	ScanID     int64       `json:"scan_id"`
	Technology string      `json:"technology"`
	Total      int64       `json:"total"` // domains matching, all pages
	Offset     int         `json:"offset"`
	Limit      int         `json:"limit"`
	Domains    []DomainRow `json:"domains"`
}

// DomainRow is one domain with its detections of the technology (one per
// target) and their evidence.
type DomainRow struct {
	Domain  string       `json:"domain"`
	Company *CompanyInfo `json:"company,omitempty"`
	Targets []TargetHit  `json:"targets"`
}

// CompanyInfo is a domain's company data.
type CompanyInfo struct {
	Name      string `json:"name,omitempty"`
	Bucket    string `json:"size_bucket"`
	Employees int64  `json:"employees,omitempty"`
	Source    string `json:"source"`
}

// TargetHit is the technology's detection on one target of the domain.
type TargetHit struct {
	Target        string        `json:"target"`
	URL           string        `json:"url,omitempty"`
	Version       string        `json:"version,omitempty"`
	EvidenceClass string        `json:"evidence_class"`
	Running       bool          `json:"running"`
	Evidence      []EvidenceRow `json:"evidence"`
}

// EvidenceRow is one stored piece of evidence.
type EvidenceRow struct {
	Signal   string `json:"signal"`
	Pattern  string `json:"pattern,omitempty"`
	Match    string `json:"match,omitempty"`
	Location string `json:"location,omitempty"`
	Class    string `json:"evidence_class"`
	Via      string `json:"via,omitempty"`
}

// Domains returns one page of the domains where the filter's technology was
// detected (status ok), with evidence and company data.
func Domains(ctx context.Context, s *store.Store, dq DomainQuery) (*DomainPage, error) {
	if dq.Filter.Technology == "" {
		return nil, fmt.Errorf("%w: domains need a technology", ErrBadFilter)
	}
	if err := dq.Filter.Validate(); err != nil {
		return nil, err
	}
	if dq.Limit <= 0 {
		dq.Limit = 100
	}
	dq.Limit, dq.Offset = min(dq.Limit, 1000), max(dq.Offset, 0)
	sc, err := pickScan(ctx, s, dq.ScanID)
	if err != nil {
		return nil, err
	}
	q := &querier{db: s.DB(), scan: sc.ID, f: dq.Filter}
	page := &DomainPage{ScanID: sc.ID, Technology: dq.Filter.Technology, Offset: dq.Offset, Limit: dq.Limit, Domains: []DomainRow{}}
	det, args := q.detColsSQL(sc.ID, false, `rid, pos, target, domain, version, evidence_class, running`)
	if err := q.db.QueryRowContext(ctx, `SELECT count(DISTINCT domain) FROM (`+det+`)`, args...).Scan(&page.Total); err != nil {
		return nil, fmt.Errorf("domains: %w", err)
	}
	rows, err := q.db.QueryContext(ctx, `WITH d AS (`+det+`),
		page AS (SELECT domain FROM d GROUP BY domain ORDER BY domain LIMIT ? OFFSET ?)
		SELECT d.domain, d.target, coalesce(r.url, ''), coalesce(d.version, ''), coalesce(d.evidence_class, ''), d.running,
			e.signal, e.pattern, e.match, e.location, e.evidence_class, e.via,
			c.name, c.size_bucket, c.employees, c.source
		FROM d JOIN page USING (domain)
		LEFT JOIN results r ON r.rid = d.rid AND r.scan_id = ?
		LEFT JOIN evidence e ON e.rid = d.rid AND e.dpos = d.pos AND e.scan_id = ?
		LEFT JOIN companies c ON c.domain = d.domain
		ORDER BY d.domain, d.target, e.pos`, append(args, dq.Limit, dq.Offset, sc.ID, sc.ID)...)
	if err != nil {
		return nil, fmt.Errorf("domains: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var domain string
		var hit TargetHit
		var sig, pat, match, loc, cls, via, name, bucket, source sql.NullString
		var emp sql.NullInt64
		if err := rows.Scan(&domain, &hit.Target, &hit.URL, &hit.Version, &hit.EvidenceClass, &hit.Running,
			&sig, &pat, &match, &loc, &cls, &via, &name, &bucket, &emp, &source); err != nil {
			return nil, fmt.Errorf("domains: %w", err)
		}
		n := len(page.Domains)
		if n == 0 || page.Domains[n-1].Domain != domain {
			row := DomainRow{Domain: domain, Targets: []TargetHit{}}
			if bucket.Valid {
				row.Company = &CompanyInfo{Name: name.String, Bucket: bucket.String, Employees: emp.Int64, Source: source.String}
			}
			page.Domains = append(page.Domains, row)
			n++
		}
		row := &page.Domains[n-1]
		if k := len(row.Targets); k == 0 || row.Targets[k-1].Target != hit.Target {
			hit.Evidence = []EvidenceRow{}
			row.Targets = append(row.Targets, hit)
		}
		if sig.Valid {
			t := &row.Targets[len(row.Targets)-1]
			t.Evidence = append(t.Evidence, EvidenceRow{sig.String, pat.String, match.String, loc.String, cls.String, via.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("domains: %w", err)
	}
	return page, nil
}

// Categories returns the categories of the AI technologies detected on OK
// results of a scan (0: the latest), for filter menus.
func Categories(ctx context.Context, s *store.Store, scanID int64) ([]string, error) {
	sc, err := pickScan(ctx, s, scanID)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB().QueryContext(ctx, `SELECT DISTINCT unnest(categories) AS c FROM detections
		WHERE scan_id = ? AND status = 'ok' AND ai ORDER BY c`, sc.ID)
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var c sql.NullString
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("categories: %w", err)
		}
		if c.Valid {
			out = append(out, c.String)
		}
	}
	return out, rows.Err()
}
