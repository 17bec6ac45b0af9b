package warc

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"

	"github.com/klauspost/compress/flate"
)

// Splitting lets one gzip file use several cores. A WARC writer gives every
// record its own gzip member, and every member starts with a 10-byte header
// that is nearly the same each time. The splitter (the source's reader
// goroutine) cuts the compressed input into pieces of one member each
// without inflating them; workers inflate and parse the pieces in
// parallel, each with its own Reader over the piece.
//
// A header pattern also occurs inside members (in random compressed data
// about once per 2^48 bytes; far more often where a record holds gzip data
// stored as it is: a gzip-encoded body, a .warc.gz inside a WARC). So a
// cut is made only where it is exact: the splitter inflates the first few
// hundred bytes of the member to read its WARC (or ARC) header, which
// gives the member's uncompressed size (header + Content-Length +
// trailer), and cuts at the next header whose preceding 4 bytes, the
// ISIZE field of the gzip trailer, equal that size. A false cut would need
// a 6-byte header pattern and a 4-byte size to match by chance.
//
// Members that cannot be cut that way (larger than splitBufSize, holding
// several records, not starting with a readable header, or input that is
// not gzip) are read by the splitter itself, record by record, as
// Reader.Next does; after noSplitAfter such members in a row the source is
// read that way to its end.

const (
	splitBufSize = 4 << 20 // largest piece; the splitter's input buffer
	sigLen       = 10      // gzip member header without optional fields
	noSplitAfter = 3
)

var errMemberEnd = errors.New("end of gzip member")

// piece is a run of compressed bytes holding one gzip member (or, when the
// input is damaged, whatever lies between two cuts).
type piece struct {
	off  int64
	data []byte
	last bool // the piece ends where the input ends
}

// nextPiece returns the next piece of gzip input, or the next record read
// sequentially when here is set or the input here cannot be split. It
// returns io.EOF at the end and fatal errors as Next does.
func (r *Reader) nextPiece(here bool) (*piece, *Record, error) {
	if r.fatal != nil {
		return nil, nil, r.fatal
	}
	if r.done {
		return nil, nil, io.EOF
	}
	if r.mode == modeUnknown {
		if err := r.detect(); err != nil {
			return nil, nil, r.end(err)
		}
	}
	for {
		// Read here, record by record: when asked, a member already open,
		// a member that cannot be cut, or input that cannot be split.
		if here || r.member || r.inline || r.mode != modeGzip || r.unsplit >= noSplitAfter {
			rec, err := r.nextInline()
			if err == errMemberEnd {
				r.inline, r.opened = false, false
				continue
			}
			return nil, rec, err
		}
		off := r.pos()
		hdr, _ := r.src.Peek(sigLen)
		if len(hdr) == 0 {
			if f := r.ioFailure(off); f != nil {
				return nil, nil, r.end(f)
			}
			return nil, nil, r.end(io.EOF)
		}
		if len(hdr) < sigLen || !bytes.HasPrefix(hdr, gzipMagic) {
			r.inline, r.opened = true, false // garbage or a short tail: count it and resync
			continue
		}
		if r.sig == nil {
			r.sig = append(append([]byte{}, hdr[:4]...), hdr[8:10]...)
		}
		n, last, ok := r.findCut()
		if !ok {
			r.inline, r.opened = true, false // read this member here
			r.unsplit++
			continue
		}
		r.unsplit = 0
		buf, _ := r.src.Peek(n)
		data := r.opt.pool.get(int64(n))
		copy(data, buf)
		p := &piece{off: off, data: data, last: last}
		_, _ = r.src.Discard(n)
		return p, nil, nil
	}
}

// nextInline reads the next record sequentially (see nextPiece).
func (r *Reader) nextInline() (*Record, error) {
	if r.fatal != nil {
		return nil, r.fatal
	}
	if r.done {
		return nil, io.EOF
	}
	var rec *Record
	var err error
	if r.mode == modeGzip {
		rec, err = r.nextGzip()
	} else {
		rec, err = r.nextPlain()
	}
	if err == errMemberEnd {
		return nil, err
	}
	if err != nil {
		return nil, r.end(err)
	}
	r.stats.countRecord(rec.Type, 1)
	return rec, nil
}

