package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aicensus/aicensus/internal/pipeline"
)

// WireVersion is the version of the unit, results and scan configuration
// formats. A worker refuses scans whose configuration has a newer version.
const WireVersion = 1

// UnitKind says what a unit holds.
type UnitKind string

// The unit kinds.
const (
	// KindDomains is a batch of input lines of a live scan (Unit.Items).
	KindDomains UnitKind = "domains"
	// KindWARC is one web archive file of an archive scan (Unit.WARC),
	// published by ScanArchive and read by workers with scan.ReadPages.
	KindWARC UnitKind = "warc"
)

// Unit is one message of the units stream: the work one worker does at a
// time, acked as a whole.
type Unit struct {
	Version int      `json:"v"`
	Kind    UnitKind `json:"kind"`
	// ID is unique within the cluster: "<scan key>.<unit size>.<index>"
	// (domains) or "<scan key>.warc.<source index>" (warc), stable across
	// coordinator restarts, and the unit's Nats-Msg-Id.
	ID string `json:"id"`
	// Scan is the scan key (ScanConfig.Key).
	Scan string `json:"scan"`
	// Items are the input lines of a KindDomains unit.
	Items []Item `json:"items,omitempty"`
	// WARC is the archive file of a KindWARC unit.
	WARC *WARCFile `json:"warc,omitempty"`
}

// Item is one input line of a unit, as the input reader produced it.
type Item struct {
	Line   int    `json:"l"`
	Raw    string `json:"r,omitempty"`
	Host   string `json:"h,omitempty"`
	Domain string `json:"d,omitempty"`
	// Err is why the line is not a valid target ("" for a valid one); it
	// becomes the invalid-input result's error.
	Err string `json:"e,omitempty"`
}

// WARCFile names one archive file of a KindWARC unit.
type WARCFile struct {
	// Source is a local path or an http(s) URL every worker can read; it
	// is also the source's name in the store (checkpoints, record refs).
	Source string `json:"source"`
	// Offset is where to start reading (0: the start): the source's
	// checkpoint when the unit was published.
	Offset int64 `json:"offset,omitempty"`
}

// ErrUnsupportedUnit means a worker cannot run a unit of this kind or
// version.
var ErrUnsupportedUnit = errors.New("unsupported unit")

// itemOf converts a pipeline item for the wire.
func itemOf(it pipeline.Item) Item {
	out := Item{Line: it.Line, Raw: it.Raw, Host: it.Host, Domain: it.Domain}
	if it.Err != nil {
		out.Err = it.Err.Error()
		if out.Err == "" {
			out.Err = "invalid input"
		}
	}
	return out
}

// pipelineItem converts a wire item back.
func (it Item) pipelineItem() pipeline.Item {
	out := pipeline.Item{Line: it.Line, Raw: it.Raw, Host: it.Host, Domain: it.Domain}
	if it.Err != "" {
		out.Err = errors.New(it.Err)
	}
	return out
}

// unitID builds a unit id; the unit size is part of it so that a scan
// resumed with another size never reuses an id for other lines.
func unitID(key string, size, index int) string {
	return fmt.Sprintf("%s.%d.%d", key, size, index)
}

// encodeUnit marshals a unit.
func encodeUnit(u *Unit) ([]byte, error) {
	b, err := json.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("encode unit %s: %w", u.ID, err)
	}
	return b, nil
}

// decodeUnit parses and checks a unit message. The bytes come from the
// network: every field is validated before use.
func decodeUnit(b []byte) (*Unit, error) {
	var u Unit
	if err := json.Unmarshal(b, &u); err != nil {
		return nil, fmt.Errorf("decode unit: %w", err)
	}
	if u.Version > WireVersion || u.Version < 1 {
		return &u, fmt.Errorf("unit %q: %w: format version %d (this aicensus reads %d)", u.ID, ErrUnsupportedUnit, u.Version, WireVersion)
	}
	if u.ID == "" || !validKey(u.Scan) || !strings.HasPrefix(u.ID, u.Scan+".") {
		return &u, fmt.Errorf("unit %q of scan %q: malformed id", u.ID, u.Scan)
	}
	switch u.Kind {
	case KindDomains:
		for i, it := range u.Items {
			if it.Line < 1 {
				return &u, fmt.Errorf("unit %s item %d: line %d", u.ID, i, it.Line)
			}
			if it.Err == "" && it.Host == "" {
				return &u, fmt.Errorf("unit %s line %d: valid item without host", u.ID, it.Line)
			}
		}
	case KindWARC:
		if u.WARC == nil || u.WARC.Source == "" {
			return &u, fmt.Errorf("unit %s: warc unit without source", u.ID)
		}
	default:
		return &u, fmt.Errorf("unit %q: %w: kind %q", u.ID, ErrUnsupportedUnit, u.Kind)
	}
	return &u, nil
}

// validKey reports whether s is a scan key: 16 lowercase hex digits (safe
// as a subject token and in consumer names).
func validKey(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
