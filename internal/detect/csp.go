package detect

import "strings"

// cspSource is one host-source of a Content-Security-Policy directive.
type cspSource struct {
	directive string
	source    string // host[:port][/path], scheme removed, lowercase
}

// maxCSPSources caps the sources taken from one policy.
const maxCSPSources = 2000

// cspSources returns the host-sources of a serialised policy (or several
// policies joined by commas). Keywords ('self', nonces, hashes) and bare
// schemes (https:, data:) are skipped: they name no vendor.
func cspSources(policy string) []cspSource {
	var out []cspSource
	for _, pol := range strings.Split(policy, ",") {
		for _, dir := range strings.Split(pol, ";") {
			fields := strings.Fields(dir)
			if len(fields) < 2 {
				continue
			}
			name := strings.ToLower(fields[0])
			for _, src := range fields[1:] {
				if len(out) >= maxCSPSources {
					return out
				}
				if s, ok := hostSource(src); ok {
					out = append(out, cspSource{directive: name, source: s})
				}
			}
		}
	}
	return out
}

// hostSource normalises a source expression to host[:port][/path], or
// reports false for keywords and scheme-only sources.
func hostSource(src string) (string, bool) {
	if strings.HasPrefix(src, "'") || src == "*" {
		return "", false
	}
	s := strings.ToLower(src)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	} else if strings.HasSuffix(s, ":") {
		return "", false // scheme-source such as https: or data:
	}
	if s == "" {
		return "", false
	}
	return s, true
}
