package testfarm

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// handshake dials the farm's HTTPS port with SNI name and verifies the
// chain against the farm CA.
func handshake(t *testing.T, f *Farm, name string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := f.DialContext(ctx, "tcp", net.JoinHostPort(name, "443"))
	if err != nil {
		t.Fatal(err)
	}
	conn := tls.Client(raw, &tls.Config{ServerName: name, RootCAs: f.CertPool()})
	defer conn.Close()
	return conn.HandshakeContext(ctx)
}

func TestTLS(t *testing.T) {
	f := startFarm(t, testConfig(30))
	for _, name := range []string{f.HostsOf(KindEmbed)[0], f.HostsOf(KindApp)[0], f.HostsOf(KindCNAME)[0], "www." + FaultHost(KindRedirectChain)} {
		if err := handshake(t, f, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	var unknown x509.UnknownAuthorityError
	if err := handshake(t, f, FaultHost(KindSelfSigned)); !errors.As(err, &unknown) {
		t.Errorf("self-signed: %v, want x509.UnknownAuthorityError", err)
	}
	var invalid x509.CertificateInvalidError
	if err := handshake(t, f, FaultHost(KindExpiredCert)); !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
		t.Errorf("expired: %v, want x509.CertificateInvalidError Expired", err)
	}
	if err := handshake(t, f, FaultHost(KindHTTPOnly)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("http-only over https: %v, want connection reset", err)
	}
	if err := handshake(t, f, "unknown.test"); err == nil {
		t.Error("handshake for a name outside the farm succeeded")
	}
	// The CA file on disk is the same CA.
	pool := x509.NewCertPool()
	pemBytes := readFile(t, f.CAFile())
	if !pool.AppendCertsFromPEM(pemBytes) || string(pemBytes) != string(f.CAPEM()) {
		t.Fatal("CA file does not hold the CA PEM")
	}
}

func TestFaultHosts(t *testing.T) {
	cfg := testConfig(30)
	f := startFarm(t, cfg)
	https := func(k Kind, path string) string { return "https://" + FaultHost(k) + path }

	t.Run("slow-loris", func(t *testing.T) {
		// Raw connection: the headers come, then a trickle that never ends.
		conn, err := f.DialContext(context.Background(), "tcp", FaultHost(KindSlowLoris)+":80")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: "+FaultHost(KindSlowLoris)+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("headers did not arrive: %v", err)
		}
		if resp.StatusCode != 200 || resp.ContentLength != -1 {
			t.Fatalf("status %d, content-length %d", resp.StatusCode, resp.ContentLength)
		}
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := io.Copy(io.Discard, resp.Body)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("body ended with %v after %d bytes, want our read deadline", err, n)
		}
		if n == 0 || n > 100 {
			t.Errorf("read %d bytes: want a trickle", n)
		}
	})
	t.Run("reset-mid-body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, https(KindResetMidBody, "/"), nil)
		resp, err := f.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("read %d bytes then %v, want connection reset", n, err)
		}
		if n == 0 || n >= resp.ContentLength {
			t.Errorf("read %d of %d bytes before the reset", n, resp.ContentLength)
		}
	})
	t.Run("huge-body", func(t *testing.T) {
		resp, body := get(t, f, https(KindHugeBody, "/"))
		if resp.ContentLength != cfg.HugeBodySize || int64(len(body)) != cfg.HugeBodySize {
			t.Errorf("content-length %d, body %d, want %d", resp.ContentLength, len(body), cfg.HugeBodySize)
		}
	})
	t.Run("gzip-bomb", func(t *testing.T) {
		resp, body := get(t, f, https(KindGzipBomb, "/"))
		if resp.Header.Get("Content-Encoding") != "gzip" || len(body) > int(cfg.BombSize/500) {
			t.Fatalf("encoding %q, %d compressed bytes", resp.Header.Get("Content-Encoding"), len(body))
		}
		zr, err := gzip.NewReader(strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, zr)
		if err != nil || n < cfg.BombSize {
			t.Errorf("inflated to %d bytes (%v), want at least %d", n, err, cfg.BombSize)
		}
	})
	t.Run("redirects", func(t *testing.T) {
		tests := []struct {
			url, location string
			code          int
		}{
			{https(KindRedirectLoop, "/"), "/loop", 302},
			{https(KindRedirectLoop, "/loop"), "/", 302},
			{https(KindRedirectLoopback, "/"), "http://127.0.0.2:" + strconv.Itoa(f.HTTPPort()) + "/", 302},
			{https(KindRedirectMetadata, "/"), "http://169.254.169.254/latest/meta-data/", 302},
			{"http://" + FaultHost(KindSelfSigned) + "/", "https://" + FaultHost(KindSelfSigned) + "/", 301},
			{"http://" + FaultHost(KindExpiredCert) + "/", "https://" + FaultHost(KindExpiredCert) + "/", 301},
		}
		for _, tc := range tests {
			resp, _ := get(t, f, tc.url)
			if resp.StatusCode != tc.code || resp.Header.Get("Location") != tc.location {
				t.Errorf("%s: %d %q, want %d %q", tc.url, resp.StatusCode, resp.Header.Get("Location"), tc.code, tc.location)
			}
		}
	})
	t.Run("error pages", func(t *testing.T) {
		for k, code := range map[Kind]int{KindNotFound: 404, KindServerError: 500} {
			for _, scheme := range []string{"https://", "http://"} {
				if resp, _ := get(t, f, scheme+FaultHost(k)+"/"); resp.StatusCode != code {
					t.Errorf("%s%s: %d, want %d", scheme, FaultHost(k), resp.StatusCode, code)
				}
			}
		}
	})
	t.Run("http-only", func(t *testing.T) {
		resp, body := get(t, f, "http://"+FaultHost(KindHTTPOnly)+"/")
		if resp.StatusCode != 200 || !strings.Contains(string(body), "@typebot.io/js") {
			t.Errorf("http: %d, typebot page %v", resp.StatusCode, strings.Contains(string(body), "@typebot.io/js"))
		}
	})
	t.Run("robots", func(t *testing.T) {
		_, robots := get(t, f, https(KindRobots, "/robots.txt"))
		if !strings.Contains(string(robots), "Disallow: /static/") {
			t.Errorf("robots.txt %q does not disallow /static/", robots)
		}
		_, page := get(t, f, https(KindRobots, "/"))
		_, script := get(t, f, https(KindRobots, scriptPath))
		if !strings.Contains(string(page), `src="`+scriptPath+`"`) || !strings.Contains(string(script), "api.openai.com") {
			t.Error("robots host does not link the OpenAI script")
		}
		var truth HostTruth
		for _, h := range f.Truth() {
			if h.Kind == KindRobots {
				truth = h
			}
		}
		if _, ok := truth.Tech("OpenAI"); ok {
			t.Error("truth expects the disallowed script's OpenAI call")
		}
	})
	t.Run("unknown host", func(t *testing.T) {
		if resp, _ := get(t, f, "http://elsewhere.test/"); resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("unknown host: %d", resp.StatusCode)
		}
	})
}

// TestRawHTTPResetOnPlainHTTP checks the reset over plain HTTP too, reading
// the raw stream (no client library in between).
func TestRawHTTPResetOnPlainHTTP(t *testing.T) {
	f := startFarm(t, testConfig(5))
	conn, err := f.DialContext(context.Background(), "tcp", FaultHost(KindResetMidBody)+":80")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: "+FaultHost(KindResetMidBody)+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("got %v, want connection reset", err)
	}
}
