package fetch

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/aicensus/aicensus/internal/model"
)

// rawServer accepts TCP connections on 127.0.0.1 and hands each to serve.
func rawServer(t *testing.T, serve func(net.Conn)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// readRequest consumes one request's header block.
func readRequest(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			return
		}
	}
}

// TestFetchSlowLoris covers servers that keep the connection alive with a
// trickle: headers then a body byte every second, and a status line sent
// one byte per second. The per-request timeout ends both.
func TestFetchSlowLoris(t *testing.T) {
	tests := []struct {
		name  string
		serve func(net.Conn)
	}{
		{"slow body", func(c net.Conn) {
			readRequest(c)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n")
			for range 30 {
				time.Sleep(time.Second)
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}},
		{"slow headers", func(c net.Conn) {
			readRequest(c)
			for _, b := range []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") {
				time.Sleep(time.Second)
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFarm(t)
			f.resolver.set("slow.test", "127.0.0.1")
			var conns atomic.Int64
			p := rawServer(t, func(c net.Conn) { conns.Add(1); tt.serve(c) })
			c := f.client(func(o *Options) {
				o.PortMap = map[int]int{80: p, 443: closedPort(t)}
				o.RequestTimeout = 700 * time.Millisecond
				o.Retries = 1
				o.LazyRobots = true
			})
			r := c.Fetch(context.Background(), "slow.test")
			if r.Status != model.StatusTimeout || !errors.Is(r.Err, context.DeadlineExceeded) {
				t.Fatalf("status %s err %v; want timeout", r.Status, r.Err)
			}
			if n := conns.Load(); n != 2 {
				t.Errorf("%d connections; want 2 (a timeout is retried once)", n)
			}
		})
	}
}

// TestFetchTargetTimeout checks that TargetTimeout bounds the whole Fetch
// even when each request is allowed longer.
func TestFetchTargetTimeout(t *testing.T) {
	f := newFarm(t)
	f.resolver.set("slow.test", "127.0.0.1")
	p := rawServer(t, func(c net.Conn) {
		readRequest(c)
		time.Sleep(5 * time.Second)
	})
	c := f.client(func(o *Options) {
		o.PortMap = map[int]int{80: p, 443: p}
		o.TargetTimeout = time.Second
		o.RequestTimeout = time.Minute
	})
	r := c.Fetch(context.Background(), "slow.test")
	if r.Status != model.StatusTLSError && r.Status != model.StatusTimeout {
		t.Fatalf("status %s err %v", r.Status, r.Err)
	}
	// https to a server that never answers the handshake: the target
	// deadline ends it during TLS.
	var te *TLSError
	if !errors.As(r.Err, &te) || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Errorf("err %v: want a TLS error caused by the deadline", r.Err)
	}
}

func TestFetchResetMidBody(t *testing.T) {
	f := newFarm(t)
	f.resolver.set("reset.test", "127.0.0.1")
	var hits atomic.Int64
	p := rawServer(t, func(c net.Conn) {
		hits.Add(1)
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
		c.Write(bytes.Repeat([]byte("a"), 1000))
		time.Sleep(50 * time.Millisecond)
		c.(*net.TCPConn).SetLinger(0) // close with RST
	})
	c := f.client(func(o *Options) {
		o.PortMap = map[int]int{80: p, 443: closedPort(t)}
		o.LazyRobots = true
	})
	r := c.Fetch(context.Background(), "reset.test")
	if r.Status != model.StatusConnectionReset {
		t.Fatalf("status %s err %v; want connection-reset", r.Status, r.Err)
	}
	if n := hits.Load(); n != 3 {
		t.Errorf("%d requests; want 3 (a reset is retried twice)", n)
	}
	if r.Attempts[0].Status != model.StatusConnectRefused {
		t.Errorf("attempts %+v", r.Attempts)
	}
}

func TestFetchHugeBody(t *testing.T) {
	f := newFarm(t, "huge.test")
	var written atomic.Int64
	done := make(chan struct{}, 1)
	f.handle("huge.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- struct{}{} }()
		chunk := bytes.Repeat([]byte("<p>0123456789</p>"), 4096)
		for written.Load() < 50<<20 {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	c := f.client(func(o *Options) { o.LazyRobots = true })
	r := c.Fetch(context.Background(), "huge.test")
	if r.Status != model.StatusBodyTooLarge || !errors.Is(r.Err, ErrBodyTooLarge) {
		t.Fatalf("status %s err %v", r.Status, r.Err)
	}
	if len(r.Observation.Body) != 2<<20 {
		t.Errorf("kept %d body bytes, want the first %d", len(r.Observation.Body), 2<<20)
	}
	<-done
	if n := written.Load(); n >= 50<<20 {
		t.Errorf("server wrote all %d bytes: the client did not stop reading", n)
	}
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// bomb compresses n zero bytes with enc.
func bomb(t testing.TB, enc string, n int64) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case "gzip":
		w = gzip.NewWriter(&b)
	case "br":
		w = brotli.NewWriterLevel(&b, 5)
	case "zstd":
		zw, err := zstd.NewWriter(&b, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithWindowSize(1<<20))
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	default:
		t.Fatalf("unknown encoding %s", enc)
	}
	if _, err := io.Copy(w, io.LimitReader(zeros{}, n)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestFetchDecompressionBombs(t *testing.T) {
	const size = 16 << 20 // decoded size of each bomb: 8 times the cap
	for _, enc := range []string{"gzip", "br", "zstd"} {
		t.Run(enc, func(t *testing.T) {
			payload := bomb(t, enc, size)
			if len(payload) > 64<<10 {
				t.Fatalf("a %d-byte %s payload is not a bomb", len(payload), enc)
			}
			f := newFarm(t, "bomb.test")
			f.handle("bomb.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", enc)
				w.Write(payload)
			}))
			c := f.client(func(o *Options) { o.LazyRobots = true })
			r := c.Fetch(context.Background(), "bomb.test")
			if r.Status != model.StatusBodyTooLarge {
				t.Fatalf("%d-byte %s bomb: status %s err %v", len(payload), enc, r.Status, r.Err)
			}
			if len(r.Observation.Body) != 2<<20 || bytes.IndexFunc(r.Observation.Body, func(r rune) bool { return r != 0 }) >= 0 {
				t.Errorf("kept %d bytes; want the first 2 MiB of zeros", len(r.Observation.Body))
			}
		})
	}
}

