package hf

import "strings"

// NextLink returns the target of the rel="next" link in an HTTP Link header
// value (RFC 8288), or "" when there is none. It accepts several links
// separated by commas, parameters in any order and case, quoted or bare rel
// values holding several space-separated relation types, and commas inside
// the <...> target.
func NextLink(header string) string {
	s := header
	for {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			return ""
		}
		gt := strings.IndexByte(s[lt:], '>')
		if gt < 0 {
			return ""
		}
		target := s[lt+1 : lt+gt]
		if i := strings.LastIndexByte(target, '<'); i >= 0 { // "<<x>": the target is "x"
			target = target[i+1:]
		}
		s = s[lt+gt+1:]
		params := s
		if next := strings.IndexByte(s, '<'); next >= 0 {
			params = s[:next]
		}
		if hasNextRel(params) {
			return strings.TrimSpace(target)
		}
	}
}

// hasNextRel reports whether a link's parameter list (";rel=next; ...")
// names the "next" relation.
func hasNextRel(params string) bool {
	_, params, ok := strings.Cut(params, ";") // parameters follow the first ";"
	if !ok {
		return false
	}
	for p := range strings.SplitSeq(params, ";") {
		name, value, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "rel") {
			continue
		}
		value = strings.TrimSpace(value)
		value = strings.TrimRight(value, ", ")
		value = strings.Trim(value, `"`)
		for _, rel := range strings.Fields(value) {
			if strings.EqualFold(rel, "next") {
				return true
			}
		}
	}
	return false
}
