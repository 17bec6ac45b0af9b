package store

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

// Format is an export format.
type Format string

// The export formats.
const (
	// FormatJSONL writes one model.Result per line, detections and their
	// evidence nested, with the model's JSON field names.
	FormatJSONL Format = "jsonl"
	// FormatParquet writes one row per result with the same fields as
	// FormatJSONL, detections as LIST<STRUCT> with a nested evidence list.
	FormatParquet Format = "parquet"
	// FormatCSV writes one row per (target, technology), and one row with
	// empty technology columns for a target without detections.
	FormatCSV Format = "csv"
)

// Formats lists the export formats.
func Formats() []Format { return []Format{FormatJSONL, FormatParquet, FormatCSV} }

// ParseFormat checks an export format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("export format %q: %w: want jsonl, parquet or csv", s, ErrInvalid)
}

// resultsSQL selects a scan's results in rid (write) order with their
// detections and evidence nested, named as in model.Result's JSON.
const resultsSQL = `WITH ev AS (
	SELECT rid, dpos, list({'signal': signal, 'pattern': coalesce(pattern, ''), 'match': coalesce(match, ''),
		'location': coalesce(location, ''), 'evidence_class': coalesce(evidence_class, ''), 'via': via} ORDER BY pos) AS evidence
	FROM evidence WHERE scan_id = $SCAN GROUP BY rid, dpos),
det AS (
	SELECT d.rid, list({'technology': d.technology, 'version': coalesce(d.version, ''),
		'categories': coalesce(d.categories, []), 'open_source': d.open_source,
		'license': coalesce(d.license, ''), 'ai': d.ai, 'confidence': d.confidence,
		'evidence_class': coalesce(d.evidence_class, ''), 'evidence': coalesce(ev.evidence, [])} ORDER BY d.pos) AS detections
	FROM detections d LEFT JOIN ev ON ev.rid = d.rid AND ev.dpos = d.pos
	WHERE d.scan_id = $SCAN GROUP BY d.rid)
SELECT r.scan_id, r.target, r.input, r.line, r.domain, r.status, r.error, r.url, r.http_status,
	r.redirects, r.pages, r.first_seen, r.last_seen, r.time, r.duration_ms, r.dns,
	coalesce(det.detections, []) AS detections
FROM results r LEFT JOIN det USING (rid)
WHERE r.scan_id = $SCAN
ORDER BY r.rid`

// csvSQL selects one row per (target, technology) with the key columns.
const csvSQL = `SELECT r.scan_id, r.line, r.target, r.domain, r.status, r.http_status,
	d.technology, d.version, array_to_string(d.categories, ';') AS categories, d.open_source,
	d.license, d.ai, d.confidence, d.evidence_class, d.running
FROM results r LEFT JOIN detections d ON d.rid = r.rid
WHERE r.scan_id = $SCAN
ORDER BY r.rid, d.pos`

func withScan(q string, scanID int64) string {
	return strings.ReplaceAll(q, "$SCAN", fmt.Sprint(scanID))
}

