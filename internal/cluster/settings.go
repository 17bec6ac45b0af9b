package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Names of the JetStream objects aicensus uses. Every scan gets its own
// subjects and consumers below these; several scans (from several stores)
// can share one NATS cluster.
const (
	// UnitsStream holds the work units, subjects aicensus.units.<scan key>.
	UnitsStream = "AICENSUS_UNITS"
	// ResultsStream holds the results, subjects aicensus.results.<scan key>.
	ResultsStream = "AICENSUS_RESULTS"
	// ScansBucket is the KV bucket of scan configurations, key = scan key.
	ScansBucket = "aicensus-scans"

	unitsPrefix   = "aicensus.units."
	resultsPrefix = "aicensus.results."
)

// Headers of results messages.
const (
	hdrUnit     = "Aicensus-Unit"     // the unit id
	hdrEncoding = "Aicensus-Encoding" // "zstd+json"
	hdrFailed   = "Aicensus-Failed"   // set on a failed-unit notice: why
)

// Settings are the stream and consumer settings of a cluster scan. The zero
// value means the defaults (DefaultSettings); docs/cluster.md explains each.
type Settings struct {
	// Replicas of the units and results streams and the scans bucket:
	// 1 on a single server, 3 on a 3-node cluster. Only used when the
	// coordinator creates the streams; existing streams are left as they
	// are.
	Replicas int
	// DedupWindow is JetStream's Nats-Msg-Id window on both streams: a unit
	// or results message published again within it is dropped by the
	// server. Default 10 min.
	DedupWindow time.Duration
	// ResultsMaxAge bounds how long results nobody consumes (a finished or
	// abandoned scan) stay in the results stream. Default 7 days.
	ResultsMaxAge time.Duration
	// AckWait is how long a worker may hold a unit without acking or
	// signalling progress before JetStream redelivers it. Default 2 min.
	AckWait time.Duration
	// Heartbeat is how often a worker signals progress (in-progress ack)
	// on each unit it holds. Default AckWait/4.
	Heartbeat time.Duration
	// MaxAttempts is how many deliveries a unit gets; the delivery after
	// that turns every item of the unit into an internal-error result
	// naming the unit (the dead-letter path). Default 5.
	MaxAttempts int
	// NakDelay is the redelivery delay after a transient failure (results
	// could not be published). Default 10 s.
	NakDelay time.Duration
	// CollectorAckWait is the results consumer's ack wait; the collector
	// acks after every flush, well within it. Default 1 min.
	CollectorAckWait time.Duration
	// CollectorBatch is how many results messages the collector takes per
	// fetch. Default 64.
	CollectorBatch int
	// CollectorDelay is the longest a result waits in the collector before
	// it is committed to the DuckDB store (and its message acked); a
	// commit also happens at 1,000 results and when the last result of the
	// scan is in. Parquet output has its own cadence (ParquetRows,
	// ParquetAge). Default 1 s, like a single-machine scan's store writer.
	CollectorDelay time.Duration
}

// DefaultSettings returns the defaults in one place.
func DefaultSettings() Settings {
	return Settings{
		Replicas:         1,
		DedupWindow:      10 * time.Minute,
		ResultsMaxAge:    7 * 24 * time.Hour,
		AckWait:          2 * time.Minute,
		MaxAttempts:      5,
		NakDelay:         10 * time.Second,
		CollectorAckWait: time.Minute,
		CollectorBatch:   64,
		CollectorDelay:   time.Second,
	}
}

func (s Settings) withDefaults() Settings {
	d := DefaultSettings()
	if s.Replicas <= 0 {
		s.Replicas = d.Replicas
	}
	if s.DedupWindow <= 0 {
		s.DedupWindow = d.DedupWindow
	}
	if s.ResultsMaxAge <= 0 {
		s.ResultsMaxAge = d.ResultsMaxAge
	}
	if s.AckWait <= 0 {
		s.AckWait = d.AckWait
	}
	if s.Heartbeat <= 0 || s.Heartbeat >= s.AckWait {
		s.Heartbeat = s.AckWait / 4
	}
	if s.MaxAttempts <= 0 {
		s.MaxAttempts = d.MaxAttempts
	}
	if s.NakDelay <= 0 {
		s.NakDelay = d.NakDelay
	}
	if s.CollectorAckWait <= 0 {
		s.CollectorAckWait = d.CollectorAckWait
	}
	if s.CollectorBatch <= 0 {
		s.CollectorBatch = d.CollectorBatch
	}
	if s.CollectorDelay <= 0 {
		s.CollectorDelay = d.CollectorDelay
	}
	return s
}

// unitsConfig is the work-queue stream of units: a unit is removed when a
// worker acks it.
func (s Settings) unitsConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        UnitsStream,
		Description: "aicensus work units (one message per batch of input lines)",
		Subjects:    []string{unitsPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    s.Replicas,
		Duplicates:  s.DedupWindow,
		Discard:     jetstream.DiscardOld,
	}
}

// resultsConfig is the work-queue stream of results: a message is removed
// when the collector acks it after its results are committed.
func (s Settings) resultsConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        ResultsStream,
		Description: "aicensus results (one or more messages per finished unit)",
		Subjects:    []string{resultsPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    s.Replicas,
		Duplicates:  s.DedupWindow,
		MaxAge:      s.ResultsMaxAge,
		Compression: jetstream.NoCompression, // payloads are zstd already
	}
}

func (s Settings) scansConfig() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      ScansBucket,
		Description: "aicensus cluster scan configurations by scan key",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    s.Replicas,
	}
}

// workersConsumer is the per-scan pull consumer every worker shares.
func (s Settings) workersConsumer(key string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       "workers-" + key,
		Description:   "aicensus workers of scan " + key,
		FilterSubject: unitsPrefix + key,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.AckWait,
		// Unlimited at the server: the worker that receives delivery
		// MaxAttempts+1 turns the unit into internal-error results (see
		// docs/cluster.md), so a unit can never stop being delivered
		// without a trace.
		MaxDeliver:    -1,
		MaxAckPending: 10000,
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
	}
}

// collectorConsumer is the per-scan pull consumer of the collector.
func (s Settings) collectorConsumer(key string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       "collector-" + key,
		Description:   "aicensus collector of scan " + key,
		FilterSubject: resultsPrefix + key,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.CollectorAckWait,
		MaxDeliver:    -1,
		MaxAckPending: 4 * s.CollectorBatch,
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
	}
}

// ensureStreams creates the streams and the scans bucket when they do not
// exist; existing ones keep their configuration (an operator may have
// tuned replicas or limits).
func ensureStreams(ctx context.Context, js jetstream.JetStream, s Settings) (jetstream.KeyValue, error) {
	for _, cfg := range []jetstream.StreamConfig{s.unitsConfig(), s.resultsConfig()} {
		_, err := js.Stream(ctx, cfg.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			_, err = js.CreateStream(ctx, cfg)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				err = nil // another coordinator was faster
			}
		}
		if err != nil {
			return nil, fmt.Errorf("cluster: stream %s: %w", cfg.Name, err)
		}
	}
	kv, err := js.KeyValue(ctx, ScansBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, s.scansConfig())
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, ScansBucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: bucket %s: %w", ScansBucket, err)
	}
	return kv, nil
}
