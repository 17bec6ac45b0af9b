package warc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/aicensus/aicensus/internal/model"
)

// Decoder turns records into Observations: it parses the HTTP response in
// a response record, undoes the chunked transfer coding and the content
// codings (gzip, x-gzip, deflate, br, zstd) up to the record's body cap
// (Options.MaxBodyBytes of the Reader that read it), and parses dns:
// records. It keeps decompressor state between calls, so give each worker
// goroutine its own Decoder. The zero value is ready to use; a Decoder is
// not safe for concurrent use.
type Decoder struct {
	gz   gzip.Reader
	br   *brotli.Reader
	rd   bytes.Reader
	bufs [2][]byte // decoded bodies, reused: see Decode
	next int       // index of the buffer the next decoding step writes
}

// Decode is a convenience for new(Decoder).Decode(r).
func (r *Record) Decode() (*model.Observation, error) {
	var d Decoder
	return d.Decode(r)
}

// Decode returns what rec shows of a host:
//   - a response record with an HTTP payload gives an Observation with
//     URL (the target URI), Host (lowercase, no port), StatusCode, Headers
//     (lowercase keys, values in order, Set-Cookie kept), the decoded
//     Body, Time (WARC-Date) and Ref (Record.Ref);
//   - a response record for a dns: URI gives an Observation with Host
//     and DNS only;
//   - every other record (request, revisit, metadata, resource,
//     warcinfo, conversion, or one whose block was not kept) gives
//     (nil, nil): it carries nothing to detect on, on purpose.
//
// Problems come back as a *Problem. With a nil Observation the record is
// unusable (KindNonHTTPPayload, KindBadHTTP, KindBadDNS). With a non-nil
// Observation the problem was survived and the Observation is usable:
// KindDecodeError (the body is decoded as far as possible), KindBodyTruncated
// (the body is cut at the cap), or KindBadDNS (some dns lines skipped).
//
// Body shares memory with rec.Block (when no coding had to be undone) or
// with d's buffers, which the next call of d.Decode reuses: a caller that
// keeps Body beyond that, or beyond releasing rec, must copy it.
func (d *Decoder) Decode(rec *Record) (*model.Observation, error) {
	if rec.Type != TypeResponse || rec.Block == nil {
		return nil, nil
	}
	fail := func(k Kind, err error) error {
		return &Problem{Kind: k, File: rec.File, Offset: rec.Offset, Err: fmt.Errorf("%s: %w", rec.TargetURI, err)}
	}
	if isDNS(rec) {
		recs, err := ParseDNS(rec.Block)
		if len(recs) == 0 {
			if err == nil {
				err = errors.New("no resource records")
			}
			return nil, fail(KindBadDNS, err)
		}
		obs := &model.Observation{Host: hostOf(rec.TargetURI), DNS: recs, Time: rec.Date, Ref: rec.Ref()}
		if err != nil {
			return obs, fail(KindBadDNS, err)
		}
		return obs, nil
	}
	status, headers, body, kind, err := parseHTTP(rec.Block)
	if kind != "" {
		return nil, fail(kind, err)
	}
	maxBody := rec.maxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	body, kind, err = d.decodeBody(headers, body, maxBody)
	obs := &model.Observation{
		URL:        rec.TargetURI,
		Host:       hostOf(rec.TargetURI),
		StatusCode: status,
		Headers:    headers,
		Body:       body,
		Time:       rec.Date,
		Ref:        rec.Ref(),
	}
	if kind != "" {
		return obs, fail(kind, err)
	}
	return obs, nil
}

func isDNS(rec *Record) bool {
	return strings.HasPrefix(strings.ToLower(rec.TargetURI), "dns:") ||
		strings.HasPrefix(strings.ToLower(rec.ContentType), "text/dns")
}

// hostOf returns the lowercase host of a URI without port; for "dns:name"
// the name.
func hostOf(uri string) string {
	if rest, ok := strings.CutPrefix(uri, "dns:"); ok {
		return strings.TrimSuffix(strings.ToLower(rest), ".")
	}
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
}

// parseHTTP splits an HTTP response message into status, headers (keys
// lowercased) and the raw body. It is lenient the way browsers are: bare
// LF line ends, folded lines, header lines without a colon (skipped) and a
// message that ends inside the header section (empty body) are accepted.
func parseHTTP(b []byte) (int, map[string][]string, []byte, Kind, error) {
	b = bytes.TrimLeft(b, "\r\n")
	if !bytes.HasPrefix(b, []byte("HTTP/")) {
		return 0, nil, nil, KindNonHTTPPayload, fmt.Errorf("block starts %.20q", b)
	}
	line, rest := cutLine(b)
	_, after, _ := bytes.Cut(line, []byte(" "))
	code := after
	if i := bytes.IndexByte(after, ' '); i >= 0 {
		code = after[:i]
	}
	status, err := strconv.Atoi(string(code))
	if err != nil || len(code) != 3 || status < 100 {
		return 0, nil, nil, KindBadHTTP, fmt.Errorf("status line %.60q", line)
	}
	headers := make(map[string][]string, 16)
	var last string
	for len(rest) > 0 {
		line, rest = cutLine(rest)
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if vs := headers[last]; len(vs) > 0 {
				vs[len(vs)-1] += " " + string(bytes.TrimSpace(line))
			}
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		name = bytes.TrimSpace(name)
		if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
			continue
		}
		last = lowerKey(name)
		headers[last] = append(headers[last], string(bytes.TrimSpace(value)))
	}
	return status, headers, rest, "", nil
}

