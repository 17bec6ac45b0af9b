// Package storetest fills a store with synthetic scans for tests and
// benchmarks of code that reads the store (reports, export). The data is
// generated inside DuckDB with INSERT ... SELECT, so 10,000,000 results take
// seconds, and it is deterministic for a given size.
package storetest
