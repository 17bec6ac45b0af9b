package warctest

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Record is a record to write. Zero fields get defaults: Type "response",
// Date 2024-05-18T01:58:10Z, ID a deterministic "<urn:uuid:...>" from the record
// number, ContentType from Type ("application/http; msgtype=response" for
// response and revisit, "application/http; msgtype=request" for request,
// "application/warc-fields" for warcinfo and metadata).
type Record struct {
	Type        string
	TargetURI   string
	Date        time.Time
	ID          string
	ContentType string
	// Fields are extra named fields, written in order after the standard
	// ones, e.g. {"WARC-Refers-To", "<urn:uuid:...>"}.
	Fields [][2]string
	Block  []byte
}

// Writer writes WARC records to an io.Writer. It is not safe for
// concurrent use.
type Writer struct {
	w    io.Writer
	gz   *gzip.Writer
	buf  bytes.Buffer
	off  int64
	n    int
	zip  bool
	errw error
}

// NewWriter returns a Writer. With gzipPerRecord each record is its own
// gzip member (the standard .warc.gz layout); otherwise records are
// written uncompressed.
func NewWriter(w io.Writer, gzipPerRecord bool) *Writer {
	wr := &Writer{w: w, zip: gzipPerRecord}
	if gzipPerRecord {
		wr.gz = gzip.NewWriter(io.Discard)
	}
	return wr
}

// Offset returns the number of bytes written so far: the offset the next
// record will start at.
func (w *Writer) Offset() int64 { return w.off }

// Count returns the number of records written.
func (w *Writer) Count() int { return w.n }

// Write writes one record and returns the offset it starts at.
func (w *Writer) Write(r Record) (int64, error) {
	w.n++
	if r.Type == "" {
		r.Type = "response"
	}
	if r.Date.IsZero() {
		r.Date = time.Date(2024, 5, 18, 1, 58, 10, 0, time.UTC)
	}
	if r.ID == "" {
		r.ID = fmt.Sprintf("<urn:uuid:00000000-0000-4000-8000-%012x>", w.n)
	}
	if r.ContentType == "" {
		r.ContentType = defaultContentType(r.Type)
	}
	var h strings.Builder
	h.WriteString("WARC/1.1\r\n")
	field := func(k, v string) {
		if v != "" {
			h.WriteString(k + ": " + v + "\r\n")
		}
	}
	field("WARC-Type", r.Type)
	field("WARC-Record-ID", r.ID)
	field("WARC-Date", r.Date.UTC().Format(time.RFC3339))
	field("WARC-Target-URI", r.TargetURI)
	field("Content-Type", r.ContentType)
	for _, f := range r.Fields {
		field(f[0], f[1])
	}
	field("Content-Length", strconv.Itoa(len(r.Block)))
	h.WriteString("\r\n")
	w.buf.Reset()
	w.buf.WriteString(h.String())
	w.buf.Write(r.Block)
	w.buf.WriteString("\r\n\r\n")
	return w.writeMember(w.buf.Bytes())
}

// WriteRaw writes b as it is (compressed as one member when the Writer
// gzips): for broken records, ARC records or foreign layouts. It returns
// the offset b starts at.
func (w *Writer) WriteRaw(b []byte) (int64, error) { return w.writeMember(b) }

func (w *Writer) writeMember(b []byte) (int64, error) {
	start := w.off
	if !w.zip {
		n, err := w.w.Write(b)
		w.off += int64(n)
		return start, err
	}
	cw := &countWriter{w: w.w}
	w.gz.Reset(cw)
	if _, err := w.gz.Write(b); err != nil {
		return start, err
	}
	err := w.gz.Close()
	w.off += cw.n
	return start, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func defaultContentType(typ string) string {
	switch typ {
	case "response", "revisit":
		return "application/http; msgtype=response"
	case "request":
		return "application/http; msgtype=request"
	case "warcinfo", "metadata":
		return "application/warc-fields"
	}
	return "application/octet-stream"
}

// HTTPResponse builds an HTTP/1.1 response message. headers are
// "Name: value" lines; no Content-Length is added.
func HTTPResponse(status int, headers []string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, statusText(status))
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 404:
		return "Not Found"
	}
	return "Status"
}

// Response returns a response record for uri with an HTTP message built
// by HTTPResponse.
func Response(uri string, status int, headers []string, body []byte) Record {
	return Record{Type: "response", TargetURI: uri, Block: HTTPResponse(status, headers, body)}
}

// Chunked encodes body with the chunked transfer coding in chunks of size
// bytes (the whole body in one chunk when size <= 0).
func Chunked(body []byte, size int) []byte {
	var b bytes.Buffer
	if size <= 0 {
		size = max(len(body), 1)
	}
	for len(body) > 0 {
		n := min(size, len(body))
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(body[:n])
		b.WriteString("\r\n")
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

// Gzip compresses b into one gzip member.
func Gzip(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return out.Bytes()
}

// DNSBlock builds the block of a dns: response record as Heritrix writes
// it: the fetch time as 14 digits, then one resource record a line.
func DNSBlock(t time.Time, records ...string) []byte {
	return []byte(t.UTC().Format("20060102150405") + "\n" + strings.Join(records, "\n") + "\n")
}

// DNS returns a dns: response record for name.
func DNS(name string, t time.Time, records ...string) Record {
	return Record{Type: "response", TargetURI: "dns:" + name, Date: t, ContentType: "text/dns", Block: DNSBlock(t, records...)}
}
