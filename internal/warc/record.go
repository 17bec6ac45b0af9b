package warc

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Record types (WARC-Type values).
const (
	TypeWarcinfo     = "warcinfo"
	TypeResponse     = "response"
	TypeResource     = "resource"
	TypeRequest      = "request"
	TypeMetadata     = "metadata"
	TypeRevisit      = "revisit"
	TypeConversion   = "conversion"
	TypeContinuation = "continuation"
)

// Defaults for Options.
const (
	DefaultMaxRecordBytes = 8 << 20
	DefaultMaxBodyBytes   = 8 << 20
	DefaultRetries        = 5
	DefaultIdleTimeout    = time.Minute
)

// Options configure reading. The zero value means the defaults. An
// Options value is read, never modified, and may be shared by any number
// of readers and goroutines.
type Options struct {
	// MaxRecordBytes caps the record block held in memory. A block larger
	// than this is skipped while streaming (never buffered) and counted as
	// KindOversizedRecord. Default DefaultMaxRecordBytes (8 MiB).
	MaxRecordBytes int64
	// MaxBodyBytes caps a decoded HTTP body (after the chunked and content
	// codings are undone); longer bodies are cut and counted as
	// KindBodyTruncated. Default DefaultMaxBodyBytes (8 MiB).
	MaxBodyBytes int64
	// KeepBlock says for which record types the block is read into
	// Record.Block; the blocks of other types are skipped while streaming.
	// Nil keeps "response", "revisit" and "resource" blocks.
	KeepBlock func(recordType string) bool
	// HTTPClient fetches remote sources and remote paths lists. Nil means
	// a client with no overall timeout (archives are large) and the
	// default transport.
	HTTPClient *http.Client
	// Retries is how many times a remote read that failed mid-body is
	// resumed with a Range request before the source ends with
	// KindReadError. The budget is refilled whenever a retry makes
	// progress. 0 means DefaultRetries; negative means no retry.
	Retries int
	// IdleTimeout is how long a remote read may go without receiving a
	// byte (or a response) before the connection is treated as dropped
	// and resumed with a Range request. 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Stdin is what the "-" source reads. Nil means os.Stdin.
	Stdin io.Reader
	// OnProblem, if set, is called once for every problem counted, from
	// the goroutine that found it (in a Scan: several goroutines at once,
	// so it must be safe for concurrent use). It must not block for long.
	OnProblem func(*Problem)

	pool *blockPool // set by Scan: blocks are recycled after the handler
}

func (o Options) maxRecord() int64 {
	if o.MaxRecordBytes > 0 {
		return o.MaxRecordBytes
	}
	return DefaultMaxRecordBytes
}

func (o Options) maxBody() int64 {
	if o.MaxBodyBytes > 0 {
		return o.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

func (o Options) keep(typ string) bool {
	if o.KeepBlock != nil {
		return o.KeepBlock(typ)
	}
	return typ == TypeResponse || typ == TypeRevisit || typ == TypeResource
}

func (o Options) idle() time.Duration {
	if o.IdleTimeout > 0 {
		return o.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (o Options) retries() int {
	switch {
	case o.Retries < 0:
		return 0
	case o.Retries == 0:
		return DefaultRetries
	}
	return o.Retries
}

// Field is one WARC named field as it appeared in the record header.
type Field struct {
	Name  string
	Value string
}

// Record is one WARC (or ARC) record: its named fields, where it was read
// from and, for the types Options.KeepBlock selects, its block.
//
// A Record is immutable after Reader.Next returns it and may be handed to
// another goroutine; Decode may be called from any goroutine, once or
// several times. The Record owns Block; the Observation that Decode
// returns may share Block's bytes.
type Record struct {
	// Type is WARC-Type, e.g. "response"; ARC records are "warcinfo"
	// (the filedesc record) or "response".
	Type string
	// ID is WARC-Record-ID with its angle brackets, e.g.
	// "<urn:uuid:...>"; "" for ARC records.
	ID string
	// TargetURI is WARC-Target-URI without surrounding angle brackets.
	TargetURI string
	// Date is WARC-Date (zero when missing or unparsable).
	Date time.Time
	// ContentType is the record's Content-Type, e.g.
	// "application/http; msgtype=response" or "text/dns".
	ContentType string
	// Length is the block length from Content-Length.
	Length int64
	// Header holds every named field in order of appearance.
	Header []Field
	// Block is the record block (HTTP message, DNS text, ...), exactly
	// Length bytes; nil when Options.KeepBlock skipped it.
	Block []byte
	// File is the Source.Name the record was read from.
	File string
	// Offset is where the record starts in File: for gzip input the
	// offset of the gzip member holding it (the place to resume from),
	// for uncompressed input the offset of its "WARC/" line. Records that
	// share one gzip member (a whole-file gzip) share its offset.
	Offset int64
	// Version is the version line, e.g. "WARC/1.0", or "ARC" for ARC
	// records.
	Version string

	maxBody int64
}

// Get returns the value of the first named field called name (compared
// case-insensitively), or "".
func (r *Record) Get(name string) string {
	for _, f := range r.Header {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Ref names the record for evidence and logs: "file@offset <record-id>",
// or "file@offset" when the record has no ID (ARC).
func (r *Record) Ref() string {
	if r.ID == "" {
		return fmt.Sprintf("%s@%d", r.File, r.Offset)
	}
	return fmt.Sprintf("%s@%d %s", r.File, r.Offset, r.ID)
}

// RefersTo returns WARC-Refers-To (the record ID a revisit points at), or "".
func (r *Record) RefersTo() string { return r.Get("WARC-Refers-To") }

// RefersToTargetURI returns WARC-Refers-To-Target-URI, or "".
func (r *Record) RefersToTargetURI() string {
	return strings.Trim(r.Get("WARC-Refers-To-Target-URI"), "<>")
}

// RefersToDate returns WARC-Refers-To-Date (zero when absent or invalid).
func (r *Record) RefersToDate() time.Time { return parseWARCDate(r.Get("WARC-Refers-To-Date")) }

// setField records one named field, filling the typed fields it feeds.
func (r *Record) setField(name, value string) {
	r.Header = append(r.Header, Field{Name: name, Value: value})
	switch {
	case strings.EqualFold(name, "WARC-Type"):
		r.Type = strings.ToLower(value)
	case strings.EqualFold(name, "WARC-Record-ID"):
		r.ID = value
	case strings.EqualFold(name, "WARC-Target-URI"):
		r.TargetURI = strings.Trim(value, "<>")
	case strings.EqualFold(name, "WARC-Date"):
		r.Date = parseWARCDate(value)
	case strings.EqualFold(name, "Content-Type"):
		r.ContentType = value
	}
}

// parseWARCDate parses a W3C-DTF date as WARC writes it (seconds or finer,
// UTC "Z" or an offset), and the 14-digit form of ARC and dns: records.
func parseWARCDate(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	if t, err := time.Parse("20060102150405", s); err == nil {
		return t
	}
	return time.Time{}
}
