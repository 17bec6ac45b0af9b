package warc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
)

const (
	srcBufSize     = 256 << 10 // compressed (or plain) input buffer
	decBufSize     = 64 << 10  // decompressed member buffer
	maxHeaderLine  = 64 << 10  // longest WARC header line accepted
	maxHeaderBytes = 1 << 20   // largest WARC header section accepted
)

type inputMode int

const (
	modeUnknown inputMode = iota
	modePlain
	modeGzip
)

// Reader reads the records of one source, one at a time, streaming. It
// detects gzip input (one member per record, as WARC writers make them,
// or one member for the whole file) and uncompressed input, WARC 0.17,
// 1.0 and 1.1, and ARC (version 1 and 2) records.
//
// Broken input is not an error: the reader counts it (Stats, OnProblem),
// skips it, resyncs to the next gzip member or "WARC/" line and goes on.
// Memory is bounded by Options.MaxRecordBytes plus about 400 KiB of
// buffers, whatever the size of the archive or of its records.
//
// A Reader is not safe for concurrent use: one goroutine calls Next. The
// Records it returns are independent of the Reader and may be passed to
// other goroutines (see Record).
type Reader struct {
	name   string
	opt    Options
	closer io.Closer

	cnt  *countingReader // raw input, counts bytes and remembers read errors
	src  *bufio.Reader   // over cnt
	base int64           // source offset of cnt's first byte

	mode   inputMode
	arc    bool
	gz     *gzip.Reader
	tap    *errTap       // over gz, remembers how the member ended
	dec    *bufio.Reader // over tap
	member bool          // gzip: a member is open
	mstart int64         // gzip: offset of the open member
	resync int64         // gzip: last offset a resync started from

	line  []byte
	stats Stats
	done  bool
	fatal error

	piece   bool          // reading one piece of a split source: see truncated
	final   bool          // piece: its end is the end of the input
	unsplit int           // splitting: members in a row read inline
	inf     io.ReadCloser // splitting: inflates member starts
	head    []byte        // splitting: their first bytes
	inline  bool          // splitting: the member at the input is read here, not split
	opened  bool          // inline: its member was opened
	sig     []byte
}

// NewReader returns a Reader over r, which must be positioned at offset of
// the source called name (0 for the start; a resume offset must be a
// record or gzip member start that an earlier Record.Offset or
// Reader.Offset reported). Record offsets are reported relative to the
// source, i.e. offset plus what was read from r. If r is an io.Closer,
// Close closes it.
func NewReader(r io.Reader, name string, offset int64, opt Options) *Reader {
	return newReader(r, name, offset, opt, srcBufSize)
}

func newReader(r io.Reader, name string, offset int64, opt Options, bufSize int) *Reader {
	cnt := &countingReader{r: r}
	rd := &Reader{
		name: name,
		opt:  opt,
		cnt:  cnt,
		src:  bufio.NewReaderSize(cnt, bufSize),
		base: offset,
	}
	if c, ok := r.(io.Closer); ok {
		rd.closer = c
	}
	lower := strings.ToLower(name)
	rd.arc = strings.HasSuffix(lower, ".arc") || strings.HasSuffix(lower, ".arc.gz")
	return rd
}

// reset makes r read src from offset as if new, keeping its buffers and
// decompressor.
func (r *Reader) reset(src io.Reader, name string, offset int64) {
	*r = Reader{
		name: name, opt: r.opt, cnt: r.cnt, src: r.src, base: offset,
		gz: r.gz, tap: r.tap, dec: r.dec, line: r.line[:0], piece: r.piece,
		inf: r.inf, head: r.head,
	}
	*r.cnt = countingReader{r: src}
	r.src.Reset(r.cnt)
	if r.tap != nil {
		*r.tap = errTap{}
	}
	lower := strings.ToLower(name)
	r.arc = strings.HasSuffix(lower, ".arc") || strings.HasSuffix(lower, ".arc.gz")
}

// Open opens src at offset (see Source.Open) and returns a Reader over it.
// Close the Reader to release the source.
func Open(ctx context.Context, src Source, offset int64, opt Options) (*Reader, error) {
	rc, err := src.Open(ctx, offset, opt)
	if err != nil {
		return nil, err
	}
	return NewReader(rc, src.Name, offset, opt), nil
}

// Close releases the underlying source if it is an io.Closer.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	c := r.closer
	r.closer = nil
	return c.Close()
}

