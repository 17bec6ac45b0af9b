package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aicensus/aicensus/internal/store"
)

// Compare is the change in adopters between two scans, counted over the
// domains that answered (status ok) in both, so a domain that failed in one
// scan is neither gained nor lost.
type Compare struct {
	Before ScanRef `json:"before"`
	After  ScanRef `json:"after"`
	// CommonOK is the number of domains OK in both scans.
	CommonOK int64       `json:"common_ok"`
	Rows     []ChangeRow `json:"rows"`
}

// ScanRef names a scan.
type ScanRef struct {
	ID        int64     `json:"id"`
	StartedAt time.Time `json:"started_at"`
	Input     string    `json:"input"`
}

// ChangeRow is one technology's change among domains OK in both scans.
type ChangeRow struct {
	Technology string `json:"technology"`
	Before     int64  `json:"before"` // domains with it in the first scan
	After      int64  `json:"after"`  // domains with it in the second scan
	Gained     int64  `json:"gained"` // in the second, not the first
	Lost       int64  `json:"lost"`   // in the first, not the second
	Net        int64  `json:"net"`    // Gained - Lost = After - Before
}

// compare fills Report.Compare for scans a (before) and b (after), AI
// technologies only, with the report's filter.
func (q *querier) compare(ctx context.Context, r *Report, a, b int64) error {
	if a <= 0 || b <= 0 {
		return fmt.Errorf("%w: compare needs two scan ids, got %d and %d", ErrBadOption, a, b)
	}
	c := &Compare{Rows: []ChangeRow{}}
	for _, x := range []struct {
		id  int64
		ref *ScanRef
	}{{a, &c.Before}, {b, &c.After}} {
		err := q.db.QueryRowContext(ctx, `SELECT id, started_at, input FROM scans WHERE id = ?`, x.id).Scan(&x.ref.ID, &x.ref.StartedAt, &x.ref.Input)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("compare: scan %d: %w", x.id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("compare: scan %d: %w", x.id, err)
		}
		x.ref.StartedAt = x.ref.StartedAt.UTC()
	}
	// Domains ok in both: one aggregate over both scans' ok results.
	common := `SELECT count(*) FROM (SELECT domain, min(scan_id) AS lo, max(scan_id) AS hi FROM results
		WHERE scan_id IN ($1, $2) AND status = 'ok' AND domain IS NOT NULL`
	cargs := []any{a, b}
	if q.f.Size != "" {
		common += ` AND domain IN (SELECT domain FROM companies WHERE size_bucket = $3)`
		cargs = append(cargs, q.f.Size)
	}
	if err := q.db.QueryRowContext(ctx, common+` GROUP BY domain) WHERE lo <> hi OR $1 = $2`, cargs...).Scan(&c.CommonOK); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	detA, dargsA := q.detSQL(a, true)
	detB, dargsB := q.detSQL(b, true)
	// Candidate domains come from the (small) detections; they are checked
	// against each scan's OK results with the candidates as the build side.
	query := `WITH a AS (SELECT DISTINCT technology, domain FROM (` + detA + `)),
		b AS (SELECT DISTINCT technology, domain FROM (` + detB + `)),
		cand AS (SELECT domain FROM a UNION SELECT domain FROM b),
		ok_a AS (SELECT DISTINCT c.domain FROM cand c JOIN results r ON r.domain = c.domain AND r.scan_id = ? AND r.status = 'ok'),
		ok_b AS (SELECT DISTINCT c.domain FROM cand c JOIN results r ON r.domain = c.domain AND r.scan_id = ? AND r.status = 'ok'),
		common AS (SELECT domain FROM ok_a INTERSECT SELECT domain FROM ok_b)
		SELECT coalesce(a.technology, b.technology) AS technology,
			count(a.domain), count(b.domain),
			count(*) FILTER (WHERE a.domain IS NULL), count(*) FILTER (WHERE b.domain IS NULL)
		FROM a FULL JOIN b ON a.technology = b.technology AND a.domain = b.domain
		WHERE coalesce(a.domain, b.domain) IN (SELECT domain FROM common)
		GROUP BY 1`
	args := append(append(dargsA, dargsB...), a, b)
	rows, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var x ChangeRow
		if err := rows.Scan(&x.Technology, &x.Before, &x.After, &x.Gained, &x.Lost); err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		x.Net = x.Gained - x.Lost
		c.Rows = append(c.Rows, x)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	slices.SortFunc(c.Rows, func(x, y ChangeRow) int {
		if d := (y.Gained + y.Lost) - (x.Gained + x.Lost); d != 0 {
			return int(d)
		}
		if x.After != y.After {
			return int(y.After - x.After)
		}
		return strings.Compare(x.Technology, y.Technology)
	})
	r.Compare = c
	return nil
}
