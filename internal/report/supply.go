package report

import (
	"context"
	"fmt"
	"time"
)

// SupplyRun is the latest run of one supply-metrics command (issue 6:
// `aicensus supply hf|github`, `deps`, `agents`), read from the
// supply_runs and supply_metrics tables that internal/supply/supplydb
// writes into the same file.
//
// This is the report's extension point for supply metrics: the report does
// not interpret them, it lists every metric row of the latest run of each
// command as stored. A richer supply section can replace this one without
// touching the rest of the report.
type SupplyRun struct {
	Command   string         `json:"command"`
	RunID     string         `json:"run_id"`
	StartedAt time.Time      `json:"started_at"`
	Inputs    string         `json:"inputs"`
	Metrics   []SupplyMetric `json:"metrics"`
}

// SupplyMetric is one stored supply measurement (supply_metrics row).
type SupplyMetric struct {
	Scope    string   `json:"scope"`
	Metric   string   `json:"metric"`
	Field    string   `json:"field,omitempty"`
	Key      string   `json:"key,omitempty"`
	Value    *float64 `json:"value"` // nil when the stored value is NULL
	Universe string   `json:"universe,omitempty"`
}

// supply fills Report.Supply when the supply tables exist (see SupplyRun).
func (q *querier) supply(ctx context.Context, r *Report) error {
	var n int
	err := q.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'main' AND table_name IN ('supply_runs', 'supply_metrics')`).Scan(&n)
	if err != nil || n < 2 {
		return err
	}
	rows, err := q.db.QueryContext(ctx, `WITH latest AS (
			SELECT command, arg_max(run_id, (started_at, run_id)) AS run_id FROM supply_runs GROUP BY command)
		SELECT l.command, l.run_id, r.started_at, r.inputs,
			m.scope, m.metric, m.field, m.key, m.value, m.universe
		FROM latest l JOIN supply_runs r USING (run_id) JOIN supply_metrics m ON m.run_id = l.run_id
		ORDER BY l.command, m.rowid`)
	if err != nil {
		return fmt.Errorf("supply metrics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var run SupplyRun
		var m SupplyMetric
		if err := rows.Scan(&run.Command, &run.RunID, &run.StartedAt, &run.Inputs,
			&m.Scope, &m.Metric, &m.Field, &m.Key, &m.Value, &m.Universe); err != nil {
			return fmt.Errorf("supply metrics: %w", err)
		}
		if k := len(r.Supply); k == 0 || r.Supply[k-1].RunID != run.RunID {
			run.StartedAt = run.StartedAt.UTC()
			r.Supply = append(r.Supply, run)
		}
		last := &r.Supply[len(r.Supply)-1]
		last.Metrics = append(last.Metrics, m)
	}
	return rows.Err()
}
