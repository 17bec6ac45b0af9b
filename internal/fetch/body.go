package fetch

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// acceptEncoding is what the Client asks for; readBody undoes each.
const acceptEncoding = "gzip, br, zstd, deflate"

// maxEncodings caps stacked Content-Encodings ("gzip, gzip, ...").
const maxEncodings = 2

// zstdMaxWindow is the largest zstd window accepted (RFC 9659 asks HTTP
// decoders to support 8 MiB and allows refusing more).
const zstdMaxWindow = 8 << 20

// capReader fails with ErrBodyTooLarge once more than n bytes have been
// read, instead of ending quietly like io.LimitReader: a decoder fed from it
// then reports the cap, not a truncated stream.
type capReader struct {
	r   io.Reader
	n   int64 // bytes still allowed
	err error // the first error other than io.EOF, kept to tell wire faults from decoding faults
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, ErrBodyTooLarge
	}
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n < 0 {
		n, err = n-int(-c.n), ErrBodyTooLarge
	}
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// DecodeError is a body whose Content-Encoding could not be undone: corrupt
// or truncated compressed data that arrived intact. It maps to http-error.
type DecodeError struct {
	Encoding string
	Err      error
}

func (e *DecodeError) Error() string { return fmt.Sprintf("decode %s body: %v", e.Encoding, e.Err) }

// Unwrap returns the decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// read reads a response body, undoing its Content-Encoding, and returns
// at most limit decoded bytes. The wire bytes are capped at limit as well. If
// either exceeds limit, it returns the first limit decoded bytes and an error
// matching ErrBodyTooLarge. Unknown encodings are returned as they are.
func (b *bodyReader) read(body io.Reader, contentEncoding string, limit int64) ([]byte, error) {
	encs := parseEncodings(contentEncoding)
	if len(encs) > maxEncodings {
		return nil, fmt.Errorf("content-encoding %q: more than %d layers", contentEncoding, maxEncodings)
	}
	wire := &capReader{r: body, n: limit}
	var r io.Reader = wire
	for i := len(encs) - 1; i >= 0; i-- {
		dec, closeFn, err := decoder(encs[i], r)
		if err != nil {
			return nil, bodyError(wire, &DecodeError{Encoding: encs[i], Err: err})
		}
		if closeFn != nil {
			defer closeFn()
		}
		r = dec
	}
	out, err := b.readCapped(r, limit)
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, ErrBodyTooLarge) || len(encs) == 0:
		return out, bodyError(wire, err)
	}
	return out, bodyError(wire, &DecodeError{Encoding: contentEncoding, Err: err})
}

// bodyError prefers the wire's own failure (reset, timeout, cap) over what
// a decoder made of it.
func bodyError(wire *capReader, err error) error {
	if wire.err != nil && !errors.Is(err, ErrBodyTooLarge) {
		err = wire.err
	}
	return fmt.Errorf("read body: %w", err)
}

// chunkSize is the unit readCapped reads in.
const chunkSize = 32 << 10

// bodyReader reads bodies; it recycles its read chunks between bodies, and
// the bodies themselves when they are handed back (put). Safe for
// concurrent use.
type bodyReader struct {
	chunks sync.Pool // of *[chunkSize]byte
	bufs   [bufClasses]sync.Pool
}

// Body buffers come in bufClasses power-of-two sizes from minBuf; larger
// bodies are allocated to size and not recycled.
const (
	minBuf     = 16 << 10
	bufClasses = 9 // 16 KiB .. 4 MiB
)

func newBodyReader() *bodyReader {
	return &bodyReader{chunks: sync.Pool{New: func() any { return new([chunkSize]byte) }}}
}

// bufClass returns the class of a buffer of at least n bytes, or -1.
func bufClass(n int) int {
	for k, size := 0, minBuf; k < bufClasses; k, size = k+1, size<<1 {
		if n <= size {
			return k
		}
	}
	return -1
}

// get returns a buffer of length n, recycled when one is free.
func (b *bodyReader) get(n int) []byte {
	k := bufClass(n)
	if k < 0 {
		return make([]byte, n)
	}
	if p, ok := b.bufs[k].Get().(*[]byte); ok {
		return (*p)[:n]
	}
	return make([]byte, n, minBuf<<k)
}

// put hands back a buffer get returned; its owner must not use it again.
// Buffers of other origins or sizes are left to the garbage collector.
func (b *bodyReader) put(buf []byte) {
	if k := bufClass(cap(buf)); k >= 0 && cap(buf) == minBuf<<k {
		buf = buf[:0]
		b.bufs[k].Put(&buf)
	}
}

// readCapped reads r to the end and returns exactly the bytes read, at most
// limit of them, in one slice: it reads into pooled 32 KiB chunks and copies
// once at the end into a buffer of the body's size class (get), which put
// recycles once the body has been detected on. More than limit bytes give
// the first limit and ErrBodyTooLarge.
func (b *bodyReader) readCapped(r io.Reader, limit int64) ([]byte, error) {
	var chunks []*[chunkSize]byte
	defer func() {
		for _, c := range chunks {
			b.chunks.Put(c)
		}
	}()
	var total int64
	var err error
	for err == nil && total <= limit {
		c := b.chunks.Get().(*[chunkSize]byte)
		chunks = append(chunks, c)
		n := 0
		for n < chunkSize && err == nil {
			var m int
			m, err = r.Read(c[n:])
			n += m
		}
		total += int64(n)
	}
	if err == io.EOF {
		err = nil
	}
	if total > limit {
		total, err = limit, ErrBodyTooLarge
	}
	out := b.get(int(total))
	for i, c := range chunks {
		copy(out[i*chunkSize:], c[:])
	}
	return out, err
}

// parseEncodings splits a Content-Encoding value, dropping identity.
func parseEncodings(v string) []string {
	var out []string
	for e := range strings.SplitSeq(v, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		if e != "" && e != "identity" {
			out = append(out, e)
		}
	}
	return out
}

// decoder wraps r in a decoder for one content coding. An unknown coding
// returns r itself.
func decoder(enc string, r io.Reader) (io.Reader, func(), error) {
	switch enc {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return zr, func() { zr.Close() }, nil
	case "br":
		return brotli.NewReader(r), nil, nil
	case "zstd":
		zr, err := zstd.NewReader(r,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	case "deflate":
		// "deflate" means zlib (RFC 9110), but many servers send raw
		// deflate; look at the header to tell them apart.
		br := bufio.NewReader(r)
		if h, err := br.Peek(2); err == nil && isZlibHeader(h) {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return nil, nil, err
			}
			return zr, func() { zr.Close() }, nil
		}
		fr := flate.NewReader(br)
		return fr, func() { fr.Close() }, nil
	}
	return r, nil, nil
}

// isZlibHeader reports whether h starts a zlib stream (RFC 1950: deflate
// method, header checksum).
func isZlibHeader(h []byte) bool {
	return h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0
}
