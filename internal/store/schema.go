package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one numbered schema step. Migrations are append-only: a
// released migration is never edited; changes go into a new one.
type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations lists every schema step in order. To change the schema, append
// one entry (version = last + 1) in its own file, e.g. a companies table for
// reports, and document it in docs/store.md.
func migrations() []migration {
	return []migration{
		migration1(),
		migration2(), // companies (internal/store/companies.go)
	}
}

// SupportedSchemaVersion is the schema version this binary writes.
func SupportedSchemaVersion() int {
	m := migrations()
	return m[len(m)-1].version
}

// migration1 is the initial schema. Conventions: times are UTC TIMESTAMPs;
// absent values (empty strings, zero numbers, zero times, empty lists) are
// NULL; status and class columns hold the model's string values.
func migration1() migration {
	return migration{version: 1, name: "initial schema", stmts: []string{
		`CREATE TABLE schema_version (
			version    INTEGER PRIMARY KEY,
			name       VARCHAR NOT NULL,
			applied_at TIMESTAMP NOT NULL
		)`,
		`CREATE SEQUENCE scan_id_seq START 1`,
		`CREATE SEQUENCE result_rid_seq START 1`,
		`CREATE SEQUENCE page_pid_seq START 1`,
		`CREATE TABLE scans (
			id              BIGINT PRIMARY KEY,
			kind            VARCHAR NOT NULL,
			state           VARCHAR NOT NULL,
			started_at      TIMESTAMP NOT NULL,
			finished_at     TIMESTAMP,
			input           VARCHAR NOT NULL,
			fingerprint     VARCHAR NOT NULL,
			options         JSON,
			catalog_version VARCHAR,
			tool_version    VARCHAR,
			archives_read   BIGINT NOT NULL DEFAULT 0,
			counters        JSON
		)`,
		`CREATE TABLE results (
			rid          BIGINT NOT NULL,
			scan_id      BIGINT NOT NULL,
			target       VARCHAR NOT NULL,
			input        VARCHAR,
			line         INTEGER,
			domain       VARCHAR,
			status       VARCHAR NOT NULL,
			error        VARCHAR,
			url          VARCHAR,
			http_status  INTEGER,
			redirects    VARCHAR[],
			pages        INTEGER,
			first_seen   TIMESTAMP,
			last_seen    TIMESTAMP,
			time         TIMESTAMP,
			duration_ms  BIGINT,
			dns          STRUCT(name VARCHAR, type VARCHAR, value VARCHAR)[],
			n_detections INTEGER NOT NULL
		)`,
		`CREATE TABLE detections (
			rid            BIGINT NOT NULL,
			scan_id        BIGINT NOT NULL,
			target         VARCHAR NOT NULL,
			domain         VARCHAR,
			status         VARCHAR NOT NULL,
			pos            INTEGER NOT NULL,
			technology     VARCHAR NOT NULL,
			version        VARCHAR,
			categories     VARCHAR[],
			open_source    BOOLEAN NOT NULL,
			license        VARCHAR,
			ai             BOOLEAN NOT NULL,
			confidence     INTEGER NOT NULL,
			evidence_class VARCHAR,
			classes        VARCHAR[],
			running        BOOLEAN NOT NULL
		)`,
		`CREATE TABLE evidence (
			rid            BIGINT NOT NULL,
			scan_id        BIGINT NOT NULL,
			target         VARCHAR NOT NULL,
			technology     VARCHAR NOT NULL,
			dpos           INTEGER NOT NULL,
			pos            INTEGER NOT NULL,
			signal         VARCHAR NOT NULL,
			pattern        VARCHAR,
			match          VARCHAR,
			location       VARCHAR,
			evidence_class VARCHAR,
			via            VARCHAR
		)`,
		`CREATE TABLE pages (
			pid         BIGINT NOT NULL,
			scan_id     BIGINT NOT NULL,
			target      VARCHAR NOT NULL,
			domain      VARCHAR,
			host        VARCHAR,
			url         VARCHAR,
			status      VARCHAR NOT NULL,
			error       VARCHAR,
			http_status INTEGER,
			captured_at TIMESTAMP,
			source      VARCHAR NOT NULL,
			ref         VARCHAR
		)`,
		`CREATE TABLE page_detections (
			pid            BIGINT NOT NULL,
			scan_id        BIGINT NOT NULL,
			target         VARCHAR NOT NULL,
			captured_at    TIMESTAMP,
			pos            INTEGER NOT NULL,
			technology     VARCHAR NOT NULL,
			version        VARCHAR,
			categories     VARCHAR[],
			open_source    BOOLEAN NOT NULL,
			license        VARCHAR,
			ai             BOOLEAN NOT NULL,
			confidence     INTEGER NOT NULL,
			evidence_class VARCHAR,
			classes        VARCHAR[],
			running        BOOLEAN NOT NULL
		)`,
		`CREATE TABLE page_evidence (
			pid            BIGINT NOT NULL,
			scan_id        BIGINT NOT NULL,
			target         VARCHAR NOT NULL,
			captured_at    TIMESTAMP,
			technology     VARCHAR NOT NULL,
			dpos           INTEGER NOT NULL,
			pos            INTEGER NOT NULL,
			signal         VARCHAR NOT NULL,
			pattern        VARCHAR,
			match          VARCHAR,
			location       VARCHAR,
			evidence_class VARCHAR,
			via            VARCHAR
		)`,
		`CREATE TABLE checkpoints (
			scan_id     BIGINT NOT NULL,
			source      VARCHAR NOT NULL,
			next_offset BIGINT NOT NULL,
			done        BOOLEAN NOT NULL,
			pages       BIGINT NOT NULL,
			counters    JSON,
			updated_at  TIMESTAMP NOT NULL,
			PRIMARY KEY (scan_id, source)
		)`,
	}}
}

