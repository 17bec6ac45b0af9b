// Package pipeline owns aicensus's concurrency: bounded worker pools between
// a source and a single sink, every goroutine started in an errgroup and
// stopped through the context, and per-item panics recovered into data so
// that one bad item never stops a run.
package pipeline
