package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

// Scan kinds written by aicensus; Kind is free text, these are the known ones.
const (
	KindLive = "live" // live HTTP/DNS scan of an input list
	KindWARC = "warc" // scan of web archive files
)

// ScanState is the lifecycle state of a scan.
type ScanState string

// The scan states.
const (
	ScanRunning     ScanState = "running"     // started and not finished (or killed: resumable)
	ScanDone        ScanState = "done"        // every input was handled
	ScanInterrupted ScanState = "interrupted" // stopped early on purpose (Ctrl-C); resumable
)

// ScanSpec describes a scan to create.
type ScanSpec struct {
	Kind           string // KindLive, KindWARC, ...
	Input          string // human description of the input: file path, archive list
	Options        any    // scan options, stored as JSON (nil: none)
	CatalogVersion string
	ToolVersion    string
	// Fingerprint identifies "the same scan" for resume. Empty means
	// Fingerprint(Kind, Input, json(Options)).
	Fingerprint string
}

// Scan is one row of the scans table.
type Scan struct {
	ID             int64
	Kind           string
	State          ScanState
	StartedAt      time.Time // UTC
	FinishedAt     time.Time // UTC, zero while running
	Input          string
	Fingerprint    string
	Options        json.RawMessage // as stored; nil when none
	CatalogVersion string
	ToolVersion    string
	ArchivesRead   int64
	Counters       map[string]int64 // never nil
}

