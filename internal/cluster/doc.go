// Package cluster spreads one live or archive scan over many machines with
// NATS JetStream as the work queue and the result bus.
//
// A coordinator (Scan, behind `aicensus scan --cluster URL`) opens the store
// and the scan record exactly as a single-machine scan does (same
// fingerprint, so either can resume the other), cuts the input into units of
// a few hundred domain lines, stores the scan's configuration in a KV bucket
// and publishes every unit not already stored to a work-queue stream with a
// de-duplication id. Workers (RunWorker, `aicensus worker`) pull units, run
// them through the same probe and detect pipeline as a single-machine scan
// (pipeline.RunLive), keep the unit's ack deadline alive while it runs,
// publish its results with a message id and ack the unit only after the
// results are stored in JetStream. The coordinator's collector writes the
// results through store.Writer (or into Parquet files), flushes, and only
// then acks the results messages; it counts finished units and finishes the
// scan when every unit is in.
//
// Delivery is at least once everywhere; the collector is idempotent (a line
// already handled is dropped, and the store refuses a second (scan, target)),
// so the stored effect is exactly once.
//
// Archive scans (ScanArchive, `aicensus scan --warc --cluster URL`) work the
// same way with one unit per archive file: workers read it with
// scan.ReadPages (scan.Archive's page detection) and publish page batches
// with their checkpoint offsets; the collector stores the pages past each
// source's stored checkpoint with Writer.WritePages and aggregates them with
// FinalizeArchiveScan when every source is done.
//
// docs/cluster.md has the argument, the
// stream and consumer settings and the deployment material.
package cluster
