package input

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, raw    string
		allowIP      bool
		host, domain string
		err          error
	}{
		{name: "plain", raw: "example.com", host: "example.com", domain: "example.com"},
		{name: "upper and spaces", raw: "  ExAmple.COM\t", host: "example.com", domain: "example.com"},
		{name: "https url with path", raw: "https://Example.com/a/b?c=d#e", host: "example.com", domain: "example.com"},
		{name: "utm url", raw: "https://mypeas.ai/?utm_source=futurepedia&utm_medium=marketplace", host: "mypeas.ai", domain: "mypeas.ai"},
		{name: "explicit subdomain kept", raw: "chat.example.com", host: "chat.example.com", domain: "example.com"},
		{name: "www kept", raw: "https://www.jigso.io/lp-sidekick?utm_source=futurepedia", host: "www.jigso.io", domain: "jigso.io"},
		{name: "port stripped", raw: "example.com:8443", host: "example.com", domain: "example.com"},
		{name: "url port stripped", raw: "http://user:pw@example.com:8080/x", host: "example.com", domain: "example.com"},
		{name: "empty port", raw: "example.com:", host: "example.com", domain: "example.com"},
		{name: "scheme-relative", raw: "//cdn.example.com/x.js", host: "cdn.example.com", domain: "example.com"},
		{name: "other scheme", raw: "ftp://files.example.org", host: "files.example.org", domain: "example.org"},
		{name: "path without scheme", raw: "wenku.baidu.com/user/reg", host: "wenku.baidu.com", domain: "baidu.com"},
		{name: "backslash path", raw: `example.com\admin`, host: "example.com", domain: "example.com"},
		{name: "wildcard", raw: "*.example.co.uk", host: "example.co.uk", domain: "example.co.uk"},
		{name: "trailing dot", raw: "example.com.", host: "example.com", domain: "example.com"},
		{name: "two trailing dots", raw: "example.com..", err: ErrBadHost},
		{name: "multi-level suffix", raw: "a.b.example.co.uk", host: "a.b.example.co.uk", domain: "example.co.uk"},
		{name: "private suffix itself", raw: "github.io", host: "github.io", domain: "github.io"},
		{name: "under private suffix", raw: "user.github.io", host: "user.github.io", domain: "user.github.io"},
		{name: "unknown tld", raw: "farm0001.test", host: "farm0001.test", domain: "farm0001.test"},
		{name: "idn", raw: "Bücher.example", host: "xn--bcher-kva.example", domain: "xn--bcher-kva.example"},
		{name: "idn tld", raw: "пример.рф", host: "xn--e1afmkfd.xn--p1ai", domain: "xn--e1afmkfd.xn--p1ai"},
		{name: "punycode kept", raw: "XN--BCHER-KVA.example", host: "xn--bcher-kva.example", domain: "xn--bcher-kva.example"},
		{name: "ideographic full stop", raw: "example。com", host: "example.com", domain: "example.com"},
		{name: "fullwidth letters", raw: "ｅｘａｍｐｌｅ.com", host: "example.com", domain: "example.com"},
		{name: "underscore allowed", raw: "my_site.example.com", host: "my_site.example.com", domain: "example.com"},
		{name: "double hyphen allowed", raw: "r3---sn-apo3qvuoxuxbt-j5pe.googlevideo.com", host: "r3---sn-apo3qvuoxuxbt-j5pe.googlevideo.com", domain: "googlevideo.com"},
		{name: "empty", raw: "   ", err: ErrEmpty},
		{name: "scheme only", raw: "https://", err: ErrEmpty},
		{name: "ipv4", raw: "192.0.2.1", err: ErrIPLiteral},
		{name: "ipv4 url", raw: "http://192.0.2.1:8080/", err: ErrIPLiteral},
		{name: "ipv6 bracket", raw: "http://[2001:db8::1]/", err: ErrIPLiteral},
		{name: "ipv6 bare", raw: "::1", err: ErrIPLiteral},
		{name: "ipv4 allowed", raw: "http://192.0.2.1:8080/", allowIP: true, host: "192.0.2.1", domain: "192.0.2.1"},
		{name: "ipv6 allowed", raw: "[2001:DB8::1]:443", allowIP: true, host: "2001:db8::1", domain: "2001:db8::1"},
		{name: "mapped ipv6 allowed", raw: "[::ffff:192.0.2.1]", allowIP: true, host: "192.0.2.1", domain: "192.0.2.1"},
		{name: "short ipv4 form", raw: "127.1", err: ErrBadHost},
		{name: "numeric tld", raw: "1.2.3.4.5", err: ErrBadHost},
		{name: "single label", raw: "localhost", err: ErrSingleLabel},
		{name: "header word", raw: "Domain", err: ErrSingleLabel},
		{name: "icann public suffix", raw: "gov.uk", host: "gov.uk", domain: "gov.uk"},
		{name: "tld", raw: "com", err: ErrSingleLabel},
		{name: "space inside", raw: "exa mple.com", err: ErrBadHost},
		{name: "comma", raw: "1,google.com", err: ErrBadHost},
		{name: "leading hyphen", raw: "-example.com", err: ErrBadHost},
		{name: "trailing hyphen label", raw: "example-.com", err: ErrBadHost},
		{name: "empty label", raw: "example..com", err: ErrBadHost},
		{name: "label too long", raw: strings.Repeat("a", 64) + ".com", err: ErrBadHost},
		{name: "name too long", raw: strings.Repeat("abcdefghi.", 26) + "com", err: ErrBadHost},
		{name: "bad port", raw: "example.com:http", err: ErrBadPort},
		{name: "port too big", raw: "example.com:99999", err: ErrBadPort},
		{name: "unclosed bracket", raw: "[2001:db8::1", err: ErrBadHost},
		{name: "star in middle", raw: "a.*.example.com", err: ErrBadHost},
		{name: "percent", raw: "ex%61mple.com", err: ErrBadHost},
		{name: "invalid utf8", raw: "ex\xffample.com", err: ErrBadHost},
		{name: "bidi violation", raw: "a\u05d0.com", err: ErrBadHost},
		{name: "bad punycode", raw: "xn--a.com", err: ErrBadHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.raw, NormalizeOptions{AllowIP: tt.allowIP})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Normalize(%q) = %+v, %v; want error %v", tt.raw, got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize(%q): %v", tt.raw, err)
			}
			if got.Host != tt.host || got.Domain != tt.domain {
				t.Fatalf("Normalize(%q) = %+v; want host %q domain %q", tt.raw, got, tt.host, tt.domain)
			}
		})
	}
}

