package warc

import (
	"fmt"
	"maps"
	"slices"
)

// Kind names a class of broken input. Problems are data: the reader counts
// them by Kind, skips the damaged part and goes on. The values are stable
// strings that scan summaries print; add kinds, never rename them.
type Kind string

// The problem kinds.
const (
	// KindTruncatedGzip: the input ended inside a gzip member (before its
	// trailer). The source ends there.
	KindTruncatedGzip Kind = "truncated-gzip"
	// KindCorruptGzip: a gzip member has a bad header, bad deflate data or
	// a checksum mismatch. The reader resyncs to the next gzip member.
	KindCorruptGzip Kind = "corrupt-gzip"
	// KindBadWARCHeader: a record does not start with a "WARC/" version
	// line, a header line is malformed or too long, or Content-Length is
	// missing or invalid. The reader resyncs to the next "WARC/" line (or
	// the next gzip member).
	KindBadWARCHeader Kind = "bad-warc-header"
	// KindTruncatedRecord: an uncompressed input (or a gzip member) ended
	// before the Content-Length bytes of a record block.
	KindTruncatedRecord Kind = "truncated-record"
	// KindOversizedRecord: a record block is larger than
	// Options.MaxRecordBytes; it is skipped without being held in memory.
	KindOversizedRecord Kind = "oversized-record"
	// KindNonHTTPPayload: a response record whose block is not an HTTP
	// response (and not a dns: record).
	KindNonHTTPPayload Kind = "non-http-payload"
	// KindBadHTTP: the HTTP status line or header section is malformed.
	KindBadHTTP Kind = "bad-http"
	// KindDecodeError: the chunked transfer coding or a content coding
	// could not be undone; the observation keeps the bytes as far as they
	// could be decoded (the raw bytes when nothing could).
	KindDecodeError Kind = "decode-error"
	// KindBodyTruncated: the decoded body reached Options.MaxBodyBytes and
	// was cut there; the observation keeps the first MaxBodyBytes bytes.
	KindBodyTruncated Kind = "body-truncated"
	// KindBadDNS: a dns: record holds no parsable resource record line.
	KindBadDNS Kind = "bad-dns"
	// KindOpenError: a source could not be opened (missing file, HTTP
	// error status). The source is skipped.
	KindOpenError Kind = "open-error"
	// KindReadError: reading a source failed for a reason other than its
	// format (I/O error, a remote source that kept failing after its
	// retries). The source ends there.
	KindReadError Kind = "read-error"
)

// Kinds lists every Kind in the order summaries print them.
func Kinds() []Kind {
	return []Kind{
		KindTruncatedGzip, KindCorruptGzip, KindBadWARCHeader, KindTruncatedRecord,
		KindOversizedRecord, KindNonHTTPPayload, KindBadHTTP, KindDecodeError,
		KindBodyTruncated, KindBadDNS, KindOpenError, KindReadError,
	}
}

// Problem is one piece of broken input: what kind, where, and the
// underlying error. *Problem implements error; use errors.As to get it
// back from an error returned by this package.
type Problem struct {
	Kind   Kind
	File   string // Source.Name
	Offset int64  // offset of the record (gzip member) the problem belongs to, or where it was seen
	Err    error  // underlying cause; may be nil
}

// Error implements error.
func (p *Problem) Error() string {
	if p.Err == nil {
		return fmt.Sprintf("%s at %s@%d", p.Kind, p.File, p.Offset)
	}
	return fmt.Sprintf("%s at %s@%d: %v", p.Kind, p.File, p.Offset, p.Err)
}

// Unwrap returns the underlying cause.
func (p *Problem) Unwrap() error { return p.Err }

// Stats counts what a reader (or a whole Scan) saw. The zero value is
// ready to use. A Stats is not safe for concurrent use; Scan merges the
// per-source values itself.
type Stats struct {
	// Records counts records read by WARC-Type ("warcinfo", "response",
	// "request", "metadata", "revisit", "resource", "conversion", ...).
	// ARC records count as "warcinfo" (the filedesc record) or "response".
	// Records skipped as damaged or oversized are not counted here.
	Records map[string]int64
	// Problems counts broken input by kind.
	Problems map[Kind]int64
	// Bytes is the number of input bytes consumed (compressed bytes for
	// gzip input), from the start offset.
	Bytes int64
	// Sources is the number of sources that were read to their end (or to
	// a problem that ended them); Scan sets it.
	Sources int64
}

// Add adds o's counts into s.
func (s *Stats) Add(o Stats) {
	for k, v := range o.Records {
		s.countRecord(k, v)
	}
	for k, v := range o.Problems {
		s.countProblem(k, v)
	}
	s.Bytes += o.Bytes
	s.Sources += o.Sources
}

// RecordTotal returns the number of records counted, all types together.
func (s Stats) RecordTotal() int64 {
	var n int64
	for _, v := range s.Records {
		n += v
	}
	return n
}

// ProblemTotal returns the number of problems counted, all kinds together.
func (s Stats) ProblemTotal() int64 {
	var n int64
	for _, v := range s.Problems {
		n += v
	}
	return n
}

// String renders s on one line, record types and problem kinds in a fixed
// order, e.g. "1442 response, 1442 request; 0 problems; 22.1 MB".
func (s Stats) String() string {
	out := ""
	for i, k := range slices.Sorted(maps.Keys(s.Records)) {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%d %s", s.Records[k], k)
	}
	if out == "" {
		out = "0 records"
	}
	if s.ProblemTotal() == 0 {
		out += "; 0 problems"
	} else {
		sep := "; "
		for _, k := range Kinds() {
			if n := s.Problems[k]; n > 0 {
				out += fmt.Sprintf("%s%d %s", sep, n, k)
				sep = ", "
			}
		}
	}
	return out + fmt.Sprintf("; %.1f MB", float64(s.Bytes)/1e6)
}

func (s *Stats) countRecord(typ string, n int64) {
	if s.Records == nil {
		s.Records = make(map[string]int64)
	}
	s.Records[typ] += n
}

func (s *Stats) countProblem(k Kind, n int64) {
	if s.Problems == nil {
		s.Problems = make(map[Kind]int64)
	}
	s.Problems[k] += n
}
