// Package store persists aicensus scans in an embedded DuckDB file
// (./aicensus.duckdb by default) and reads them back for reports and export.
//
// A Store is opened with Open, which creates the file if needed and applies
// the numbered schema migrations in order (each in its own transaction). A
// file written by a newer aicensus is refused with ErrSchemaTooNew.
//
// Writes go through a Writer: one goroutine owned by the Writer batches
// results (or archive page batches) from many producers and commits each
// batch with DuckDB Appenders inside one transaction, so after a crash a
// result is stored completely (with its detections and evidence) or not at
// all, and an archive checkpoint is stored exactly when the pages it covers
// are. The Writer drops a result whose (scan, target) is already stored, so a
// resumed scan never duplicates a target.
//
// The schema is documented in docs/store.md and is a public contract: reports
// run SQL on it directly through DB. Tables are added or changed only by new
// migrations (see migrations in schema.go).
package store