// reasons lists every sentinel an error from Normalize may match.
var reasons = []error{ErrEmpty, ErrIPLiteral, ErrBadHost, ErrSingleLabel, ErrBadPort}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"example.com", "https://www.Example.com:443/path?q#f", "Bücher.example", "*.a.co.uk.",
		"[::1]:80", "127.0.0.1", "xn--bcher-kva.example", "a\u05d0.com", "user@host.com",
		"1,google.com", "exa mple.com", "ｅｘａｍｐｌｅ.com", "co.uk", "-a.com", "a..b",
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, allowIP bool) {
		o := NormalizeOptions{AllowIP: allowIP}
		got, err := Normalize(raw, o)
		if err != nil {
			n := 0
			for _, r := range reasons {
				if errors.Is(err, r) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("Normalize(%q) error %v matches %d reasons, want 1", raw, err, n)
			}
			return
		}
		if got.Host == "" || got.Domain == "" || len(got.Host) > maxHostLen {
			t.Fatalf("Normalize(%q) = %+v", raw, got)
		}
		if !utf8.ValidString(got.Host) || strings.ToLower(got.Host) != got.Host {
			t.Fatalf("Normalize(%q) host %q not lowercase ASCII", raw, got.Host)
		}
		if got.Host != got.Domain && !strings.HasSuffix(got.Host, "."+got.Domain) {
			t.Fatalf("Normalize(%q) = %+v: domain is not a suffix of host", raw, got)
		}
		if _, ipErr := parseIP(got.Host); ipErr != nil && isPlainASCII(mustExtract(t, raw)) {
			host := mustExtract(t, raw)
			slow, err := lookupProfile.ToASCII(host)
			if err != nil || checkLabels(slow) != nil || withDomain(slow) != got {
				t.Fatalf("fast path %q -> %+v, IDNA path -> %q, %v", raw, got, slow, err)
			}
		}
		again, err := Normalize(got.Host, o)
		if err != nil || again != got {
			t.Fatalf("Normalize not idempotent: %q -> %+v -> %+v, %v", raw, got, again, err)
		}
	})
}

func mustExtract(t *testing.T, raw string) string {
	host, err := extractHost(strings.TrimSpace(raw))
	if err != nil {
		t.Fatalf("extractHost(%q) failed after Normalize succeeded: %v", raw, err)
	}
	return host
}
