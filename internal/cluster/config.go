package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/dns"
	"github.com/aicensus/aicensus/internal/fetch"
	"github.com/aicensus/aicensus/internal/probe"
	"github.com/aicensus/aicensus/internal/store"
)

// ScanConfig is what a worker needs to run a scan's units: it travels in
// the scans KV bucket under the scan key, so `aicensus worker` needs only
// the cluster's address.
type ScanConfig struct {
	Version int    `json:"v"`
	Key     string `json:"key"`
	// ScanID is the scan's id in the coordinator's store; results carry it.
	ScanID  int64       `json:"scan_id"`
	Catalog CatalogSpec `json:"catalog"`
	// Fetch and DNS hold every data field of fetch.Options and
	// dns.Config by Go field name (functions and interfaces are set by the
	// worker, as scan.Live sets them).
	Fetch map[string]json.RawMessage `json:"fetch"`
	DNS   map[string]json.RawMessage `json:"dns"`
	// Probe holds probe.Options (politeness limits), per worker.
	Probe map[string]json.RawMessage `json:"probe"`
	// FetchWorkers and DetectWorkers are the coordinator's pool sizes, the
	// default for workers that do not set their own.
	FetchWorkers  int `json:"fetch_workers,omitempty"`
	DetectWorkers int `json:"detect_workers,omitempty"`
	// UnitSize is the coordinator's unit size (workers size their
	// prefetch with it).
	UnitSize int `json:"unit_size"`
	// Consumer settings the workers follow.
	Heartbeat   time.Duration `json:"heartbeat"`
	MaxAttempts int           `json:"max_attempts"`
	NakDelay    time.Duration `json:"nak_delay"`
	ToolVersion string        `json:"tool_version,omitempty"`
	// Kind is the scan's kind: store.KindLive (also when empty; units are
	// batches of input lines) or store.KindWARC (units are archive files,
	// read as Archive says).
	Kind string `json:"kind,omitempty"`
	// Archive says how workers read the archive files of a KindWARC scan.
	Archive *ArchiveSettings `json:"archive,omitempty"`
}

// ArchiveSettings is how workers read an archive scan's files: the same
// page detection as scan.Archive with the coordinator's reader options.
type ArchiveSettings struct {
	// PerHost aggregates per host instead of per registrable domain.
	PerHost bool `json:"per_host,omitempty"`
	// Warc holds every data field of warc.Options by Go field name (an
	// HTTP client does not travel: workers use their default one).
	Warc map[string]json.RawMessage `json:"warc"`
	// Workers is the coordinator's reader pool size per file (0: each
	// worker's number of CPUs).
	Workers int `json:"workers,omitempty"`
	// BatchPages is how many pages a results message holds at most
	// (0: DefaultBatchPages).
	BatchPages int `json:"batch_pages,omitempty"`
}

// CatalogSpec says how to rebuild the scan's detector: catalog.Open with
// NoEmbedded and Paths, detect.New with the options, and the catalog
// version the result must have.
type CatalogSpec struct {
	// Paths are the --catalog files or folders; they must exist at the same
	// paths on every worker (or the worker names its own).
	Paths         []string `json:"paths,omitempty"`
	NoEmbedded    bool     `json:"no_embedded,omitempty"`
	MinConfidence int      `json:"min_confidence,omitempty"`
	MaxBodyBytes  int      `json:"max_body_bytes,omitempty"`
	MaxEvidence   int      `json:"max_evidence,omitempty"`
	// Version is catalog.Catalog.Version of the coordinator's catalog.
	Version string `json:"version"`
}

// ErrCatalogMismatch means a worker's catalog is not the scan's: it would
// detect differently, so it refuses the scan's units.
var ErrCatalogMismatch = errors.New("catalog version mismatch")

func (c CatalogSpec) detectOptions() detect.Options {
	return detect.Options{MinConfidence: c.MinConfidence, MaxBodyBytes: c.MaxBodyBytes, MaxEvidence: c.MaxEvidence}
}

// Detector rebuilds the detector and checks its catalog version; paths,
// when not nil, replace c.Paths (a worker whose catalog files live
// elsewhere). The error wraps ErrCatalogMismatch when the version differs.
func (c CatalogSpec) Detector(paths []string) (*detect.Detector, error) {
	if paths == nil {
		paths = c.Paths
	}
	cat, err := catalog.Open(c.NoEmbedded, paths...)
	if err != nil {
		return nil, fmt.Errorf("cluster: catalog: %w", err)
	}
	if cat.Version() != c.Version {
		return nil, fmt.Errorf("cluster: %w: the scan needs catalog %s, this worker built %s from %v (no-ai-catalog %v); give the worker the same --catalog files",
			ErrCatalogMismatch, c.Version, cat.Version(), paths, c.NoEmbedded)
	}
	return detect.New(cat, c.detectOptions())
}

