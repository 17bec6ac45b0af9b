package input

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Reasons a string is not a usable target. Every error returned by Normalize
// (and every Item.Err) matches exactly one of them with errors.Is.
var (
	ErrEmpty       = errors.New("empty")                                  // nothing left after trimming
	ErrIPLiteral   = errors.New("ip address, not a domain")               // an IPv4 or IPv6 literal (see NormalizeOptions.AllowIP)
	ErrBadHost     = errors.New("invalid host name")                      // bad characters, labels or length, or IDNA failure
	ErrSingleLabel = errors.New("single-label name, not a public domain") // e.g. "localhost", "intranet"
	ErrBadPort     = errors.New("invalid port")                           // "host:abc"
	ErrLineTooLong = errors.New("line too long")                          // longer than Options.MaxLineBytes
	ErrNoColumn    = errors.New("column missing on this line")            // a CSV/TSV row with too few fields
)

// Target is a normalised scan target.
type Target struct {
	// Host is the host to fetch: lowercase ASCII (IDNs in punycode), no
	// trailing dot, no port. For an accepted IP literal it is the canonical
	// address text (IPv6 without brackets).
	Host string
	// Domain is the registrable domain (eTLD+1) of Host. When Host is itself
	// a public suffix (gov.uk, aomori.jp, github.io: real lists contain
	// them, and many serve a site) or an IP literal, Domain equals Host.
	Domain string
}

// NormalizeOptions changes what Normalize accepts. The zero value is the
// default.
type NormalizeOptions struct {
	// AllowIP accepts IPv4 and IPv6 literals as targets. By default they are
	// rejected with ErrIPLiteral: a census counts domains, and an address has
	// neither a registrable domain nor a name to verify TLS against.
	AllowIP bool
}

// maxHostLen is the longest host name DNS can carry (RFC 1035, without the
// root label).
const maxHostLen = 253

// lookupProfile maps and validates names the way a browser looks them up
// (UTS #46 non-transitional, RFC 5893 bidi rule), but tolerates "_" and
// "--" in the third and fourth position, both of which occur in real host
// names; the ASCII result is checked by checkLabels afterwards.
var lookupProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.VerifyDNSLength(true),
	idna.StrictDomainName(false),
	idna.CheckHyphens(false),
)

// Normalize turns one raw domain or URL into a Target. It never panics; on
// failure the error wraps one of the Err* reasons above. It is safe for
// concurrent use.
//
// Rules, in order: trim white space; strip "scheme://" (any scheme) or a
// leading "//"; cut at the first "/", "?", "#" or "\"; drop user info
// ("user@"); drop a numeric port; unwrap "[v6]"; strip a leading "*." and
// one trailing "."; reject IP literals unless opts.AllowIP; map with IDNA
// (lowercase, Unicode to punycode); require LDH labels ("_" allowed) of 1 to
// 63 bytes, at most 253 bytes in all, a non-numeric last label and at least
// two labels. A name that is itself a public suffix (gov.uk) is accepted
// with Domain equal to Host.
func Normalize(raw string, opts NormalizeOptions) (Target, error) {
	host, err := extractHost(strings.TrimSpace(raw))
	if err != nil {
		return Target{}, err
	}
	if ip, err := parseIP(host); err == nil {
		if !opts.AllowIP {
			return Target{}, ErrIPLiteral
		}
		s := ip.Unmap().WithZone("").String()
		return Target{Host: s, Domain: s}, nil
	}
	ascii, err := toASCII(host)
	if err != nil {
		return Target{}, err
	}
	if err := checkLabels(ascii); err != nil {
		return Target{}, err
	}
	return withDomain(ascii), nil
}

// parseIP parses an IP literal, skipping netip (whose errors allocate) for
// strings that cannot be one.
func parseIP(s string) (netip.Addr, error) {
	if strings.IndexByte(s, ':') < 0 && strings.Trim(s, "0123456789.") != "" {
		return netip.Addr{}, ErrBadHost
	}
	return netip.ParseAddr(s)
}

// toASCII maps a host with IDNA. Plain ASCII names without an "xn--" label
// take a fast path (lowercasing is all the mapping does to them; checkLabels
// then rejects what IDNA would).
func toASCII(host string) (string, error) {
	if isPlainASCII(host) {
		return strings.ToLower(host), nil
	}
	if !utf8.ValidString(host) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrBadHost)
	}
	ascii, err := lookupProfile.ToASCII(host)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadHost, err)
	}
	return ascii, nil
}

// isPlainASCII reports whether s is printable ASCII with no punycode label.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] >= 0x7f {
			return false
		}
		if (s[i] == 'x' || s[i] == 'X') && (i == 0 || s[i-1] == '.') && len(s) >= i+4 && strings.EqualFold(s[i:i+4], "xn--") {
			return false
		}
	}
	return true
}

// extractHost returns the host part of a trimmed URL or domain, before IDNA
// mapping: no scheme, user info, port, path, brackets, wildcard or trailing
// dot.
func extractHost(s string) (string, error) {
	if s == "" {
		return "", ErrEmpty
	}
	if i := strings.Index(s, "://"); i > 0 && isScheme(s[:i]) {
		s = s[i+3:]
	} else if strings.HasPrefix(s, "//") {
		s = s[2:]
	}
	if i := strings.IndexAny(s, "/?#\\"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", fmt.Errorf("%w: unclosed '['", ErrBadHost)
		}
		if rest := s[end+1:]; rest != "" && !isPort(strings.TrimPrefix(rest, ":")) {
			return "", fmt.Errorf("%w: %q", ErrBadPort, rest)
		}
		return s[1:end], nil
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 && strings.Count(s, ":") == 1 {
		if !isPort(s[i+1:]) {
			return "", fmt.Errorf("%w: %q", ErrBadPort, s[i+1:])
		}
		s = s[:i]
	}
	s = strings.TrimPrefix(s, "*.")
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", ErrEmpty
	}
	return s, nil
}

// isScheme reports whether s is a URL scheme (RFC 3986: ALPHA *( ALPHA /
// DIGIT / "+" / "-" / "." )).
func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// isPort reports whether s is empty or a decimal port number up to 65535.
func isPort(s string) bool {
	if len(s) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= 65535
}

// checkLabels validates an IDNA-mapped ASCII host name.
func checkLabels(host string) error {
	if len(host) > maxHostLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrBadHost, maxHostLen)
	}
	labels := 0
	last := ""
	for label := range strings.SplitSeq(host, ".") {
		labels++
		last = label
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%w: empty or over-long label in %q", ErrBadHost, host)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%w: label %q starts or ends with '-'", ErrBadHost, label)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("%w: character %q in %q", ErrBadHost, c, host)
			}
		}
	}
	if allDigits(last) {
		return fmt.Errorf("%w: numeric top-level label in %q", ErrBadHost, host)
	}
	if labels < 2 {
		return fmt.Errorf("%w: %q", ErrSingleLabel, host)
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// withDomain derives the registrable domain of a valid ASCII host. It is
// publicsuffix.EffectiveTLDPlusOne with one suffix lookup instead of two.
func withDomain(host string) Target {
	suffix, _ := publicsuffix.PublicSuffix(host)
	i := len(host) - len(suffix) - 1
	if i <= 0 || host[i] != '.' {
		// host is itself a public suffix (or the list disagrees with the
		// label boundaries, which it cannot for a validated host).
		return Target{Host: host, Domain: host}
	}
	return Target{Host: host, Domain: host[1+strings.LastIndexByte(host[:i], '.'):]}
}