// Fingerprint returns the default resume identity of a scan: a hex SHA-256
// over kind, input and the options JSON.
func Fingerprint(kind, input string, options []byte) string {
	h := sha256.New()
	for _, p := range [][]byte{[]byte(kind), []byte(input), options} {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// CreateScan records a new running scan and returns it.
func (s *Store) CreateScan(ctx context.Context, spec ScanSpec) (Scan, error) {
	if spec.Kind == "" {
		return Scan{}, fmt.Errorf("create scan: %w: empty kind", ErrInvalid)
	}
	var opts []byte
	if spec.Options != nil {
		b, err := json.Marshal(spec.Options)
		if err != nil {
			return Scan{}, fmt.Errorf("create scan: options: %w", err)
		}
		opts = b
	}
	fp := spec.Fingerprint
	if fp == "" {
		fp = Fingerprint(spec.Kind, spec.Input, opts)
	}
	var id int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO scans
		(id, kind, state, started_at, input, fingerprint, options, catalog_version, tool_version, counters)
		VALUES (nextval('scan_id_seq'), ?, ?, ?, ?, ?, ?::JSON, ?, ?, '{}'::JSON) RETURNING id`,
		spec.Kind, string(ScanRunning), nowUTC(), spec.Input, fp, nullBytes(opts),
		nullStr(spec.CatalogVersion), nullStr(spec.ToolVersion)).Scan(&id)
	if err != nil {
		return Scan{}, fmt.Errorf("create scan: %w", err)
	}
	return s.Scan(ctx, id)
}

const scanColumns = `id, kind, state, started_at, finished_at, input, fingerprint, options::VARCHAR,
	catalog_version, tool_version, archives_read, counters::VARCHAR`

func scanScan(row interface{ Scan(...any) error }) (Scan, error) {
	var sc Scan
	var state string
	var finished sql.NullTime
	var opts, catalog, tool, counters sql.NullString
	err := row.Scan(&sc.ID, &sc.Kind, &state, &sc.StartedAt, &finished, &sc.Input, &sc.Fingerprint,
		&opts, &catalog, &tool, &sc.ArchivesRead, &counters)
	if err != nil {
		return Scan{}, err
	}
	sc.State = ScanState(state)
	sc.StartedAt = sc.StartedAt.UTC()
	if finished.Valid {
		sc.FinishedAt = finished.Time.UTC()
	}
	if opts.Valid {
		sc.Options = json.RawMessage(opts.String)
	}
	sc.CatalogVersion, sc.ToolVersion = catalog.String, tool.String
	sc.Counters = map[string]int64{}
	if counters.Valid && counters.String != "" {
		if err := json.Unmarshal([]byte(counters.String), &sc.Counters); err != nil {
			return Scan{}, fmt.Errorf("scan %d counters: %w", sc.ID, err)
		}
	}
	return sc, nil
}

// Scan returns the scan with the given id, or an error wrapping ErrNotFound.
func (s *Store) Scan(ctx context.Context, id int64) (Scan, error) {
	sc, err := scanScan(s.db.QueryRowContext(ctx, `SELECT `+scanColumns+` FROM scans WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Scan{}, fmt.Errorf("scan %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Scan{}, fmt.Errorf("scan %d: %w", id, err)
	}
	return sc, nil
}

// LatestScan returns the scan with the highest id, or an error wrapping
// ErrNotFound when the store has none.
func (s *Store) LatestScan(ctx context.Context) (Scan, error) {
	sc, err := scanScan(s.db.QueryRowContext(ctx, `SELECT `+scanColumns+` FROM scans ORDER BY id DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return Scan{}, fmt.Errorf("latest scan: %w", ErrNotFound)
	}
	if err != nil {
		return Scan{}, fmt.Errorf("latest scan: %w", err)
	}
	return sc, nil
}

// Scans lists every scan, newest first.
func (s *Store) Scans(ctx context.Context) ([]Scan, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+scanColumns+` FROM scans ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list scans: %w", err)
	}
	defer rows.Close()
	var out []Scan
	for rows.Next() {
		sc, err := scanScan(rows)
		if err != nil {
			return nil, fmt.Errorf("list scans: %w", err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list scans: %w", err)
	}
	return out, nil
}

// FindResumable returns the newest scan of this kind and fingerprint that is
// not done (running after a crash, or interrupted). ok is false when there
// is none.
func (s *Store) FindResumable(ctx context.Context, kind, fingerprint string) (sc Scan, ok bool, err error) {
	sc, err = scanScan(s.db.QueryRowContext(ctx, `SELECT `+scanColumns+` FROM scans
		WHERE kind = ? AND fingerprint = ? AND state <> ? ORDER BY id DESC LIMIT 1`,
		kind, fingerprint, string(ScanDone)))
	if errors.Is(err, sql.ErrNoRows) {
		return Scan{}, false, nil
	}
	if err != nil {
		return Scan{}, false, fmt.Errorf("find resumable scan: %w", err)
	}
	return sc, true, nil
}

// SetScanState sets a scan's state. Done and interrupted set finished_at to
// now; running (a resume) clears it.
func (s *Store) SetScanState(ctx context.Context, id int64, state ScanState) error {
	var finished any
	switch state {
	case ScanRunning:
	case ScanDone, ScanInterrupted:
		finished = nowUTC()
	default:
		return fmt.Errorf("set scan %d state: %w: state %q", id, ErrInvalid, state)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE scans SET state = ?, finished_at = ? WHERE id = ?`, string(state), finished, id)
	if err != nil {
		return fmt.Errorf("set scan %d state: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("set scan %d state: %w", id, ErrNotFound)
	}
	return nil
}

// AddScanCounters adds delta to the scan's named counters (creating them).
func (s *Store) AddScanCounters(ctx context.Context, id int64, delta map[string]int64) error {
	if len(delta) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add scan %d counters: %w", id, err)
	}
	defer tx.Rollback()
	var raw sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT counters::VARCHAR FROM scans WHERE id = ?`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("add scan %d counters: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("add scan %d counters: %w", id, err)
	}
	c := map[string]int64{}
	if raw.Valid && raw.String != "" {
		if err := json.Unmarshal([]byte(raw.String), &c); err != nil {
			return fmt.Errorf("add scan %d counters: %w", id, err)
		}
	}
	for k, v := range delta {
		c[k] += v
	}
	if err := setCounters(ctx, tx, id, c); err != nil {
		return fmt.Errorf("add scan %d counters: %w", id, err)
	}
	return tx.Commit()
}

func setCounters(ctx context.Context, tx *sql.Tx, id int64, c map[string]int64) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE scans SET counters = ?::JSON WHERE id = ?`, string(b), id)
	return err
}

// StatusCounts returns how many results of the scan have each status.
// Statuses with no results are absent.
func (s *Store) StatusCounts(ctx context.Context, id int64) (map[model.Status]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, count(*) FROM results WHERE scan_id = ? GROUP BY status`, id)
	if err != nil {
		return nil, fmt.Errorf("status counts of scan %d: %w", id, err)
	}
	defer rows.Close()
	out := map[model.Status]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("status counts of scan %d: %w", id, err)
		}
		out[model.Status(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("status counts of scan %d: %w", id, err)
	}
	return out, nil
}

func nowUTC() time.Time { return time.Now().UTC() }

func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}