// scanKey derives the cluster-wide key of a stored scan. It is stable
// across coordinator restarts (it depends only on the scan record) and
// differs between stores with overwhelming probability.
func scanKey(scanID int64, fingerprint string, started time.Time) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%d|%s|%d", scanID, fingerprint, started.UnixMicro()))
	return hex.EncodeToString(h[:8])
}

// dataFields marshals every exported field of the struct *v whose type is
// not a function, interface or channel, by Go field name. Zero-valued
// fields are included, so the receiver reproduces the value exactly.
func dataFields(v any) (map[string]json.RawMessage, error) {
	rv := reflect.ValueOf(v).Elem()
	out := map[string]json.RawMessage{}
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		if !f.IsExported() || !isData(f.Type) {
			continue
		}
		b, err := json.Marshal(rv.Field(i).Interface())
		if err != nil {
			return nil, fmt.Errorf("cluster: option %s: %w", f.Name, err)
		}
		out[f.Name] = b
	}
	return out, nil
}

// setDataFields is the inverse of dataFields. A field this binary does not
// know is an error unless its value is the JSON of a zero value, so a
// worker older than the coordinator never silently ignores an option.
func setDataFields(dst any, m map[string]json.RawMessage) error {
	rv := reflect.ValueOf(dst).Elem()
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		raw := m[name]
		f, ok := rv.Type().FieldByName(name)
		if !ok || !f.IsExported() || !isData(f.Type) || len(f.Index) != 1 {
			if isZeroJSON(raw) {
				continue
			}
			return fmt.Errorf("cluster: this worker does not know option %s=%s of %s; upgrade it", name, raw, rv.Type())
		}
		p := reflect.New(f.Type)
		if err := json.Unmarshal(raw, p.Interface()); err != nil {
			return fmt.Errorf("cluster: option %s: %w", name, err)
		}
		rv.FieldByIndex(f.Index).Set(p.Elem())
	}
	return nil
}

func isData(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Func, reflect.Interface, reflect.Chan, reflect.UnsafePointer:
		return false
	}
	return true
}

func isZeroJSON(raw json.RawMessage) bool {
	switch string(raw) {
	case "null", "0", "false", `""`, "[]", "{}":
		return true
	}
	return false
}

// newScanConfig builds the configuration workers receive.
func newScanConfig(key string, scanID int64, cat CatalogSpec, fo fetch.Options, dc dns.Config, po probe.Options, s Settings) (ScanConfig, error) {
	f, err := dataFields(&fo)
	if err != nil {
		return ScanConfig{}, err
	}
	d, err := dataFields(&dc)
	if err != nil {
		return ScanConfig{}, err
	}
	p, err := dataFields(&po)
	if err != nil {
		return ScanConfig{}, err
	}
	return ScanConfig{
		Version: WireVersion, Key: key, ScanID: scanID, Catalog: cat, Fetch: f, DNS: d, Probe: p,
		Heartbeat: s.Heartbeat, MaxAttempts: s.MaxAttempts, NakDelay: s.NakDelay,
	}, nil
}

// options rebuilds the fetch, DNS and probe options a worker scans with.
func (c *ScanConfig) options() (fetch.Options, dns.Config, probe.Options, error) {
	fo := fetch.DefaultOptions()
	var dc dns.Config
	var po probe.Options
	for _, x := range []struct {
		dst any
		m   map[string]json.RawMessage
	}{{&fo, c.Fetch}, {&dc, c.DNS}, {&po, c.Probe}} {
		if err := setDataFields(x.dst, x.m); err != nil {
			return fo, dc, po, err
		}
	}
	return fo, dc, po, nil
}

// decodeScanConfig parses a KV entry and checks it.
func decodeScanConfig(b []byte) (ScanConfig, error) {
	var c ScanConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("cluster: scan config: %w", err)
	}
	switch {
	case c.Version > WireVersion || c.Version < 1:
		return c, fmt.Errorf("cluster: scan %s: %w: configuration version %d (this aicensus reads %d); upgrade the worker", c.Key, ErrUnsupportedUnit, c.Version, WireVersion)
	case !validKey(c.Key) || c.ScanID <= 0:
		return c, fmt.Errorf("cluster: scan config: malformed key %q or scan id %d", c.Key, c.ScanID)
	case c.Heartbeat <= 0 || c.MaxAttempts <= 0:
		return c, fmt.Errorf("cluster: scan %s: heartbeat %s, max attempts %d", c.Key, c.Heartbeat, c.MaxAttempts)
	case c.Kind != "" && c.Kind != store.KindLive && c.Kind != store.KindWARC:
		return c, fmt.Errorf("cluster: scan %s: %w: kind %q; upgrade the worker", c.Key, ErrUnsupportedUnit, c.Kind)
	case c.Kind == store.KindWARC && c.Archive == nil:
		return c, fmt.Errorf("cluster: scan %s: archive scan without archive settings", c.Key)
	}
	return c, nil
}
