package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

// Page is one archived response of an archive scan, with the detections
// found in it. FinalizeArchiveScan aggregates pages into results.
type Page struct {
	Target     string       // aggregation key: the registrable domain (or host) the page counts for
	Domain     string       // registrable domain
	Host       string       // host of URL
	URL        string       // captured URL
	HTTPStatus int          // captured HTTP status
	Status     model.Status // "" means ok; parse-error for records that could not be parsed
	Error      string
	Time       time.Time // capture time
	Ref        string    // the record, e.g. "file.warc.gz@1234 <urn:uuid:...>"
	Detections []model.Detection
}

// PageBatch is a run of records read from one archive source, stored in one
// transaction together with the source's checkpoint.
type PageBatch struct {
	ScanID int64
	Source string // the archive file as the scan names it
	// NextOffset is where reading resumes: the offset just after the last
	// record this batch covers.
	NextOffset int64
	Done       bool // the source has been read to its end
	Pages      []Page
	// Counters are increments for this source since its previous batch
	// (e.g. broken records by kind); they add up in the checkpoint.
	Counters map[string]int64
}

// Checkpoint is how far an archive source has been read and stored.
type Checkpoint struct {
	Source     string
	NextOffset int64
	Done       bool
	Pages      int64            // pages stored from this source
	Counters   map[string]int64 // summed batch counters; never nil
	UpdatedAt  time.Time
}

func validatePageBatch(b *PageBatch) error {
	switch {
	case b.ScanID <= 0:
		return fmt.Errorf("page batch %s: %w: scan id %d", b.Source, ErrInvalid, b.ScanID)
	case b.Source == "":
		return fmt.Errorf("page batch: %w: empty source", ErrInvalid)
	case b.NextOffset < 0:
		return fmt.Errorf("page batch %s: %w: offset %d", b.Source, ErrInvalid, b.NextOffset)
	}
	for i := range b.Pages {
		p := &b.Pages[i]
		if p.Target == "" {
			return fmt.Errorf("page batch %s: %w: page %q without target", b.Source, ErrInvalid, p.URL)
		}
		if p.Status != "" && !p.Status.Valid() {
			return fmt.Errorf("page batch %s: %w: status %q", b.Source, ErrInvalid, p.Status)
		}
		if err := validateDetections(p.Target, p.Detections); err != nil {
			return err
		}
	}
	return nil
}