// Stats returns what the reader counted so far. The maps are copies.
func (r *Reader) Stats() Stats {
	var s Stats
	s.Add(r.stats)
	s.Bytes = r.cnt.n - int64(r.src.Buffered())
	return s
}

// Offset returns the resume point: the source offset where the next record
// not yet returned by Next starts (for gzip input, a member start). After
// Next returned io.EOF it is the end of the input that was read.
func (r *Reader) Offset() int64 {
	if r.mode == modeGzip && r.member {
		return r.mstart
	}
	return r.pos()
}

// Next returns the next record. At the end of the source it returns
// (nil, io.EOF), also when a problem (a truncated gzip member, a truncated
// record) ended the source early; the problem is counted. It returns
// another error only when reading the source itself failed (a *Problem of
// KindReadError, also counted) or when the source's context was cancelled
// (the context's error, not counted); every later call returns the same.
func (r *Reader) Next() (*Record, error) {
	if r.fatal != nil {
		return nil, r.fatal
	}
	if r.done {
		return nil, io.EOF
	}
	if r.mode == modeUnknown {
		if err := r.detect(); err != nil {
			return nil, r.end(err)
		}
	}
	var rec *Record
	var err error
	if r.mode == modeGzip {
		rec, err = r.nextGzip()
	} else {
		rec, err = r.nextPlain()
	}
	if err != nil {
		return nil, r.end(err)
	}
	r.stats.countRecord(rec.Type, 1)
	return rec, nil
}

// end makes err sticky: io.EOF ends the source cleanly, anything else is
// fatal.
func (r *Reader) end(err error) error {
	if err == io.EOF {
		r.done = true
		return err
	}
	r.fatal = err
	return err
}

func (r *Reader) pos() int64 { return r.base + r.cnt.n - int64(r.src.Buffered()) }

// truncated counts a gzip member cut short by the end of the input. In a
// piece of a split source that is not the last, the member was cut short
// by the next one: that is corruption, not truncation.
func (r *Reader) truncated(off int64, err error) {
	k := KindTruncatedGzip
	if r.piece && !r.final {
		k = KindCorruptGzip
	}
	r.problem(k, off, err)
}

func (r *Reader) problem(k Kind, off int64, err error) {
	r.stats.countProblem(k, 1)
	if r.opt.OnProblem == nil {
		return
	}
	r.opt.OnProblem(&Problem{Kind: k, File: r.name, Offset: off, Err: err})
}

