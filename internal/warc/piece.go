package warc

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"github.com/klauspost/compress/flate"
)

// Splitting lets one gzip file use several cores. A WARC writer gives every
// record its own gzip member, and every member starts with a 10-byte header
// that is nearly the same each time. The splitter (the source's reader
// goroutine) looks for that header in the compressed bytes without
// inflating them and cuts the input into pieces, usually one member each;
// workers inflate and parse the pieces in parallel, each with its own
// Reader over the piece.
//
// A header pattern can also occur inside compressed data (with a 6-byte
// signature, about once per 2^48 bytes). Then the piece before it ends
// inside its member: its reader reports needMore, and the worker re-reads
// it joined with the following pieces (up to joinAhead), which it
// "absorbs"; the absorbed pieces' own workers wait for that verdict and
// drop what they read. A piece whose read was clean never waits: a
// CRC-checked member that ends exactly at the next cut does not start
// inside another one. Waits only ever go to earlier pieces, which workers
// take first from the queue, so they cannot deadlock.
//
// A member too large to hold (splitBufSize) and input that does not start
// with a gzip header are read by the splitter itself, record by record, as
// Reader.Next does.

const (
	splitBufSize = 4 << 20 // largest piece; the splitter's input buffer
	sigLen       = 10      // gzip member header without optional fields
	joinAhead    = 2       // pieces a false cut may be joined with
)

var errMemberEnd = errors.New("end of gzip member")

// piece is a run of compressed bytes that starts at a (presumed) gzip
// member start, with the links workers use to settle false cuts.
type piece struct {
	off  int64
	data []byte // never recycled: an earlier piece's worker may read it to join
	seq  int64  // the source tracker's sequence number

	prev      *piece
	next      *piece        // the following piece; valid once nextReady is closed (nil: the source ended)
	nextReady chan struct{} // closed by the splitter
	decided   chan struct{} // closed once succAbsorbed is final
	// succAbsorbed reports that the piece after this one starts inside a
	// member and was read as part of an earlier piece.
	succAbsorbed bool
}

// nextPiece returns the next piece of gzip input, or, when the input here
// cannot be split, the next record read sequentially. It returns io.EOF at
// the end and fatal errors as Next does.
func (r *Reader) nextPiece() (*piece, *Record, error) {
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
		if r.inline || r.mode != modeGzip {
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
			r.inline = true // garbage or a short tail: count it and resync
			continue
		}
		if r.sig == nil {
			r.sig = append(append([]byte{}, hdr[:4]...), hdr[8:10]...)
			// If the data starts with a WARC version line, every cut must
			// too: that tells member headers from gzip data stored inside
			// records (gzip-encoded bodies, stored uncompressed).
			buf, _ := r.src.Peek(min(r.src.Size(), 64<<10))
			prefix, st := r.memberPrefix(buf)
			r.checkWARC = st == hdrOK && string(prefix) == "WARC/"
		}
		n, ok := r.findCut()
		if !ok {
			r.inline = true // too big to hold: read it here
			continue
		}
		buf, _ := r.src.Peek(n)
		p := &piece{off: off, data: bytes.Clone(buf), nextReady: make(chan struct{}), decided: make(chan struct{})}
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

// findCut returns the length of the piece at the input: up to the next
// member header signature, or to the end of the input. ok is false when
// no cut was found within the buffer, or reading failed.
func (r *Reader) findCut() (int, bool) {
	from := sigLen
search:
	for {
		want := min(from+256<<10, r.src.Size())
		buf, err := r.src.Peek(want)
		atEnd := err != nil && err != bufio.ErrBufferFull
		for {
			i := findSig(buf[from:], r.sig)
			if i < 0 {
				break
			}
			c := from + i
			switch r.checkCut(buf[c:]) {
			case hdrOK:
				return c, true
			case hdrShort:
				if !atEnd && len(buf) < r.src.Size() {
					from = c // look again with more bytes
					continue search
				}
				return c, true // cannot check this near the end: accept
			}
			from = c + 1
		}
		switch {
		case err == io.EOF:
			return len(buf), true
		case atEnd:
			return 0, false // the sequential path reports the failure
		case len(buf) >= r.src.Size():
			return 0, false
		}
		from = max(sigLen, len(buf)-sigLen+1)
	}
}

// checkCut says whether a signature match at the start of b starts a
// member: a valid header and, when the source is WARC, data that inflates
// to "WARC/". hdrShort: b ends too early to tell.
func (r *Reader) checkCut(b []byte) hdrStatus {
	if !r.checkWARC {
		_, st := gzipHeaderLen(b)
		return st
	}
	prefix, st := r.memberPrefix(b)
	if st == hdrOK && string(prefix) != "WARC/" {
		return hdrBad
	}
	return st
}

// memberPrefix inflates the first bytes (up to 5) of the gzip member at
// the start of b. It gives the inflater at most 512 bytes of compressed data
// (a block header and the first symbols fit; the inflater returns what it
// decoded when its input ends), so a check costs microseconds, not the
// 32 KiB window the inflater would otherwise fill.
func (r *Reader) memberPrefix(b []byte) ([]byte, hdrStatus) {
	const window = 512
	n, st := gzipHeaderLen(b)
	if st != hdrOK {
		return nil, st
	}
	limited := len(b) > n+window
	in := bytes.NewReader(b[n:min(len(b), n+window)])
	if r.inf == nil {
		r.inf = flate.NewReader(in)
	} else if err := r.inf.(flate.Resetter).Reset(in, nil); err != nil {
		return nil, hdrBad
	}
	var out [5]byte
	k := 0
	for k < len(out) {
		m, err := r.inf.Read(out[k:])
		k += m
		if err == io.ErrUnexpectedEOF && k < len(out) {
			if limited {
				return out[:k], hdrOK // 512 bytes gave less than 5: not a WARC record start
			}
			return nil, hdrShort
		}
		if err != nil {
			break // the member ends (or is corrupt) before 5 bytes
		}
	}
	return out[:k], hdrOK
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

// pieceRead is what reading a piece gave.
type pieceRead struct {
	recs []*Record
	st   Stats
	held []*Problem // for OnProblem, when this read is the one kept
	// more: the data ends inside a gzip member (not counted). first: that
	// member is the one the data starts with, read cleanly so far, so the
	// cut after it may be false and joining the next piece may finish it.
	more, first bool
}

// readPiece reads every record of data (a piece at off) with pr, a reusable
// Reader. With final, the end of data is the end of the input and a cut
// member is counted as truncated.
func readPiece(pr *Reader, data []byte, name string, off int64, final bool) pieceRead {
	pr.piece = true
	pr.reset(bytes.NewReader(data), name, off)
	pr.final = final
	var out pieceRead
	for {
		rec, err := pr.Next()
		if err != nil {
			break // in-memory input: io.EOF, never a read error
		}
		out.recs = append(out.recs, rec)
	}
	out.st = pr.Stats()
	out.st.Bytes = 0 // the splitter counts the input
	out.more, out.first = pr.needMore, pr.moreFirst
	out.held = pr.held
	return out
}
