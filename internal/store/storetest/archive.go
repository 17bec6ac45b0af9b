package storetest

import (
	"context"
	"fmt"
	"strings"

	"github.com/aicensus/aicensus/internal/store"
)

// ArchiveOptions shape a synthetic archive scan.
type ArchiveOptions struct {
	Pages         int     // number of pages; required
	Targets       int     // distinct targets the pages spread over (default Pages/10)
	Sources       int     // archive files (default 16)
	DetectionRate float64 // fraction of pages with detections (default 0.05)
}

// FillArchive creates a running archive scan whose pages, page detections,
// page evidence and (done) checkpoints are generated inside DuckDB, ready
// for store.FinalizeArchiveScan. 2% of pages are parse errors.
func FillArchive(ctx context.Context, s *store.Store, opts ArchiveOptions) (store.Scan, error) {
	if opts.Pages <= 0 {
		return store.Scan{}, fmt.Errorf("storetest fill archive: pages %d", opts.Pages)
	}
	if opts.Targets <= 0 {
		opts.Targets = max(1, opts.Pages/10)
	}
	if opts.Sources <= 0 {
		opts.Sources = 16
	}
	if opts.DetectionRate <= 0 {
		opts.DetectionRate = 0.05
	}
	sc, err := s.CreateScan(ctx, store.ScanSpec{Kind: store.KindWARC, Input: "storetest archive", Options: opts})
	if err != nil {
		return sc, fmt.Errorf("storetest fill archive: %w", err)
	}
	var techs []string
	for i, t := range Techs() {
		techs = append(techs, fmt.Sprintf("(%d, %s, %s::VARCHAR[], %t, %s, %t)", i, sqlString(t.Name),
			sqlList(t.Categories), t.OpenSource, sqlString(t.License), t.AI))
	}
	r := strings.NewReplacer(
		"$SCAN", fmt.Sprint(sc.ID), "$PAGES", fmt.Sprint(opts.Pages), "$TARGETS", fmt.Sprint(opts.Targets),
		"$SOURCES", fmt.Sprint(opts.Sources), "$RATE", fmt.Sprint(int(opts.DetectionRate*1_000_000)),
		"$TECHS", strings.Join(techs, ",\n"), "$NTECH", fmt.Sprint(len(techs)),
	)
	stmts := []string{
		`CREATE OR REPLACE TEMP TABLE st_tech (tk INTEGER, name VARCHAR, categories VARCHAR[], open_source BOOLEAN, license VARCHAR, ai BOOLEAN)`,
		`INSERT INTO st_tech VALUES $TECHS`,
		`INSERT INTO pages (pid, scan_id, target, domain, host, url, status, error, http_status, captured_at, source, ref)
		SELECT nextval('page_pid_seq'), $SCAN, target, target, 'www.' || target, 'https://www.' || target || '/p' || i,
			CASE WHEN hash(i) % 50 = 0 THEN 'parse-error' ELSE 'ok' END,
			CASE WHEN hash(i) % 50 = 0 THEN 'synthetic parse error' END,
			CASE WHEN hash(i) % 50 = 0 THEN NULL ELSE 200 END,
			make_timestamp(1761955200000000 + (hash(i, 1) % 31536000000000)::BIGINT),
			'src' || (i % $SOURCES) || '.warc.gz', 'src' || (i % $SOURCES) || '.warc.gz@' || (i // $SOURCES) * 1000
		FROM (SELECT i, 'd' || (hash(i, 2) % $TARGETS) || '.example' AS target FROM range($PAGES) t(i))`,
		`INSERT INTO page_detections (pid, scan_id, target, captured_at, pos, technology, version, categories, open_source,
			license, ai, confidence, evidence_class, classes, running)
		SELECT p.pid, $SCAN, p.target, p.captured_at, k::INTEGER, t.name,
			CASE WHEN hash(p.pid, k) % 3 = 0 THEN '1.' || (hash(p.pid, k) % 10) END,
			t.categories, t.open_source, t.license, t.ai, (50 + hash(p.pid, k, 1) % 51)::INTEGER,
			c.cls, [c.cls], c.cls IN ('self-hosted-app', 'page-embed', 'browser-api-call', 'header')
		FROM pages p, range(1 + (hash(p.pid, 9) % 2)::INTEGER) d(k),
			LATERAL (SELECT (['page-embed', 'csp', 'header', 'dns-verification'])[1 + (hash(p.pid, k, 2) % 4)::INTEGER] AS cls) c
		JOIN st_tech t ON t.tk = (hash(p.target) + k) % $NTECH
		WHERE p.scan_id = $SCAN AND p.status = 'ok' AND hash(p.pid, 3) % 1000000 < $RATE`,
		`INSERT INTO page_evidence (pid, scan_id, target, captured_at, technology, dpos, pos, signal, pattern, match,
			location, evidence_class, via)
		SELECT d.pid, $SCAN, d.target, d.captured_at, d.technology, d.pos, j::INTEGER, 'scriptSrc',
			lower(replace(d.technology, ' ', '')) || '\.com/' || j, lower(replace(d.technology, ' ', '')) || '.com/' || j,
			p.ref, d.evidence_class, 'static'
		FROM page_detections d JOIN pages p ON p.pid = d.pid, range(1 + (hash(d.pid, d.pos) % 2)::INTEGER) e(j)
		WHERE d.scan_id = $SCAN AND p.scan_id = $SCAN`,
		`INSERT INTO checkpoints (scan_id, source, next_offset, done, pages, counters, updated_at)
		SELECT $SCAN, source, max(pid) * 1000, true, count(*), '{"records": ' || count(*) || '}', now()::TIMESTAMP
		FROM pages WHERE scan_id = $SCAN GROUP BY source`,
		`DROP TABLE st_tech`,
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		return sc, fmt.Errorf("storetest fill archive: %w", err)
	}
	defer tx.Rollback()
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, r.Replace(q)); err != nil {
			return sc, fmt.Errorf("storetest fill archive: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return sc, fmt.Errorf("storetest fill archive: %w", err)
	}
	return sc, nil
}
