// Package report turns a stored scan into the numbers people quote: how many
// of the domains that answered run each AI technology (with 95% Wilson
// intervals, versions and the split by evidence class), open source against
// closed AI (all evidence and running deployments only), the size of the
// companies behind the sites, the change between two scans, and estimated
// totals for a universe the scan sampled.
//
// Build runs every aggregation inside DuckDB (the store's file, opened
// read-only by the caller) and returns a Report, a plain value that every
// output is rendered from: Write renders it as a text table, JSON, CSV,
// Markdown or a self-contained HTML file with inline SVG charts; the web
// dashboard (internal/web) renders the same Report and the same charts. The
// definitions behind the numbers travel with it (Report.Method) and are
// printed by every format; docs/report.md explains them.
//
// The package reads only the store's schema (docs/store.md): results,
// detections, evidence, scans, companies, and supply_* tables when another
// tool wrote them. It holds no state; Build is safe for concurrent use on one
// store.
package report