// migrate brings the file to the newest version in migs, one transaction per
// migration. Read-only stores are only checked.
func (s *Store) migrate(ctx context.Context, migs []migration) error {
	have, err := readSchemaVersion(ctx, s.db)
	if err != nil {
		return err
	}
	want := migs[len(migs)-1].version
	switch {
	case have > want:
		return fmt.Errorf("%w: the file has schema version %d, this binary supports up to %d; upgrade aicensus", ErrSchemaTooNew, have, want)
	case have < want && s.readOnly:
		return fmt.Errorf("%w (the file has schema version %d, this binary uses %d)", ErrSchemaOutdated, have, want)
	}
	for _, m := range migs {
		if m.version <= have {
			continue
		}
		if err := applyMigration(ctx, s.db, m); err != nil {
			return err
		}
		have = m.version
	}
	s.version = have
	return nil
}

// readSchemaVersion returns 0 for a database without aicensus tables
// (other tables, such as supplydb's supply_*, may exist) and fails with
// ErrNotStore when one of the store's tables exists without schema_version.
func readSchemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var hasVersion, ours int
	err := db.QueryRowContext(ctx, `SELECT
			count(*) FILTER (WHERE table_name = 'schema_version'),
			count(*) FILTER (WHERE table_name IN ('scans', 'results', 'detections', 'evidence',
				'pages', 'page_detections', 'page_evidence', 'checkpoints'))
		FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'`).Scan(&hasVersion, &ours)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if hasVersion == 0 {
		if ours > 0 {
			return 0, ErrNotStore
		}
		return 0, nil
	}
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %d: %w", m.version, err)
	}
	defer tx.Rollback()
	for _, q := range m.stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version VALUES (?, ?, ?)`, m.version, m.name, nowUTC()); err != nil {
		return fmt.Errorf("migration %d: %w", m.version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %d: %w", m.version, err)
	}
	return nil
}
