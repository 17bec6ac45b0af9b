// Package warctest builds WARC files for tests and benchmarks: a Writer
// that emits valid WARC 1.1 records (one gzip member per record, or
// uncompressed), helpers for HTTP response, chunked, gzip and dns blocks,
// and loaders for the shared corpus (real HTML pages and AI embed
// snippets) so tests can archive real pages with known embeds inside.
//
// It is test support: it panics on nothing, returns errors, and is used
// only from _test.go files.
package warctest
