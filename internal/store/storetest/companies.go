package storetest

import (
	"context"
	"fmt"
	"strings"

	"github.com/aicensus/aicensus/internal/store"
)

// CompanyOptions shape a synthetic company dataset.
type CompanyOptions struct {
	Companies int    // number of companies; required
	Source    string // dataset name (default "storetest")
	// Offset shifts the sites the companies belong to: company i has the
	// domain of Fill's target site<Offset+i> (same TLD rule), so with
	// Offset 0 they cover the first Companies targets of a Fill scan.
	Offset int
}

// FillCompanies stores opts.Companies synthetic companies in
// company_sources and companies (generated in SQL), with domains that join
// Fill's targets. Sizes are skewed toward small companies: about 45% 1-10,
// 25% 11-50, 12% 51-200, and the rest spread over the larger buckets; every
// third company has an exact headcount. It replaces an earlier fill of the
// same source and rebuilds companies with ImportCompanies' rule.
func FillCompanies(ctx context.Context, s *store.Store, opts CompanyOptions) error {
	if opts.Companies <= 0 {
		return fmt.Errorf("storetest fill companies: companies %d", opts.Companies)
	}
	if opts.Source == "" {
		opts.Source = "storetest"
	}
	// An empty import registers the source and its import id; the rows are
	// then generated in SQL under that id and resolved by the store's rule.
	st, err := s.ImportCompanies(ctx, store.CompanyImport{Source: opts.Source, Format: "synthetic",
		Counters: map[string]int64{"rows": int64(opts.Companies)}}, func(func(store.Company, error) bool) {})
	if err != nil {
		return fmt.Errorf("storetest fill companies: %w", err)
	}
	var lows, spans, labels []string
	for _, b := range store.SizeBuckets() {
		lows = append(lows, fmt.Sprint(b.Min))
		hi := b.Max
		if hi == 0 {
			hi = 10 * b.Min // open bucket: up to ten times its lower bound
		}
		spans = append(spans, fmt.Sprint(hi-b.Min+1))
		labels = append(labels, sqlString(b.Label))
	}
	r := strings.NewReplacer("$ID", fmt.Sprint(st.ImportID), "$SRC", sqlString(opts.Source),
		"$N", fmt.Sprint(opts.Companies), "$OFF", fmt.Sprint(opts.Offset),
		"$LABELS", "["+strings.Join(labels, ", ")+"]", "$LOWS", "["+strings.Join(lows, ", ")+"]",
		"$SPANS", "["+strings.Join(spans, ", ")+"]")
	q := r.Replace(`INSERT INTO company_sources (import_id, source, domain, name, employees, size_bucket, size_min, line)
		SELECT $ID, $SRC, domain, 'Company ' || i, CASE WHEN i % 3 = 0 THEN ($LOWS)[b] + (hash(i, 8) % ($SPANS)[b])::BIGINT END,
			($LABELS)[b], ($LOWS)[b], i + 1
		FROM (
			SELECT i, 'site' || (i + $OFF) || '.' || (['com', 'org', 'net', 'de', 'co.uk'])[1 + (hash(i + $OFF, 3) % 5)::INTEGER] AS domain,
				CASE WHEN u < 45 THEN 1 WHEN u < 70 THEN 2 WHEN u < 82 THEN 3 WHEN u < 89 THEN 4
					WHEN u < 93 THEN 5 WHEN u < 97 THEN 6 WHEN u < 99 THEN 7 ELSE 8 END AS b
			FROM (SELECT i, (hash(i + $OFF, 7) % 100)::BIGINT AS u FROM range(1, $N + 1) t(i)))`)
	if _, err := s.DB().ExecContext(ctx, q); err != nil {
		return fmt.Errorf("storetest fill companies: %w", err)
	}
	if _, err := s.DB().ExecContext(ctx, `UPDATE company_imports SET rows_stored = ? WHERE id = ?`, opts.Companies, st.ImportID); err != nil {
		return fmt.Errorf("storetest fill companies: %w", err)
	}
	if err := s.ResolveCompanies(ctx); err != nil {
		return fmt.Errorf("storetest fill companies: %w", err)
	}
	return nil
}
