package catalog

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aicensus/aicensus/internal/model"
)

// tagSep separates a pattern from its tags: a backslash and a semicolon.
const tagSep = `\;`

// parsedTags is a pattern split into its expression and tags.
type parsedTags struct {
	regex      string
	version    string
	confidence int
	class      model.EvidenceClass
	source     int // -1 when absent
}

// parseTags splits raw into the expression and its tags. Unknown tags and bad
// values are errors.
func parseTags(raw string) (parsedTags, error) {
	parts := strings.Split(raw, tagSep)
	p := parsedTags{regex: parts[0], confidence: 100, source: -1}
	for _, tag := range parts[1:] {
		key, val, ok := strings.Cut(tag, ":")
		if !ok {
			return p, fmt.Errorf("tag %q: want key:value", tag)
		}
		switch key {
		case "version":
			p.version = val
		case "confidence":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || n > 100 {
				return p, fmt.Errorf("confidence %q: want an integer 0..100", val)
			}
			p.confidence = n
		case "class":
			c := model.EvidenceClass(val)
			if !c.Valid() {
				return p, fmt.Errorf("class %q: want one of %v", val, model.EvidenceClasses())
			}
			p.class = c
		case "source":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return p, fmt.Errorf("source %q: want an index into sources", val)
			}
			p.source = n
		default:
			return p, fmt.Errorf("unknown tag %q", key)
		}
	}
	return p, nil
}

var (
	versionTernary = regexp.MustCompile(`\\(\d)\?([^:]*):(.*)$`)
	versionRef     = regexp.MustCompile(`\\(\d)`)
)

// EvalVersion resolves a version template against a match's capture groups
// (groups[0] is the whole match), with Wappalyzer's semantics: `\N?a:b`
// becomes a when group N matched a non-empty string and b otherwise, then
// every `\N` is replaced by group N ("" when it did not take part).
func EvalVersion(tmpl string, groups []string) string {
	if tmpl == "" {
		return ""
	}
	group := func(s string) string {
		n, _ := strconv.Atoi(s)
		if n < len(groups) {
			return groups[n]
		}
		return ""
	}
	if m := versionTernary.FindStringSubmatchIndex(tmpl); m != nil {
		pick := tmpl[m[6]:m[7]]
		if group(tmpl[m[2]:m[3]]) != "" {
			pick = tmpl[m[4]:m[5]]
		}
		tmpl = tmpl[:m[0]] + pick
	}
	out := versionRef.ReplaceAllStringFunc(tmpl, func(ref string) string { return group(ref[1:]) })
	return strings.TrimSpace(out)
}

// defaultClass is the evidence class of a pattern that names none, by signal.
func defaultClass(signal, key string) model.EvidenceClass {
	switch signal {
	case SignalDNS:
		if key == "TXT" {
			return model.ClassDNSVerification
		}
		return model.ClassHeader
	case SignalHeaders, SignalCookies, SignalCertIssuer:
		return model.ClassHeader
	case SignalCSP:
		return model.ClassCSP
	case SignalXHR:
		return model.ClassBrowserAPICall
	}
	return model.ClassPageEmbed
}
