package storetest

import (
	"context"
	"fmt"
	"strings"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/store"
)

// Options shape the synthetic scan. The zero value (with Results set) gives
// a live scan where 72% of targets are ok and 1% have detections.
type Options struct {
	Results       int     // number of results (targets); required
	DetectionRate float64 // fraction of results that have detections (default 0.01)
	Kind          string  // scan kind (default store.KindLive)
	Input         string  // scan input description (default "storetest")
}

// Tech is one synthetic technology.
type Tech struct {
	Name       string
	Categories []string
	OpenSource bool
	License    string
	AI         bool
}

// Techs returns the technologies Fill draws from (the first ones are AI).
func Techs() []Tech {
	return []Tech{
		{"OpenAI", []string{"AI API"}, false, "proprietary", true},
		{"Anthropic", []string{"AI API"}, false, "proprietary", true},
		{"Intercom Fin", []string{"AI chatbot"}, false, "proprietary", true},
		{"Zendesk AI", []string{"AI chatbot"}, false, "proprietary", true},
		{"Drift", []string{"AI chatbot"}, false, "proprietary", true},
		{"Botpress", []string{"AI chatbot", "Bot framework"}, true, "MIT", true},
		{"Rasa", []string{"Bot framework"}, true, "Apache-2.0", true},
		{"Open WebUI", []string{"AI chat UI"}, true, "BSD-3-Clause", true},
		{"Ollama", []string{"LLM server"}, true, "MIT", true},
		{"vLLM", []string{"LLM server"}, true, "Apache-2.0", true},
		{"LibreChat", []string{"AI chat UI"}, true, "MIT", true},
		{"Flowise", []string{"LLM app builder"}, true, "Apache-2.0", true},
		{"Dify", []string{"LLM app builder"}, true, "Apache-2.0", true},
		{"Voiceflow", []string{"AI chatbot"}, false, "proprietary", true},
		{"Tidio Lyro", []string{"AI chatbot"}, false, "proprietary", true},
		{"Google Analytics", []string{"Analytics"}, false, "proprietary", false},
		{"WordPress", []string{"CMS"}, true, "GPL-2.0-or-later", false},
		{"Cloudflare", []string{"CDN"}, false, "proprietary", false},
	}
}

// failures are the non-ok statuses Fill uses, with the ok share at 72%.
var failureStatuses = []model.Status{
	model.StatusDNSNXDomain, model.StatusDNSNXDomain, model.StatusDNSTimeout, model.StatusConnectRefused,
	model.StatusConnectTimeout, model.StatusTLSError, model.StatusTimeout, model.StatusHTTPError,
	model.StatusHTTPError, model.StatusDNSNoAddress, model.StatusRobotsDisallowed, model.StatusInvalidInput,
}