// Checkpoints returns the checkpoint of every source of an archive scan,
// keyed by source. Resume skips sources that are Done and continues the
// others at NextOffset.
func (s *Store) Checkpoints(ctx context.Context, scanID int64) (map[string]Checkpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source, next_offset, done, pages, counters::VARCHAR, updated_at
		FROM checkpoints WHERE scan_id = ?`, scanID)
	if err != nil {
		return nil, fmt.Errorf("checkpoints of scan %d: %w", scanID, err)
	}
	defer rows.Close()
	out := map[string]Checkpoint{}
	for rows.Next() {
		var c Checkpoint
		var counters sql.NullString
		if err := rows.Scan(&c.Source, &c.NextOffset, &c.Done, &c.Pages, &counters, &c.UpdatedAt); err != nil {
			return nil, fmt.Errorf("checkpoints of scan %d: %w", scanID, err)
		}
		if c.Counters, err = parseCounters(counters); err != nil {
			return nil, fmt.Errorf("checkpoints of scan %d: %w", scanID, err)
		}
		c.UpdatedAt = c.UpdatedAt.UTC()
		out[c.Source] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checkpoints of scan %d: %w", scanID, err)
	}
	return out, nil
}

func parseCounters(raw sql.NullString) (map[string]int64, error) {
	c := map[string]int64{}
	if raw.Valid && raw.String != "" {
		if err := json.Unmarshal([]byte(raw.String), &c); err != nil {
			return nil, fmt.Errorf("counters: %w", err)
		}
	}
	return c, nil
}

// upsertCheckpoints writes one checkpoint per (scan, source) of the batch,
// on conn inside the batch's transaction.
func upsertCheckpoints(ctx context.Context, conn *sql.Conn, batches []*PageBatch) error {
	type key struct {
		scan   int64
		source string
	}
	merged := map[key]*Checkpoint{}
	var order []key
	for _, b := range batches {
		k := key{b.ScanID, b.Source}
		c, ok := merged[k]
		if !ok {
			c = &Checkpoint{Source: b.Source, Counters: map[string]int64{}}
			merged[k] = c
			order = append(order, k)
		}
		c.NextOffset = b.NextOffset
		c.Done = c.Done || b.Done
		c.Pages += int64(len(b.Pages))
		for n, v := range b.Counters {
			c.Counters[n] += v
		}
	}
	now := nowUTC()
	for _, k := range order {
		c := merged[k]
		var pages int64
		var counters sql.NullString
		err := conn.QueryRowContext(ctx, `SELECT pages, counters::VARCHAR FROM checkpoints WHERE scan_id = ? AND source = ?`,
			k.scan, k.source).Scan(&pages, &counters)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("checkpoint %s: %w", k.source, err)
		}
		old, err := parseCounters(counters)
		if err != nil {
			return fmt.Errorf("checkpoint %s: %w", k.source, err)
		}
		for n, v := range c.Counters {
			old[n] += v
		}
		cj, err := json.Marshal(old)
		if err != nil {
			return fmt.Errorf("checkpoint %s: %w", k.source, err)
		}
		_, err = conn.ExecContext(ctx, `INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?::JSON, ?)
			ON CONFLICT (scan_id, source) DO UPDATE SET next_offset = excluded.next_offset,
				done = excluded.done, pages = excluded.pages, counters = excluded.counters,
				updated_at = excluded.updated_at`,
			k.scan, k.source, c.NextOffset, c.Done, pages+c.Pages, string(cj), now)
		if err != nil {
			return fmt.Errorf("checkpoint %s: %w", k.source, err)
		}
	}
	return nil
}

// FinalizeStats says what FinalizeArchiveScan built.
type FinalizeStats struct {
	Pages      int64 // pages read
	Results    int64 // results rows built (one per target)
	Detections int64
	Evidence   int64
}

// FinalizeArchiveScan builds the per-target results, detections and
// evidence of an archive scan from its pages, inside DuckDB (memory is
// bounded by DuckDB's limit; large aggregates spill to disk), in one
// transaction. It replaces earlier results for the same targets, so running
// it again gives the same rows (with new rids). Call it after the Writer has
// flushed the scan's pages. It also sums the checkpoints' counters into the
// scan's counters and sets archives_read to the number of done sources.
//
// Per target: status ok when any page is ok (else the latest page's
// status), url/http_status of the latest ok page, pages = page count,
// first/last seen = capture time range, time = last seen. Per technology:
// the union over pages, max confidence, the most specific version (most dot
// components, then longest, then latest), strongest evidence class, running
// when any page's was. Evidence: one row per distinct (signal, pattern,
// class, via), from its earliest capture, with a location that names the
// record (the page's Ref).
func (s *Store) FinalizeArchiveScan(ctx context.Context, scanID int64) (FinalizeStats, error) {
	var st FinalizeStats
	if _, err := s.Scan(ctx, scanID); err != nil {
		return st, fmt.Errorf("finalize scan %d: %w", scanID, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return st, fmt.Errorf("finalize scan %d: %w", scanID, err)
	}
	defer tx.Rollback()
	for i, q := range finalizeSQL(scanID) {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return st, fmt.Errorf("finalize scan %d: step %d: %w", scanID, i+1, err)
		}
	}
	err = tx.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM pages WHERE scan_id = ?), (SELECT count(*) FROM fin_res),
		(SELECT count(*) FROM fin_det), (SELECT count(*) FROM fin_ev)`, scanID).
		Scan(&st.Pages, &st.Results, &st.Detections, &st.Evidence)
	if err != nil {
		return st, fmt.Errorf("finalize scan %d: %w", scanID, err)
	}
	if err := finalizeCounters(ctx, tx, scanID); err != nil {
		return st, fmt.Errorf("finalize scan %d: %w", scanID, err)
	}
	for _, t := range []string{"fin_ord", "fin_res", "fin_det", "fin_ev"} {
		if _, err := tx.ExecContext(ctx, `DROP TABLE `+t); err != nil {
			return st, fmt.Errorf("finalize scan %d: %w", scanID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return st, fmt.Errorf("finalize scan %d: %w", scanID, err)
	}
	return st, nil
}

// classRankSQL is the SQL list of evidence classes, strongest first.
func classRankSQL() string {
	var b strings.Builder
	b.WriteString("[")
	for i, c := range model.EvidenceClasses() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "'%s'", c)
	}
	b.WriteString("]")
	return b.String()
}