// Results calls fn with every result of the scan, in write order, with its
// detections and evidence, streaming from DuckDB. Detections and Evidence
// are non-nil (empty when none). fn owns each Result; an error from fn
// stops the iteration and is returned.
func (s *Store) Results(ctx context.Context, scanID int64, fn func(model.Result) error) error {
	rows, err := s.db.QueryContext(ctx, withScan(resultsSQL, scanID))
	if err != nil {
		return fmt.Errorf("results of scan %d: %w", scanID, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanResult(rows)
		if err != nil {
			return fmt.Errorf("results of scan %d: %w", scanID, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("results of scan %d: %w", scanID, err)
	}
	return nil
}

func scanResult(rows *sql.Rows) (model.Result, error) {
	var r model.Result
	var input, domain, errText, url sql.NullString
	var line, httpStatus, pages, duration sql.NullInt64
	var first, last, at sql.NullTime
	var status string
	var redirects, dns, dets any
	err := rows.Scan(&r.ScanID, &r.Target, &input, &line, &domain, &status, &errText, &url, &httpStatus,
		&redirects, &pages, &first, &last, &at, &duration, &dns, &dets)
	if err != nil {
		return r, err
	}
	r.Input, r.Domain, r.Error, r.URL = input.String, domain.String, errText.String, url.String
	r.Status = model.Status(status)
	r.Line, r.HTTPStatus, r.Pages, r.DurationMS = int(line.Int64), int(httpStatus.Int64), int(pages.Int64), duration.Int64
	r.FirstSeen, r.LastSeen, r.Time = utcOrZero(first), utcOrZero(last), utcOrZero(at)
	r.Redirects = stringList(redirects)
	for _, v := range anyList(dns) {
		m, _ := v.(map[string]any)
		r.DNS = append(r.DNS, model.DNSRecord{Name: str(m["name"]), Type: str(m["type"]), Value: str(m["value"])})
	}
	r.Detections = []model.Detection{}
	for _, v := range anyList(dets) {
		m, _ := v.(map[string]any)
		d := model.Detection{
			Technology: str(m["technology"]), Version: str(m["version"]),
			Categories: stringList(m["categories"]), OpenSource: m["open_source"] == true,
			License: str(m["license"]), AI: m["ai"] == true, Confidence: int(toInt(m["confidence"])),
			EvidenceClass: model.EvidenceClass(str(m["evidence_class"])), Evidence: []model.Evidence{},
		}
		if d.Categories == nil {
			d.Categories = []string{}
		}
		for _, ev := range anyList(m["evidence"]) {
			e, _ := ev.(map[string]any)
			d.Evidence = append(d.Evidence, model.Evidence{
				Signal: str(e["signal"]), Pattern: str(e["pattern"]), Match: str(e["match"]),
				Location: str(e["location"]), Class: model.EvidenceClass(str(e["evidence_class"])), Via: str(e["via"]),
			})
		}
		r.Detections = append(r.Detections, d)
	}
	return r, nil
}

func utcOrZero(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}

func stringList(v any) []string {
	l := anyList(v)
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = str(x)
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int32:
		return int64(n)
	case int64:
		return n
	case int16:
		return int64(n)
	case int8:
		return int64(n)
	case int:
		return int64(n)
	}
	return 0
}

// Export writes the scan in format f to w and returns the number of records
// written (results for jsonl and parquet, rows for csv). JSON Lines stream
// directly; parquet and csv are written by DuckDB's COPY to a temporary
// file that is then copied to w (it needs temporary disk space of the
// output's size). Use ExportFile to write a file without the copy.
func (s *Store) Export(ctx context.Context, scanID int64, f Format, w io.Writer) (int64, error) {
	if f == FormatJSONL {
		return s.exportJSONL(ctx, scanID, w)
	}
	tmp, err := os.CreateTemp("", "aicensus-export-*."+string(f))
	if err != nil {
		return 0, fmt.Errorf("export scan %d: %w", scanID, err)
	}
	name := tmp.Name()
	tmp.Close()
	defer os.Remove(name)
	n, err := s.ExportFile(ctx, scanID, f, name)
	if err != nil {
		return n, err
	}
	in, err := os.Open(name)
	if err != nil {
		return n, fmt.Errorf("export scan %d: %w", scanID, err)
	}
	defer in.Close()
	if _, err := io.Copy(w, in); err != nil {
		return n, fmt.Errorf("export scan %d: %w", scanID, err)
	}
	return n, nil
}

// ExportFile writes the scan in format f to the file at path (replacing
// it) and returns the number of records written, as Export.
func (s *Store) ExportFile(ctx context.Context, scanID int64, f Format, path string) (int64, error) {
	if _, err := s.Scan(ctx, scanID); err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	switch f {
	case FormatJSONL:
		out, err := os.Create(path)
		if err != nil {
			return 0, fmt.Errorf("export scan %d: %w", scanID, err)
		}
		n, err := s.exportJSONL(ctx, scanID, out)
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("export scan %d: %w", scanID, cerr)
		}
		return n, err
	case FormatParquet:
		return s.copyTo(ctx, scanID, resultsSQL, path, "FORMAT parquet, COMPRESSION zstd")
	case FormatCSV:
		return s.copyTo(ctx, scanID, csvSQL, path, "FORMAT csv, HEADER true")
	}
	return 0, fmt.Errorf("export scan %d: %w: format %q", scanID, ErrInvalid, f)
}

func (s *Store) copyTo(ctx context.Context, scanID int64, query, path, opts string) (int64, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, fmt.Errorf("export scan %d: %w", scanID, err)
	}
	q := fmt.Sprintf("COPY (%s) TO '%s' (%s)", withScan(query, scanID), strings.ReplaceAll(abs, "'", "''"), opts)
	res, err := s.db.ExecContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("export scan %d to %s: %w", scanID, path, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (s *Store) exportJSONL(ctx context.Context, scanID int64, w io.Writer) (int64, error) {
	if _, err := s.Scan(ctx, scanID); err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var n int64
	err := s.Results(ctx, scanID, func(r model.Result) error {
		n++
		return enc.Encode(r)
	})
	if err != nil {
		return n, fmt.Errorf("export scan %d: %w", scanID, err)
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("export scan %d: %w", scanID, err)
	}
	return n, nil
}