// ioFailure returns the fatal error to end the source with when the raw
// input failed (not merely ended), else nil.
func (r *Reader) ioFailure(off int64) error {
	err := r.cnt.err
	if err == nil || err == io.EOF {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	p := &Problem{Kind: KindReadError, File: r.name, Offset: off, Err: err}
	r.problem(KindReadError, off, err)
	return p
}

func (r *Reader) detect() error {
	p, err := r.src.Peek(2)
	if len(p) == 0 {
		if f := r.ioFailure(r.pos()); f != nil {
			return f
		}
		if err != nil {
			return io.EOF
		}
	}
	if len(p) == 2 && p[0] == 0x1f && p[1] == 0x8b {
		r.mode = modeGzip
		if r.gz == nil {
			r.gz = new(gzip.Reader)
			r.tap = &errTap{}
			r.dec = bufio.NewReaderSize(r.tap, decBufSize)
		}
		r.resync = -1
		return nil
	}
	r.mode = modePlain
	return nil
}

// nextPlain reads the next record of uncompressed input.
func (r *Reader) nextPlain() (*Record, error) {
	for {
		_ = skipNewlines(r.src) // a record's offset is that of its "WARC/" line
		off := r.pos()
		rec, kind, err := r.readRecord(r.src, off)
		if kind == "" && err == nil {
			return rec, nil
		}
		if kind == "" && err == io.EOF {
			if f := r.ioFailure(off); f != nil {
				return nil, f
			}
			return nil, io.EOF
		}
		if f := r.ioFailure(off); f != nil {
			return nil, f
		}
		r.problem(kind, off, err)
		switch kind {
		case KindOversizedRecord:
			continue
		case KindBadWARCHeader:
			if r.arc {
				return nil, io.EOF // ARC has no line to resync on
			}
			if err := skipToWARCLine(r.src); err != nil {
				return nil, io.EOF
			}
			continue
		default: // truncated: the input ended
			return nil, io.EOF
		}
	}
}

// nextGzip reads the next record of gzip input.
func (r *Reader) nextGzip() (*Record, error) {
	for {
		if !r.member {
			if r.inline && r.opened {
				return nil, errMemberEnd
			}
			r.opened = true
			if err := r.openMember(); err != nil {
				return nil, err
			}
		}
		rec, kind, err := r.readRecord(r.dec, r.mstart)
		if kind == "" && err == nil {
			if ok, err := r.checkMemberEnd(); err != nil || !ok {
				r.opt.pool.put(rec.Block)
				if err != nil {
					return nil, err
				}
				continue // checksum mismatch: the record's bytes are not trusted
			}
			return rec, nil
		}
		if kind == "" && err == io.EOF {
			r.member = false // clean end of member
			continue
		}
		if kind == KindOversizedRecord {
			r.problem(kind, r.mstart, err)
			continue
		}
		if kind == KindBadWARCHeader && r.tap.err == nil {
			// The member decompresses fine but holds no valid record here:
			// look for a "WARC/" line later in it, else take the next member.
			r.problem(kind, r.mstart, err)
			if skipToWARCLine(r.dec) != nil {
				if err := r.afterMemberError(); err != nil {
					return nil, err
				}
			}
			continue
		}
		cause := err
		if err := r.afterMemberError(); err != nil {
			return nil, err
		}
		if r.tap.err == io.EOF { // the member ended inside the record
			r.problem(kind, r.mstart, cause)
		}
	}
}

// openMember starts the next gzip member, resyncing over garbage.
func (r *Reader) openMember() error {
	for {
		start := r.pos()
		if ok, complete := r.peekHeader(); !ok && complete {
			// Not a member header: count it and look further without
			// consuming it, so a real header inside is not skipped.
			r.problem(KindCorruptGzip, start, gzip.ErrHeader)
			if err := r.resyncGzip(start); err != nil {
				return err
			}
			continue
		}
		err := r.gz.Reset(r.src)
		if err != nil {
			if f := r.ioFailure(start); f != nil {
				return f
			}
		}
		switch {
		case err == nil:
			r.gz.Multistream(false)
			r.tap.r, r.tap.err = r.gz, nil
			r.dec.Reset(r.tap)
			r.member, r.mstart = true, start
			return nil
		case err == io.EOF:
			return io.EOF
		case err == io.ErrUnexpectedEOF:
			r.truncated(start, err)
			return io.EOF
		}
		r.problem(KindCorruptGzip, start, err)
		if err := r.resyncGzip(start); err != nil {
			return err
		}
	}
}

// checkMemberEnd looks past a record just read: if its member ends there,
// this verifies the member's checksum. It reports false when the record
// must be dropped.
func (r *Reader) checkMemberEnd() (bool, error) {
	_, err := r.dec.Peek(1)
	switch {
	case err == nil: // more records in this member
		return true, nil
	case err == io.EOF:
		r.member = false
		return true, nil
	}
	if r.tap.err == io.ErrUnexpectedEOF && r.ioFailure(r.mstart) == nil {
		// The input ended after the record's last byte, before the
		// member's trailer: the record is whole; the source ends after it.
		r.member = false
		r.truncated(r.mstart, r.tap.err)
		r.done = true
		return true, nil
	}
	return false, r.afterMemberError()
}

// afterMemberError classifies how the open member failed (from r.tap),
// counts it and positions the input for the next member. It returns
// io.EOF when the source ends, or a fatal error.
func (r *Reader) afterMemberError() error {
	r.member = false
	if f := r.ioFailure(r.mstart); f != nil {
		return f
	}
	err := r.tap.err
	switch {
	case err == io.EOF:
		return nil // clean end of member; the caller counts what was wrong
	case err == io.ErrUnexpectedEOF:
		r.truncated(r.mstart, err)
		r.done = true
		return io.EOF
	case err == nil:
		// Stopped reading a healthy member early (bad header, no resync
		// point): drain it to reach the next member.
		if _, derr := io.Copy(io.Discard, r.dec); derr == nil {
			return nil
		}
		return r.afterMemberError()
	}
	r.problem(KindCorruptGzip, r.mstart, err)
	return r.resyncGzip(r.mstart)
}

var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// resyncGzip discards input up to the next gzip member header after from.
func (r *Reader) resyncGzip(from int64) error {
	if r.pos() <= from || r.pos() <= r.resync {
		if _, err := r.src.Discard(1); err != nil {
			return io.EOF
		}
	}
	r.resync = r.pos()
	for {
		if _, err := r.src.Peek(len(gzipMagic)); err != nil {
			if f := r.ioFailure(r.pos()); f != nil {
				return f
			}
			return io.EOF
		}
		buf, _ := r.src.Peek(r.src.Buffered())
		i := bytes.Index(buf, gzipMagic)
		if i < 0 {
			_, _ = r.src.Discard(len(buf) - len(gzipMagic) + 1)
			continue
		}
		_, _ = r.src.Discard(i)
		if ok, _ := r.peekHeader(); ok {
			return nil
		}
		_, _ = r.src.Discard(1)
	}
}

// peekHeader checks the gzip member header at the input without consuming
// it (see gzipHeaderLen). complete is false when the input ended (or a
// field ran past 64 KiB) before the header could be checked.
func (r *Reader) peekHeader() (ok, complete bool) {
	const maxHeader = 64 << 10
	for size := sigLen; ; size *= 8 {
		size = min(size, maxHeader)
		b, _ := r.src.Peek(size)
		switch _, st := gzipHeaderLen(b); {
		case st != hdrShort:
			return st == hdrOK, true
		case len(b) < size || size == maxHeader:
			return false, false
		}
	}
}

type hdrStatus int

const (
	hdrOK    hdrStatus = iota
	hdrBad             // not a gzip member header
	hdrShort           // b ends inside the header
)

// gzipHeaderLen checks the gzip member header at the start of b (RFC 1952
// 2.3: magic, CM 8, reserved flags clear, the optional fields, and the
// header CRC when present) and returns its length.
func gzipHeaderLen(b []byte) (int, hdrStatus) {
	if len(b) < sigLen {
		if len(b) > 0 && !bytes.HasPrefix(gzipMagic, b[:min(len(b), 3)]) {
			return 0, hdrBad
		}
		return 0, hdrShort
	}
	if b[0] != 0x1f || b[1] != 0x8b || b[2] != 8 || b[3]&0xe0 != 0 {
		return 0, hdrBad
	}
	flg, n := b[3], sigLen
	if flg&0x04 != 0 { // FEXTRA
		if len(b) < n+2 {
			return 0, hdrShort
		}
		n += 2 + int(b[n]) | int(b[n+1])<<8
	}
	for _, f := range []byte{0x08, 0x10} { // FNAME, FCOMMENT: zero-terminated
		if flg&f == 0 {
			continue
		}
		if n > len(b) {
			return 0, hdrShort
		}
		i := bytes.IndexByte(b[n:], 0)
		if i < 0 {
			return 0, hdrShort
		}
		n += i + 1
	}
	if flg&0x02 != 0 { // FHCRC
		if len(b) < n+2 {
			return 0, hdrShort
		}
		if uint16(crc32.ChecksumIEEE(b[:n])) != uint16(b[n])|uint16(b[n+1])<<8 {
			return 0, hdrBad
		}
		n += 2
	}
	if n > len(b) {
		return 0, hdrShort
	}
	return n, hdrOK
}

// skipToWARCLine discards input up to the next line starting with "WARC/"
// (which may be the current position, after the line that was bad).
func skipToWARCLine(in *bufio.Reader) error {
	if p, _ := in.Peek(5); string(p) == "WARC/" {
		return nil
	}
	for {
		_, err := in.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return err
		}
		if p, _ := in.Peek(5); string(p) == "WARC/" {
			return nil
		}
	}
}

