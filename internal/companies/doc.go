// Package companies imports company (firmographic) datasets into the store so
// reports can say how large the companies behind the detected sites are.
//
// Import reads a CSV/TSV (optionally gzipped), JSON Lines (optionally
// gzipped) or Parquet file, finds the domain, size and name columns (by flag
// or by well-known names), normalises each website or domain to its
// registrable domain with internal/input's Normalize (the same rule the scan
// uses, so the join key matches results.domain), maps each size to one of
// store.SizeBuckets with ParseSize, and stores the rows with
// store.ImportCompanies, which resolves disagreeing sources (see there and
// docs/report.md). A row that cannot be used is skipped and counted with its
// reason; nothing about one row stops the import.
//
// The package holds no state; Import is safe to call from several goroutines
// on different stores (one import per store at a time, as DuckDB serialises
// writers anyway).
package companies