// finalizeSQL returns the statements that rebuild a scan's results from its
// pages. The scan id is an integer formatted into the text.
func finalizeSQL(scanID int64) []string {
	r := strings.NewReplacer("$SCAN", fmt.Sprint(scanID), "$RANKS", classRankSQL())
	stmts := []string{
		// ord ranks the scan's pages by capture time, then by the record
		// they come from, so that ties between captures of the same second
		// do not depend on the order workers delivered them in (pid).
		`CREATE OR REPLACE TEMP TABLE fin_ord AS
		SELECT pid, row_number() OVER (ORDER BY captured_at NULLS FIRST, source, ref NULLS FIRST, url NULLS FIRST, pid)::HUGEINT AS ord
		FROM pages WHERE scan_id = $SCAN`,
		// One row per target, with its rid. k orders a target's pages (one
		// HUGEINT: faster than a STRUCT key); ok pages rank above all
		// others for url and http_status.
		`CREATE OR REPLACE TEMP TABLE fin_res AS
		SELECT nextval('result_rid_seq') AS rid, * FROM (
			SELECT target,
				min(domain) AS domain,
				CASE WHEN bool_or(status = 'ok') THEN 'ok' ELSE arg_max(status, k) END AS status,
				CASE WHEN bool_or(status = 'ok') THEN NULL ELSE arg_max(error, k) END AS error,
				arg_max(url, k + ((status = 'ok')::HUGEINT << 120)) AS url,
				arg_max(http_status, k + ((status = 'ok')::HUGEINT << 120)) AS http_status,
				count(*) AS pages, min(captured_at) AS first_seen, max(captured_at) AS last_seen
			FROM (SELECT p.*, o.ord AS k FROM pages p JOIN fin_ord o USING (pid) WHERE p.scan_id = $SCAN)
			GROUP BY target ORDER BY target)`,
		// Evidence: one row per distinct (signal, pattern, class, via) of a
		// target's technology, from its earliest capture. The Writer stored
		// locations that name the record.
		`CREATE OR REPLACE TEMP TABLE fin_ev AS
		SELECT target, technology, signal, pattern, evidence_class, via,
			coalesce(list_position($RANKS, evidence_class), 99) AS rank,
			arg_min(match, k) AS match, arg_min(location, k) AS location
		FROM (SELECT e.*, (o.ord << 16) + e.pos AS k
			FROM page_evidence e JOIN fin_ord o USING (pid) WHERE e.scan_id = $SCAN)
		GROUP BY ALL`,
		// Detections: the union over pages, with rid, pos and classes. The
		// catalog fields come from the technology's latest page.
		`CREATE OR REPLACE TEMP TABLE fin_det AS
		WITH agg AS (
			SELECT target, technology,
				arg_max(version, (least(len(string_split(version, '.')), 63)::HUGEINT << 120)
					+ (least(length(version), 255)::HUGEINT << 112) + k) AS version,
				max(k) AS latest,
				max(confidence) AS confidence,
				min(coalesce(list_position($RANKS, evidence_class), 99)) AS rank,
				bool_or(running) AS running
			FROM (SELECT d.*, o.ord AS k
				FROM page_detections d JOIN fin_ord o USING (pid) WHERE d.scan_id = $SCAN)
			GROUP BY target, technology),
		cat AS (
			SELECT o.ord AS latest, d.technology, d.categories, d.open_source, d.license, d.ai
			FROM page_detections d JOIN fin_ord o USING (pid) WHERE d.scan_id = $SCAN),
		cls AS (
			SELECT target, technology, list(evidence_class ORDER BY rank) AS classes
			FROM (SELECT DISTINCT target, technology, evidence_class, rank FROM fin_ev WHERE evidence_class IS NOT NULL)
			GROUP BY target, technology)
		SELECT r.rid, r.domain, r.status, a.target, a.technology, a.version, c.categories, c.open_source,
			c.license, c.ai, a.confidence, a.rank, a.running, cls.classes,
			(row_number() OVER (PARTITION BY a.target ORDER BY a.rank, a.technology) - 1)::INTEGER AS pos,
			CASE WHEN a.rank < 99 THEN $RANKS[a.rank] END AS evidence_class
		FROM agg a JOIN fin_res r USING (target) JOIN cat c USING (latest, technology) LEFT JOIN cls USING (target, technology)`,
		// Replace earlier results of these targets.
		`DELETE FROM evidence WHERE scan_id = $SCAN AND target IN (SELECT target FROM fin_res)`,
		`DELETE FROM detections WHERE scan_id = $SCAN AND target IN (SELECT target FROM fin_res)`,
		`DELETE FROM results WHERE scan_id = $SCAN AND target IN (SELECT target FROM fin_res)`,
		`INSERT INTO results (rid, scan_id, target, domain, status, error, url, http_status, pages,
			first_seen, last_seen, time, n_detections)
		SELECT r.rid, $SCAN, r.target, r.domain, r.status, r.error, r.url, r.http_status, r.pages,
			r.first_seen, r.last_seen, r.last_seen, coalesce(c.n, 0)
		FROM fin_res r LEFT JOIN (SELECT target, count(*) AS n FROM fin_det GROUP BY target) c USING (target)
		ORDER BY r.rid`,
		`INSERT INTO detections (rid, scan_id, target, domain, status, pos, technology, version, categories,
			open_source, license, ai, confidence, evidence_class, classes, running)
		SELECT rid, $SCAN, target, domain, status, pos, technology, version, categories,
			open_source, license, ai, confidence, evidence_class, classes, running
		FROM fin_det ORDER BY rid, pos`,
		`INSERT INTO evidence (rid, scan_id, target, technology, dpos, pos, signal, pattern, match, location, evidence_class, via)
		SELECT d.rid, $SCAN, e.target, e.technology, d.pos,
			(row_number() OVER (PARTITION BY e.target, e.technology
				ORDER BY e.rank, e.signal, e.pattern, e.via, e.match, e.location) - 1)::INTEGER,
			e.signal, e.pattern, e.match, e.location, e.evidence_class, e.via
		FROM fin_ev e JOIN fin_det d USING (target, technology)
		ORDER BY d.rid, d.pos`,
	}
	for i, q := range stmts {
		stmts[i] = r.Replace(q)
	}
	return stmts
}

// finalizeCounters sums the checkpoints' counters into the scan's counters
// (replacing those keys) and sets archives_read.
func finalizeCounters(ctx context.Context, tx *sql.Tx, scanID int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT counters::VARCHAR FROM checkpoints WHERE scan_id = ?`, scanID)
	if err != nil {
		return err
	}
	sum := map[string]int64{}
	for rows.Next() {
		var raw sql.NullString
		if err := rows.Scan(&raw); err != nil {
			rows.Close()
			return err
		}
		c, err := parseCounters(raw)
		if err != nil {
			rows.Close()
			return err
		}
		for k, v := range c {
			sum[k] += v
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	var raw sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT counters::VARCHAR FROM scans WHERE id = ?`, scanID).Scan(&raw); err != nil {
		return err
	}
	c, err := parseCounters(raw)
	if err != nil {
		return err
	}
	for k, v := range sum {
		c[k] = v
	}
	if err := setCounters(ctx, tx, scanID, c); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE scans SET archives_read =
		(SELECT count(*) FROM checkpoints WHERE scan_id = ? AND done) WHERE id = ?`, scanID, scanID)
	return err
}