// Fill creates a scan (state done) and fills it with opts.Results synthetic
// results with detections and evidence, and returns the scan. Targets are
// "site<i>.<tld>" with i in [1, Results]; line = i.
func Fill(ctx context.Context, s *store.Store, opts Options) (store.Scan, error) {
	if opts.Results <= 0 {
		return store.Scan{}, fmt.Errorf("storetest fill: results %d", opts.Results)
	}
	if opts.DetectionRate <= 0 {
		opts.DetectionRate = 0.01
	}
	if opts.Kind == "" {
		opts.Kind = store.KindLive
	}
	if opts.Input == "" {
		opts.Input = "storetest"
	}
	sc, err := s.CreateScan(ctx, store.ScanSpec{Kind: opts.Kind, Input: opts.Input, Options: opts})
	if err != nil {
		return sc, fmt.Errorf("storetest fill: %w", err)
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		return sc, fmt.Errorf("storetest fill: %w", err)
	}
	defer tx.Rollback()
	for _, q := range fillSQL(sc.ID, opts) {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return sc, fmt.Errorf("storetest fill: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return sc, fmt.Errorf("storetest fill: %w", err)
	}
	if err := s.SetScanState(ctx, sc.ID, store.ScanDone); err != nil {
		return sc, fmt.Errorf("storetest fill: %w", err)
	}
	return s.Scan(ctx, sc.ID)
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func sqlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = sqlString(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func fillSQL(scanID int64, opts Options) []string {
	var techs []string
	for i, t := range Techs() {
		techs = append(techs, fmt.Sprintf("(%d, %s, %s::VARCHAR[], %t, %s, %t)", i, sqlString(t.Name),
			sqlList(t.Categories), t.OpenSource, sqlString(t.License), t.AI))
	}
	var fails []string
	for _, f := range failureStatuses {
		fails = append(fails, string(f))
	}
	var classes []string
	for _, c := range model.EvidenceClasses() {
		classes = append(classes, string(c))
	}
	r := strings.NewReplacer(
		"$SCAN", fmt.Sprint(scanID),
		"$COUNT", fmt.Sprint(opts.Results),
		"$RATE", fmt.Sprint(int(opts.DetectionRate*1_000_000)),
		"$TECHS", strings.Join(techs, ",\n"),
		"$NTECH", fmt.Sprint(len(techs)),
		"$FAILS", sqlList(fails),
		"$NFAIL", fmt.Sprint(len(fails)),
		"$CLASSES", sqlList(classes),
	)
	stmts := []string{
		`CREATE OR REPLACE TEMP TABLE st_tech (tk INTEGER, name VARCHAR, categories VARCHAR[], open_source BOOLEAN, license VARCHAR, ai BOOLEAN)`,
		`INSERT INTO st_tech VALUES $TECHS`,
		// Results: hash(i) drives status; hash(i, 1) whether there are detections.
		`INSERT INTO results (rid, scan_id, target, input, line, domain, status, error, url, http_status,
			redirects, pages, first_seen, last_seen, time, duration_ms, dns, n_detections)
		SELECT nextval('result_rid_seq'), $SCAN, target, NULL, i, target, status,
			CASE WHEN status <> 'ok' THEN 'synthetic failure' END,
			CASE WHEN status = 'ok' THEN 'https://' || target || '/' END,
			CASE WHEN status = 'ok' THEN 200 END,
			CASE WHEN status = 'ok' AND i % 100 = 0 THEN ['http://' || target || '/', 'https://' || target || '/'] END,
			NULL, NULL, NULL, make_timestamp(1793491200000000 + i * 1000), (i % 3000)::BIGINT, NULL,
			CASE WHEN status = 'ok' AND hash(i, 1) % 1000000 < $RATE THEN 1 + (hash(i, 2) % 3)::INTEGER ELSE 0 END
		FROM (
			SELECT i, 'site' || i || '.' || (['com', 'org', 'net', 'de', 'co.uk'])[1 + (hash(i, 3) % 5)::INTEGER] AS target,
				CASE WHEN hash(i) % 100 < 72 THEN 'ok' ELSE ($FAILS)[1 + (hash(i, 4) % $NFAIL)::INTEGER] END AS status
			FROM range(1, $COUNT + 1) t(i))`,
		// Detections: n_detections distinct technologies per result.
		`INSERT INTO detections (rid, scan_id, target, domain, status, pos, technology, version, categories,
			open_source, license, ai, confidence, evidence_class, classes, running)
		SELECT r.rid, $SCAN, r.target, r.domain, r.status, k::INTEGER, t.name,
			CASE WHEN hash(r.rid, k) % 3 = 0 THEN '1.' || (hash(r.rid, k) % 10) END,
			t.categories, t.open_source, t.license, t.ai, (50 + hash(r.rid, k, 1) % 51)::INTEGER,
			cls.c, [cls.c], cls.c IN ('self-hosted-app', 'page-embed', 'browser-api-call', 'header')
		FROM results r, range(r.n_detections) d(k),
			LATERAL (SELECT ($CLASSES)[1 + (hash(r.rid, k, 2) % 6)::INTEGER] AS c) cls
		JOIN st_tech t ON t.tk = (hash(r.rid) + k) % $NTECH
		WHERE r.scan_id = $SCAN AND r.n_detections > 0`,
		// Evidence: one or two rows per detection.
		`INSERT INTO evidence (rid, scan_id, target, technology, dpos, pos, signal, pattern, match, location, evidence_class, via)
		SELECT d.rid, $SCAN, d.target, d.technology, d.pos, j::INTEGER,
			CASE d.evidence_class WHEN 'csp' THEN 'csp' WHEN 'dns-verification' THEN 'dns' WHEN 'header' THEN 'headers' ELSE 'scriptSrc' END,
			lower(replace(d.technology, ' ', '')) || '\.com', lower(replace(d.technology, ' ', '')) || '.com',
			'https://' || d.target || '/', d.evidence_class, 'static'
		FROM detections d, range(1 + (hash(d.rid, d.pos) % 2)::INTEGER) e(j)
		WHERE d.scan_id = $SCAN`,
		`DROP TABLE st_tech`,
	}
	for i, q := range stmts {
		stmts[i] = r.Replace(q)
	}
	return stmts
}
