// Package result is the flat form of every supply, dependency and agent
// metric: a Row names its scope, metric, field, universe and key in plain
// words, so the same rows print as a table or CSV and are stored in DuckDB
// for `aicensus report`. Typed reports (JSON output) live in the packages
// that compute them and flatten themselves into Rows.
package result
