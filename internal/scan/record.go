package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/warc"
)

// Record says which scan record a scan writes into: what identifies "the
// same scan" for resume, and what a new record holds. scan.Live,
// scan.Archive and cluster coordinators build it with LiveRecord and
// ArchiveRecord and open it with OpenRecord, so a scan interrupted on one
// machine continues on a cluster and the other way round.
type Record struct {
	// Kind is store.KindLive or store.KindWARC.
	Kind string
	// Fingerprint is the resume identity; "" when the input cannot be read
	// twice (stdin): such a scan is never resumed.
	Fingerprint string
	// Input, Options, CatalogVersion and ToolVersion are recorded with a
	// new scan.
	Input          string
	Options        any
	CatalogVersion string
	ToolVersion    string
	// Resume requires an unfinished scan with the fingerprint
	// (ErrNothingToResume otherwise).
	Resume bool
}

// liveSpec is what identifies "the same live scan" for resume: everything
// that changes which lines exist or what a result holds.
type liveSpec struct {
	Input          string `json:"input"`
	InputSize      int64  `json:"input_size"`
	Column         string `json:"column,omitempty"`
	Format         string `json:"format,omitempty"`
	CatalogVersion string `json:"catalog_version"`
	MaxBodyBytes   int64  `json:"max_body_bytes,omitempty"`
	MaxScripts     int    `json:"max_scripts,omitempty"`
	StrictRobots   bool   `json:"strict_robots,omitempty"`
}

// LiveRecord is the scan record of a live scan: the fingerprint covers the
// input file (absolute path and size), its layout, the catalog version and
// the fetch options that change results.
func LiveRecord(cfg LiveConfig) (Record, error) {
	spec := liveSpec{
		Input: cfg.Input, Column: cfg.InputOptions.Column, Format: fmt.Sprint(cfg.InputOptions.Format),
		CatalogVersion: cfg.Detector.Catalog().Version(), MaxBodyBytes: cfg.Fetch.MaxBodyBytes,
		MaxScripts: cfg.Fetch.MaxScripts, StrictRobots: cfg.Fetch.StrictRobots,
	}
	rec := Record{Kind: store.KindLive, Input: cfg.Input, Options: cfg.Options, CatalogVersion: spec.CatalogVersion,
		ToolVersion: cfg.ToolVersion, Resume: cfg.Resume}
	if cfg.Input == "-" {
		return rec, nil // stdin cannot be read twice: never resumed
	}
	abs, err := filepath.Abs(cfg.Input)
	if err != nil {
		return rec, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return rec, fmt.Errorf("scan: input: %w", err)
	}
	spec.Input, spec.InputSize = abs, st.Size()
	specJSON, _ := json.Marshal(spec)
	rec.Fingerprint = store.Fingerprint(store.KindLive, spec.Input, specJSON)
	return rec, nil
}

// archiveSpec identifies "the same archive scan" for resume.
type archiveSpec struct {
	Sources        []string `json:"sources"`
	PerHost        bool     `json:"per_host,omitempty"`
	CatalogVersion string   `json:"catalog_version"`
}

// ArchiveRecord is the scan record of an archive scan of sources (as
// warc.Expand found them for cfg.Specs): the fingerprint covers the sorted
// source names, per-host aggregation and the catalog version.
func ArchiveRecord(cfg ArchiveConfig, sources []warc.Source) Record {
	names := make([]string, len(sources))
	resumable := true
	for i, s := range sources {
		names[i] = s.Name
		if s.Name == "-" {
			resumable = false
		}
	}
	sort.Strings(names)
	spec := archiveSpec{Sources: names, PerHost: cfg.PerHost, CatalogVersion: cfg.Detector.Catalog().Version()}
	rec := Record{Kind: store.KindWARC, Input: strings.Join(cfg.Specs, " "), Options: cfg.Options,
		CatalogVersion: spec.CatalogVersion, ToolVersion: cfg.ToolVersion, Resume: cfg.Resume}
	if resumable {
		specJSON, _ := json.Marshal(spec)
		rec.Fingerprint = store.Fingerprint(store.KindWARC, strings.Join(names, "\n"), specJSON)
	}
	return rec
}

// OpenStore opens the store as scans do: a capped buffer (DefaultDBMemory
// when memory is "") and one DuckDB thread (the writer is single, and
// per-thread buffers during checkpoints are what made a scan's memory
// grow).
func OpenStore(ctx context.Context, path, memory string) (*store.Store, error) {
	if memory == "" {
		memory = DefaultDBMemory
	}
	return store.Open(ctx, path, store.Options{MemoryLimit: memory, Threads: 1, CheckpointThreshold: "4MB"})
}

// OpenRecord finds the unfinished scan with rec's fingerprint and marks it
// running again (resumed), or creates a new running scan. With rec.Resume
// and no such scan it returns ErrNothingToResume.
func OpenRecord(ctx context.Context, st *store.Store, rec Record) (sc store.Scan, resumed bool, err error) {
	if rec.Fingerprint != "" {
		prev, ok, err := st.FindResumable(ctx, rec.Kind, rec.Fingerprint)
		if err != nil {
			return sc, false, err
		}
		if ok {
			if err := st.SetScanState(ctx, prev.ID, store.ScanRunning); err != nil {
				return sc, false, err
			}
			return prev, true, nil
		}
	}
	if rec.Resume {
		return sc, false, ErrNothingToResume
	}
	sc, err = st.CreateScan(ctx, store.ScanSpec{
		Kind: rec.Kind, Input: rec.Input, Options: rec.Options,
		CatalogVersion: rec.CatalogVersion, ToolVersion: rec.ToolVersion, Fingerprint: rec.Fingerprint,
	})
	return sc, false, err
}

// ExpandArchives finds cfg's sources (warc.Expand with cfg.Stdin) and logs
// every paths-list line it skipped.
func ExpandArchives(ctx context.Context, cfg ArchiveConfig) ([]warc.Source, []warc.BadLine, error) {
	wopt := cfg.Warc
	if cfg.Stdin != nil {
		wopt.Stdin = cfg.Stdin
	}
	sources, bad, err := warc.Expand(ctx, cfg.Specs, cfg.Base, wopt)
	if cfg.Log != nil {
		for _, b := range bad {
			cfg.Log.Warn("archive list line skipped", "list", b.List, "line", b.Line, "error", b.Err)
		}
	}
	return sources, bad, err
}