func TestReadBodyEncodings(t *testing.T) {
	const page = "<html><script src=/app.js></script>hello</html>"
	tests := []struct {
		enc    string
		encode func(t *testing.T) []byte
	}{
		{"", func(t *testing.T) []byte { return []byte(page) }},
		{"identity", func(t *testing.T) []byte { return []byte(page) }},
		{"gzip", func(t *testing.T) []byte { return compress(t, "gzip", page) }},
		{"x-gzip", func(t *testing.T) []byte { return compress(t, "gzip", page) }},
		{"br", func(t *testing.T) []byte { return compress(t, "br", page) }},
		{"zstd", func(t *testing.T) []byte { return compress(t, "zstd", page) }},
		{"deflate", func(t *testing.T) []byte { return compress(t, "zlib", page) }},
		{"Deflate", func(t *testing.T) []byte { return compress(t, "flate", page) }},
		{"gzip, br", func(t *testing.T) []byte { return compress(t, "br", string(compress(t, "gzip", page))) }},
		{"unknown-coding", func(t *testing.T) []byte { return []byte(page) }},
	}
	for _, tt := range tests {
		t.Run(tt.enc, func(t *testing.T) {
			got, err := readBody(bytes.NewReader(tt.encode(t)), tt.enc, 1<<20)
			if err != nil || string(got) != page {
				t.Fatalf("readBody = %q, %v", got, err)
			}
		})
	}
	if _, err := readBody(strings.NewReader("not gzip"), "gzip", 1<<20); err == nil || StatusOf(err) != model.StatusHTTPError {
		t.Errorf("corrupt gzip: err %v (%s), want http-error", err, StatusOf(err))
	}
	if _, err := readBody(strings.NewReader(page), "gzip, gzip, gzip", 1<<20); err == nil {
		t.Error("three stacked encodings accepted")
	}
	got, err := readBody(strings.NewReader(page), "", 10)
	if !errors.Is(err, ErrBodyTooLarge) || string(got) != page[:10] {
		t.Errorf("capped plain body: %q, %v", got, err)
	}
	for _, n := range []int{1, 100 << 10, 1 << 20} {
		exact := strings.Repeat("y", n)
		got, err := readBody(strings.NewReader(exact), "", int64(n))
		if err != nil || len(got) != n {
			t.Errorf("body of exactly the cap (%d): %d bytes, %v", n, len(got), err)
		}
		got, err = readBody(strings.NewReader(exact+"z"), "", int64(n))
		// The body's buffer is its size rounded up to a recycling class
		// (powers of two from 16 KiB): never more than twice the cap.
		if !errors.Is(err, ErrBodyTooLarge) || len(got) != n || cap(got) > 2*max(n, minBuf) {
			t.Errorf("body one over the cap (%d): %d bytes (cap %d), %v", n, len(got), cap(got), err)
		}
	}
}

// compress encodes s with gzip, br, zstd, zlib or raw flate.
func compress(t testing.TB, kind, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	var err error
	switch kind {
	case "gzip":
		w = gzip.NewWriter(&b)
	case "br":
		w = brotli.NewWriter(&b)
	case "zstd":
		w, err = zstd.NewWriter(&b)
	case "zlib":
		w = zlib.NewWriter(&b)
	case "flate":
		w, err = flate.NewWriter(&b, flate.DefaultCompression)
	}
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, s)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestFetchMalformedResponse(t *testing.T) {
	f := newFarm(t)
	f.resolver.set("junk.test", "127.0.0.1")
	p := rawServer(t, func(c net.Conn) {
		readRequest(c)
		io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n\r\n")
	})
	c := f.client(func(o *Options) { o.PortMap = map[int]int{80: p, 443: closedPort(t)} })
	r := c.Fetch(context.Background(), "junk.test")
	if r.Status != model.StatusHTTPError {
		t.Fatalf("status %s err %v; want http-error", r.Status, r.Err)
	}
	if msg := fmt.Sprint(r.Err); msg == "" {
		t.Error("empty error text")
	}
}

// TestFetchSlowChunkedTLS is the slow-loris case over HTTPS with a chunked
// body (the test farm's slow-loris host). Cancelling the request sends a TLS
// close_notify; a server that ends the chunked body in reply can make the
// truncated body look complete, which must still be a timeout.
func TestFetchSlowChunkedTLS(t *testing.T) {
	f := newFarm(t, "slowc.test")
	f.handle("slowc.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		for {
			if _, err := w.Write([]byte("x")); err != nil || rc.Flush() != nil {
				return
			}
			select {
			case <-time.After(time.Second):
			case <-r.Context().Done():
				return // ends the chunked body at once
			}
		}
	}))
	c := f.client(func(o *Options) { o.LazyRobots = true; o.RequestTimeout = 700 * time.Millisecond; o.Retries = -1 })
	for range 3 {
		r := c.Fetch(context.Background(), "slowc.test")
		if r.Status != model.StatusTimeout {
			t.Fatalf("status %s err %v body %q; want timeout", r.Status, r.Err, r.Observation.Body)
		}
	}
}