// readRecord reads one record from in. It returns the record, or a problem
// kind with its cause, or ("", io.EOF) at a clean end of in. A stream error
// from in comes back with the kind the plain-input case implies; gzip
// callers reclassify it from r.tap.
func (r *Reader) readRecord(in *bufio.Reader, off int64) (*Record, Kind, error) {
	if err := skipNewlines(in); err != nil {
		if err == io.EOF {
			return nil, "", io.EOF
		}
		return nil, KindTruncatedRecord, err
	}
	rec := &Record{File: r.name, Offset: off, maxBody: r.opt.maxBody()}
	kind, err := r.readHeader(in, rec)
	if kind != "" || err != nil {
		if kind == "" {
			kind = KindBadWARCHeader
		}
		return nil, kind, err
	}
	if r.opt.keep(rec.Type) {
		if rec.Length > r.opt.maxRecord() {
			if err := discard(in, rec.Length); err != nil {
				return nil, KindTruncatedRecord, err
			}
			skipTrailer(in, rec.Version == "ARC")
			return nil, KindOversizedRecord, fmt.Errorf("record %s %s: block of %d bytes exceeds %d", rec.Type, rec.TargetURI, rec.Length, r.opt.maxRecord())
		}
		rec.Block = r.opt.pool.get(rec.Length)
		if _, err := io.ReadFull(in, rec.Block); err != nil {
			r.opt.pool.put(rec.Block)
			return nil, KindTruncatedRecord, fmt.Errorf("record block: %w", err)
		}
	} else if err := discard(in, rec.Length); err != nil {
		return nil, KindTruncatedRecord, fmt.Errorf("record block: %w", err)
	}
	skipTrailer(in, rec.Version == "ARC")
	return rec, "", nil
}

