// Package warc reads web archives (WARC 0.17/1.0/1.1 and ARC, gzip
// compressed per record or as a whole, or uncompressed) as a stream and
// turns their response records into model.Observations for detection.
//
// # Pieces
//
//   - Expand resolves command-line inputs (files, folders, globs, "-",
//     Common Crawl warc.paths lists against a base folder or URL) into
//     Sources; Source.Open opens one at an offset (seek, HTTP Range, or
//     skipping stdin), and remote reads resume with a Range request after
//     a dropped connection.
//   - Reader pulls Records from one source: WARC named fields, the block
//     (capped, kept only for the types that matter), and the source offset
//     of the record's gzip member (the resume point). Broken input is
//     counted by Kind and skipped; the reader resyncs and goes on.
//   - Decoder turns a response Record into a model.Observation: HTTP
//     status and headers, the body with chunked and content codings undone
//     (capped), or the DNS records of a dns: record.
//   - Scan runs it all in parallel: Files sources at once, each read,
//     decoded and handled by its own goroutine, and Workers goroutines
//     that take pieces of a source when fewer sources than workers are
//     left, with resume offsets reported through Commit.
//
// # Record types
//
// response records are decoded (HTTP, or DNS for dns: URIs). revisit
// records are counted and returned with their block (the HTTP headers of
// a revisit) and WARC-Refers-To* fields, but not decoded: they repeat a
// capture seen elsewhere and would count a page twice. request, metadata,
// warcinfo, conversion (WET text) and continuation records are counted
// and returned without their block: nothing in them says what a site
// runs. resource records keep their block (wget logs, screenshots) but
// are not decoded: they are not HTTP responses. ARC files give one
// "warcinfo" record (filedesc) and "response" records.
//
// # Concurrency
//
// A Reader and a Decoder are used by one goroutine at a time. Records are
// immutable once returned, so a reader goroutine can hand them to worker
// goroutines that each own a Decoder. Scan goes further for gzip input:
// when the workers run short, the source's goroutine cuts the compressed
// bytes at gzip member headers, without inflating, and the workers
// inflate, frame, decode and handle the pieces, so even one big file keeps
// every core busy (see piece.go for how false cuts are detected and
// joined). Its callbacks are documented on ScanOptions.
//
// # Memory
//
// A Reader holds about 400 KiB of buffers and gzip state plus one record
// block of at most Options.MaxRecordBytes; larger blocks are skipped while
// streaming. A decoded body is at most Options.MaxBodyBytes. Scan holds at
// most Files + Queue + Workers records (or pieces of at most 4 MiB of gzip
// input) at once, plus a 4 MiB input buffer per file read at once,
// whatever the archive size.
package warc