// lowerKey returns name with ASCII letters lowercased; other bytes are
// kept as they are.
func lowerKey(name []byte) string {
	b := []byte(string(name))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// cutLine returns the line at the start of b without its line end, and
// the rest after it.
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.TrimSuffix(b, []byte("\r")), nil
	}
	return bytes.TrimSuffix(b[:i], []byte("\r")), b[i+1:]
}

// decodeBody undoes chunked transfer coding and then the content codings.
func (d *Decoder) decodeBody(h map[string][]string, body []byte, max int64) ([]byte, Kind, error) {
	var kind Kind
	var cause error
	note := func(k Kind, err error) {
		if kind == "" || kind == KindBodyTruncated {
			kind, cause = k, err
		}
	}
	if hasToken(h["transfer-encoding"], "chunked") && looksChunked(body) {
		d.rd.Reset(body)
		out, err := d.readCapped(httputil.NewChunkedReader(&d.rd), max, len(body))
		switch {
		case errors.Is(err, errCapped):
			note(KindBodyTruncated, err)
		case err != nil:
			note(KindDecodeError, fmt.Errorf("chunked: %w", err))
		}
		body = out
	}
	codings := tokens(h["content-encoding"])
	for i := len(codings) - 1; i >= 0; i-- {
		out, err := d.undo(codings[i], body, max)
		switch {
		case err == errNotEncoded:
			// The bytes were stored decoded under a stale header.
			return body, kind, cause
		case errors.Is(err, errCapped):
			note(KindBodyTruncated, err)
		case err != nil && len(out) == 0:
			if !looksLikeText(body) {
				note(KindDecodeError, fmt.Errorf("content-encoding %s: %w", codings[i], err))
			}
			return body, kind, cause
		case err != nil:
			note(KindDecodeError, fmt.Errorf("content-encoding %s: %w", codings[i], err))
		}
		body = out
	}
	if int64(len(body)) > max {
		note(KindBodyTruncated, fmt.Errorf("body of %d bytes: %w", len(body), errCapped))
		body = body[:max]
	}
	return body, kind, cause
}

var (
	errCapped     = errors.New("decoded body exceeds the cap")
	errNotEncoded = errors.New("body does not carry its content coding")
)

// undo removes one content coding. Unknown codings ("identity", "none",
// bogus values) leave the body as it is.
func (d *Decoder) undo(coding string, body []byte, max int64) ([]byte, error) {
	d.rd.Reset(body)
	switch coding {
	case "gzip", "x-gzip":
		if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
			return nil, errNotEncoded
		}
		if err := d.gz.Reset(&d.rd); err != nil {
			return nil, err
		}
		return d.readCapped(&d.gz, max, 4*len(body))
	case "deflate":
		var r io.ReadCloser
		if len(body) >= 2 && body[0]&0x0f == 8 && (uint16(body[0])<<8|uint16(body[1]))%31 == 0 {
			zr, err := zlib.NewReader(&d.rd)
			if err != nil {
				return nil, err
			}
			r = zr
		} else {
			r = flate.NewReader(&d.rd)
		}
		defer r.Close()
		return d.readCapped(r, max, 4*len(body))
	case "br":
		if d.br == nil {
			d.br = brotli.NewReader(&d.rd)
		} else if err := d.br.Reset(&d.rd); err != nil {
			return nil, err
		}
		return d.readCapped(d.br, max, 4*len(body))
	case "zstd":
		if len(body) < 4 || string(body[:4]) != "\x28\xb5\x2f\xfd" {
			return nil, errNotEncoded
		}
		zr, err := zstd.NewReader(&d.rd, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(max)+1<<20))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		return d.readCapped(zr, max, 4*len(body))
	}
	return body, nil
}

// readCapped reads r to its end or to max bytes into the next of d's two
// buffers (the other may hold r's input). Past max it returns the first
// max bytes and errCapped; on a read error it returns what was read and
// the error.
func (d *Decoder) readCapped(r io.Reader, max int64, hint int) (out []byte, err error) {
	i := d.next
	d.next = 1 - i
	buf := d.bufs[i][:0]
	defer func() { d.bufs[i] = out[:0] }()
	if int64(cap(buf)) < min(int64(hint)+512, max+1) {
		buf = make([]byte, 0, min(int64(hint)+512, max+1))
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(int64(cap(buf)), max+1)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > max {
			return buf[:max], errCapped
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// looksChunked reports whether body starts with a chunk-size line, so that
// bodies stored already de-chunked under a stale Transfer-Encoding header
// are used as they are.
func looksChunked(b []byte) bool {
	n := 0
	for n < len(b) && n < 16 && isHex(b[n]) {
		n++
	}
	if n == 0 || n == len(b) {
		return false
	}
	switch b[n] {
	case '\r', '\n', ';', ' ', '\t':
		return true
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// looksLikeText reports whether the first bytes of b are free of the
// control characters that compressed data is full of.
func looksLikeText(b []byte) bool {
	b = b[:min(len(b), 512)]
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' {
			return false
		}
	}
	return true
}

// tokens splits comma-separated header values into lowercase tokens.
func tokens(vals []string) []string {
	var out []string
	for _, v := range vals {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

func hasToken(vals []string, tok string) bool {
	for _, t := range tokens(vals) {
		if t == tok {
			return true
		}
	}
	return false
}