// readHeader reads the version line and named fields into rec.
func (r *Reader) readHeader(in *bufio.Reader, rec *Record) (Kind, error) {
	line, err := r.readLine(in)
	if err != nil {
		return KindBadWARCHeader, err
	}
	if !bytes.HasPrefix(line, []byte("WARC/")) {
		if r.arc || bytes.HasPrefix(line, []byte("filedesc://")) {
			r.arc = true
			return parseARCHeader(string(line), rec)
		}
		return KindBadWARCHeader, fmt.Errorf("no WARC version line: %.40q", line)
	}
	rec.Version = string(line)
	total := len(line)
	length := ""
	for {
		line, err := r.readLine(in)
		if err != nil {
			return KindBadWARCHeader, err
		}
		if len(line) == 0 {
			break
		}
		if total += len(line); total > maxHeaderBytes {
			return KindBadWARCHeader, errors.New("WARC header section too large")
		}
		if (line[0] == ' ' || line[0] == '\t') && len(rec.Header) > 0 { // folded line
			f := &rec.Header[len(rec.Header)-1]
			f.Value += " " + string(bytes.TrimSpace(line))
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 {
			return KindBadWARCHeader, fmt.Errorf("malformed WARC header line %.40q", line)
		}
		n, v := string(bytes.TrimSpace(name)), string(bytes.TrimSpace(value))
		if strings.EqualFold(n, "Content-Length") {
			length = v
		}
		rec.setField(n, v)
	}
	l, err := strconv.ParseInt(length, 10, 64)
	if err != nil || l < 0 {
		return KindBadWARCHeader, fmt.Errorf("bad Content-Length %q", length)
	}
	rec.Length = l
	if rec.Type == "" {
		return KindBadWARCHeader, errors.New("no WARC-Type")
	}
	return "", nil
}

// readLine reads one line without its line ending. The result is valid
// until the next read.
func (r *Reader) readLine(in *bufio.Reader) ([]byte, error) {
	r.line = r.line[:0]
	for {
		chunk, err := in.ReadSlice('\n')
		if len(r.line)+len(chunk) > maxHeaderLine {
			return nil, errors.New("header line too long")
		}
		if err == bufio.ErrBufferFull {
			r.line = append(r.line, chunk...)
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		line := chunk
		if len(r.line) > 0 {
			r.line = append(r.line, chunk...)
			line = r.line
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
}

// skipNewlines consumes CR and LF bytes before a record. It returns io.EOF
// when in ends first.
func skipNewlines(in *bufio.Reader) error {
	for {
		b, err := in.ReadByte()
		if err != nil {
			return err
		}
		if b != '\r' && b != '\n' {
			return in.UnreadByte()
		}
	}
}

// skipTrailer consumes the CRLF CRLF after a WARC block (one LF after an
// ARC block), tolerating writers that emit fewer.
func skipTrailer(in *bufio.Reader, arc bool) {
	n := 4
	if arc {
		n = 1
	}
	for range n {
		b, err := in.ReadByte()
		if err != nil {
			return
		}
		if b != '\r' && b != '\n' {
			_ = in.UnreadByte()
			return
		}
	}
}

// discard skips n bytes of in.
func discard(in *bufio.Reader, n int64) error {
	for n > 0 {
		chunk := int(min(n, 1<<30))
		d, err := in.Discard(chunk)
		n -= int64(d)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// countingReader counts the bytes read from r and remembers the first
// error r returned.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// errTap passes reads through and remembers the last error, so the reader
// can tell how a gzip member ended after bufio has consumed the error.
type errTap struct {
	r   io.Reader
	err error
}

func (t *errTap) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil {
		t.err = err
	}
	return n, err
}
