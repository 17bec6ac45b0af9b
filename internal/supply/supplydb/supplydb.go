package supplydb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aicensus/aicensus/internal/supply/result"
)

// schema creates the two tables. supply_metrics holds one row per
// result.Row; supply_runs one row per command run with its inputs,
// parameters and the full JSON report.
const schema = `
CREATE TABLE IF NOT EXISTS supply_runs (
	run_id     VARCHAR PRIMARY KEY,
	command    VARCHAR NOT NULL,
	inputs     VARCHAR NOT NULL,
	params     VARCHAR NOT NULL,
	report     VARCHAR NOT NULL,
	started_at TIMESTAMPTZ NOT NULL,
	ended_at   TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS supply_metrics (
	run_id   VARCHAR NOT NULL,
	command  VARCHAR NOT NULL,
	scope    VARCHAR NOT NULL,
	metric   VARCHAR NOT NULL,
	field    VARCHAR NOT NULL,
	key      VARCHAR NOT NULL,
	value    DOUBLE,
	universe VARCHAR NOT NULL
);`

// Run describes one command run. Report is the typed report (marshalled to
// JSON); Params are the effective options (marshalled to JSON).
type Run struct {
	Command   string // "supply hf", "supply github", "deps", "agents"
	Inputs    []string
	Params    any
	Report    any
	Rows      []result.Row
	StartedAt time.Time
	EndedAt   time.Time
}

// Migrate creates the supply_ tables if they do not exist. It is idempotent.
func Migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create supply tables: %w", err)
	}
	return nil
}

// Save migrates, then writes run and its rows in one transaction and returns
// the new run id. It is safe to call concurrently on one *sql.DB (each call
// has its own transaction).
func Save(ctx context.Context, db *sql.DB, run Run) (string, error) {
	if err := Migrate(ctx, db); err != nil {
		return "", err
	}
	id, err := newID()
	if err != nil {
		return "", err
	}
	inputs, err := json.Marshal(run.Inputs)
	if err != nil {
		return "", fmt.Errorf("marshal inputs: %w", err)
	}
	params, err := json.Marshal(run.Params)
	if err != nil {
		return "", fmt.Errorf("marshal params: %w", err)
	}
	report, err := json.Marshal(run.Report)
	if err != nil {
		return "", fmt.Errorf("marshal report: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.ExecContext(ctx, `INSERT INTO supply_runs VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, run.Command, string(inputs), string(params), string(report), run.StartedAt.UTC(), run.EndedAt.UTC()); err != nil {
		return "", fmt.Errorf("insert run: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO supply_metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return "", fmt.Errorf("prepare metrics: %w", err)
	}
	defer stmt.Close()
	for _, r := range run.Rows {
		if _, err := stmt.ExecContext(ctx, id, run.Command, r.Scope, r.Metric, r.Field, r.Key, r.Value, r.Universe); err != nil {
			return "", fmt.Errorf("insert metric %s/%s: %w", r.Scope, r.Metric, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	return id, nil
}

// Latest returns the rows of the most recent run of command (by started_at),
// its run id, and sql.ErrNoRows (wrapped) when there is none.
func Latest(ctx context.Context, db *sql.DB, command string) (string, []result.Row, error) {
	if err := Migrate(ctx, db); err != nil {
		return "", nil, err
	}
	var id string
	err := db.QueryRowContext(ctx, `SELECT run_id FROM supply_runs WHERE command = ? ORDER BY started_at DESC, run_id DESC LIMIT 1`, command).Scan(&id)
	if err != nil {
		return "", nil, fmt.Errorf("latest %s run: %w", command, err)
	}
	rows, err := db.QueryContext(ctx, `SELECT scope, metric, field, key, value, universe FROM supply_metrics WHERE run_id = ? ORDER BY rowid`, id)
	if err != nil {
		return "", nil, fmt.Errorf("read %s metrics: %w", command, err)
	}
	defer rows.Close()
	var out []result.Row
	for rows.Next() {
		var r result.Row
		var v sql.NullFloat64
		if err := rows.Scan(&r.Scope, &r.Metric, &r.Field, &r.Key, &v, &r.Universe); err != nil {
			return "", nil, fmt.Errorf("scan %s metric: %w", command, err)
		}
		r.Value = v.Float64
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return "", nil, fmt.Errorf("read %s metrics: %w", command, err)
	}
	return id, out, nil
}

func newID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("run id: %w", err)
	}
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:]), nil
}