// findCut returns the length of the member at the input: up to the next
// member header preceded by the member's exact uncompressed size, or to
// the end of the input (last). ok is false when the member's size cannot
// be read from its start, no cut was found within the buffer, or reading
// failed.
func (r *Reader) findCut() (n int, last, ok bool) {
	start, _ := r.src.Peek(min(r.src.Size(), 64<<10))
	size, ok := r.memberSize(start)
	if !ok {
		return 0, false, false
	}
	from, skipped := sigLen, false
	for {
		want := min(from+256<<10, r.src.Size())
		buf, err := r.src.Peek(want)
		for {
			i := findSig(buf[from:], r.sig)
			if i < 0 {
				break
			}
			c := from + i
			if isize := leUint32(buf[c-4 : c]); isize <= size && isize+4 >= size {
				return c, false, true // a trailer of 0 to 4 bytes after the block
			}
			from, skipped = c+1, true
		}
		switch {
		case err == io.EOF:
			// The last member, unless headers were passed over: then the
			// member may hold several records, or be damaged.
			return len(buf), true, !skipped
		case err != nil && err != bufio.ErrBufferFull:
			return 0, false, false // the sequential path reports the failure
		case len(buf) >= r.src.Size():
			return 0, false, false
		}
		from = max(sigLen, len(buf)-sigLen+1)
	}
}

// memberSize inflates the start of the gzip member at the start of b and
// returns the uncompressed size its one record should have, mod 2^32 as
// ISIZE stores it: header + Content-Length + 4 for WARC, header line +
// length + 1 for ARC. The inflater gets at most 768 bytes of compressed
// input (8 KiB for long headers; it returns what it decoded when its input
// ends), so this costs a few microseconds whatever the member's size.
func (r *Reader) memberSize(b []byte) (uint32, bool) {
	n, st := gzipHeaderLen(b)
	if st != hdrOK {
		return 0, false
	}
	// Most WARC headers come out of the first 768 compressed bytes; long
	// ones get a second try with more.
	for _, window := range []int{768, 8 << 10} {
		head := r.inflateStart(b[n:min(len(b), n+window)])
		if size, ok := recordSize(head); ok || len(b) <= n+window {
			return size, ok
		}
	}
	return 0, false
}

// inflateStart inflates in (the start of a deflate stream) into r.head and
// returns what came out before in ended.
func (r *Reader) inflateStart(b []byte) []byte {
	const maxHead = 32 << 10
	in := bytes.NewReader(b)
	if r.inf == nil {
		r.inf = flate.NewReader(in)
	} else if err := r.inf.(flate.Resetter).Reset(in, nil); err != nil {
		return nil
	}
	if cap(r.head) < maxHead {
		r.head = make([]byte, maxHead)
	}
	head := r.head[:maxHead]
	k := 0
	for k < len(head) {
		m, err := r.inf.Read(head[k:])
		k += m
		if err != nil {
			break
		}
	}
	return head[:k]
}

// recordSize parses the WARC or ARC record header at the start of b and
// returns the size of the whole record, mod 2^32.
func recordSize(b []byte) (uint32, bool) {
	if bytes.HasPrefix(b, []byte("WARC/")) {
		end := bytes.Index(b, []byte("\r\n\r\n"))
		if end < 0 {
			return 0, false
		}
		head := b[:end+2]
		for len(head) > 0 {
			line, rest, _ := bytes.Cut(head, []byte("\n"))
			head = rest
			name, value, ok := bytes.Cut(line, []byte(":"))
			if !ok || !bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Length")) {
				continue
			}
			l, err := strconv.ParseUint(string(bytes.TrimSpace(value)), 10, 64)
			if err != nil {
				return 0, false
			}
			return uint32(uint64(end+4) + l + 4), true
		}
		return 0, false
	}
	line, _, found := bytes.Cut(b, []byte("\n"))
	if !found {
		return 0, false
	}
	f := bytes.Fields(line)
	if len(f) != 5 && len(f) != 10 {
		return 0, false
	}
	l, err := strconv.ParseUint(string(f[len(f)-1]), 10, 64)
	if err != nil {
		return 0, false
	}
	return uint32(uint64(len(line)+1) + l + 1), true
}

func leUint32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// findSig returns the index of the first complete member header in b that
// matches sig (ID1 ID2 CM FLG, then XFL OS; MTIME may differ), or -1.
func findSig(b, sig []byte) int {
	for i := 0; i+sigLen <= len(b); {
		j := bytes.Index(b[i:len(b)-sigLen+4], sig[:4])
		if j < 0 {
			return -1
		}
		i += j
		if b[i+8] == sig[4] && b[i+9] == sig[5] {
			return i
		}
		i++
	}
	return -1
}

// readPiece reads every record of data (a piece at off) with pr, a reusable
// Reader. With last, the end of data is the end of the input: a member cut
// there is truncated; otherwise it was cut short by the next member and is
// counted as corrupt.
func readPiece(pr *Reader, data []byte, name string, off int64, last bool) ([]*Record, Stats) {
	pr.piece = true
	pr.reset(bytes.NewReader(data), name, off)
	pr.final = last
	var recs []*Record
	for {
		rec, err := pr.Next()
		if err != nil {
			break // in-memory input: io.EOF, never a read error
		}
		recs = append(recs, rec)
	}
	st := pr.stats
	st.Bytes = 0 // the splitter counts the input
	return recs, st
}
