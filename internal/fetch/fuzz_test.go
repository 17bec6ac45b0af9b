package fetch

import (
	"bytes"
	"net/url"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
)

// FuzzReadBody feeds arbitrary bytes to every decoder: it must never panic,
// never return more than the cap, and classify every failure.
func FuzzReadBody(f *testing.F) {
	for _, enc := range []string{"gzip", "br", "zstd", "zlib", "flate"} {
		f.Add(compress(f, enc, "<html>hello hello hello</html>"), encodingName(enc), uint16(64))
	}
	f.Add([]byte("plain"), "", uint16(3))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, "gzip", uint16(100))
	f.Add([]byte{0x78, 0x9c}, "deflate", uint16(10))
	f.Fuzz(func(t *testing.T, data []byte, enc string, limit uint16) {
		lim := int64(limit) + 1
		got, err := readBody(bytes.NewReader(data), enc, lim)
		if int64(len(got)) > lim {
			t.Fatalf("returned %d bytes over a cap of %d", len(got), lim)
		}
		if err != nil {
			st := StatusOf(err)
			if st != model.StatusBodyTooLarge && st != model.StatusHTTPError && st != model.StatusConnectionReset {
				t.Fatalf("error %v classified as %s", err, st)
			}
			return
		}
		if len(parseEncodings(enc)) == 0 && !bytes.Equal(got, data) {
			t.Fatalf("identity body changed")
		}
	})
}

func encodingName(kind string) string {
	switch kind {
	case "zlib", "flate":
		return "deflate"
	}
	return kind
}

// FuzzRobots parses arbitrary robots.txt bodies the way fetchRobots does and
// asks about arbitrary paths: no panics, and the answer for an empty file or
// a 4xx is always "allowed".
func FuzzRobots(f *testing.F) {
	f.Add([]byte("User-agent: *\nDisallow: /private/\n"), "/private/x.js", "aicensus", 200)
	f.Add([]byte("User-agent: aicensus\nDisallow: /\nAllow: /public/*.js$\n"), "/public/a.js?x=1", "aicensus", 200)
	f.Add([]byte("Disallow: /\n"), "/", "aicensus", 200)
	f.Add([]byte("User-agent: *\nCrawl-delay: abc\n"), "/a", "x", 200)
	f.Add([]byte("\xef\xbb\xbfUser-agent: *\r\nDisallow: /*?\r\n"), "/a?b", "aicensus", 503)
	f.Fuzz(func(t *testing.T, body []byte, path, agent string, code int) {
		r := robotsFromResponse(code, body, nil)
		allowed := r.allows(path, agent)
		if code >= 400 && code < 500 && !allowed {
			t.Fatalf("a %d robots.txt disallowed %q", code, path)
		}
		if code >= 200 && code < 300 && len(bytes.TrimSpace(body)) == 0 && !allowed {
			t.Fatalf("an empty robots.txt disallowed %q", path)
		}
		if u, err := url.Parse("https://example.test" + path); err == nil {
			r.allows(robotsPath(u), agent)
		}
	})
}
