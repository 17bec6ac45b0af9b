// Package supplydb stores supply, dependency and agent results in DuckDB
// tables of their own (supply_runs, supply_metrics), created with CREATE TABLE
// IF NOT EXISTS. It takes a *sql.DB opened with the duckdb driver
// (github.com/duckdb/duckdb-go/v2) and owns nothing else in the database, so
// the store's migrations can adopt the two tables later unchanged, and
// `aicensus report` can read the latest run of each command with Latest.
package supplydb
