// Package web serves a read-only local dashboard over a store: an overview
// of a scan (the report's summary, charts and tables) with filters by
// category, open source, evidence class and company size; a page per
// technology listing its domains with their evidence; and the same data as
// JSON under /api/.
//
// Every number comes from internal/report (Build, Domains), the same
// aggregation layer as `aicensus report`, so the dashboard and the report
// never disagree. The server only reads: give it a store opened read-only.
// It binds 127.0.0.1 by default, refuses requests whose Host header is not a
// loopback name when bound to loopback (DNS rebinding), sets timeouts on
// every connection, and stops gracefully when its context ends. Built
// reports are cached per (scan, filter) in a small LRU; concurrent requests
// for the same report share one computation.
package web
