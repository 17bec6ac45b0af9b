package detect

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/matcher"
)

// Static js matching. A js pattern names a global property path such as
// "botpressWebChat.init" or "Intercom". Without a browser, aicensus counts
// the global as present when page code visibly creates or uses it:
//
//   - path = ...        assignment, optionally through window., self. or
//                        globalThis. (not ==)
//   - path(...)         call
//   - var|let|const|function|class path   declaration (one-segment paths)
//   - window["path"] = ...                  (one-segment paths)
//   - root = { ... leaf: ...}               (two-segment paths root.leaf)
//
// The path must not be preceded by an identifier character or a dot (so
// "foo.Intercom(" is not Intercom). A js pattern with a value pattern
// matches statically only when a string literal is assigned to the path;
// the value pattern then applies to that literal (and may give a version).
// Paths shorter than 3 characters are not matched statically. Matching is
// case-sensitive, as js property paths are.

// jsLit is one literal searched in scripts.
type jsLit struct {
	path   string
	pats   []*catalog.Pattern
	object string // for root literals of two-segment paths: the leaf key
}

var jsPathRe = regexp.MustCompile(`^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$`)

// buildJSStatic indexes the js patterns that can be recognised in source.
func (d *Detector) buildJSStatic(pats []*catalog.Pattern) error {
	d.jsVal = map[*catalog.Pattern]*matcher.Set{}
	idx := map[string]int{}
	add := func(lit, object string, p *catalog.Pattern) {
		key := lit + "\x00" + object
		i, ok := idx[key]
		if !ok {
			i = len(d.jsLits)
			idx[key] = i
			d.jsLits = append(d.jsLits, jsLit{path: lit, object: object})
		}
		d.jsLits[i].pats = append(d.jsLits[i].pats, p)
	}
	for _, p := range pats {
		if p.Regex != "" {
			s, err := matcher.Compile([]string{p.Regex})
			if err != nil {
				return err
			}
			d.jsVal[p] = s
		}
		if len(p.Key) < 3 || !jsPathRe.MatchString(p.Key) {
			continue
		}
		d.staticJSKeys++
		add(p.Key, "", p)
		if segs := strings.Split(p.Key, "."); len(segs) == 2 && len(segs[0]) >= 4 {
			add(segs[0], segs[1], p)
		}
	}
	d.jsLow = make([]string, len(d.jsLits))
	for i, l := range d.jsLits {
		d.jsLow[i] = strings.ToLower(l.path)
	}
	return nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func skipSpaceBack(b []byte, i int) int {
	for i > 0 && (b[i-1] == ' ' || b[i-1] == '\t' || b[i-1] == '\n' || b[i-1] == '\r') {
		i--
	}
	return i
}

// jsUse classifies the occurrence of a path at text[start:end]: whether it
// is created or used there, and an assigned string literal if any.
func jsUse(text []byte, start, end int) (ok bool, value string) {
	if end < len(text) && isIdentByte(text[end]) {
		return false, "" // longer identifier
	}
	pre := start
	for _, g := range []string{"window.", "self.", "globalThis."} {
		if pre >= len(g) && string(text[pre-len(g):pre]) == g {
			pre -= len(g)
			break
		}
	}
	if pre > 0 && (isIdentByte(text[pre-1]) || text[pre-1] == '.') {
		// window["x"] = ... form
		if start >= 2 && (text[start-1] == '"' || text[start-1] == '\'') && text[start-2] == '[' &&
			end+2 < len(text) && text[end] == text[start-1] && text[end+1] == ']' {
			i := skipSpace(text, end+2)
			return i < len(text) && text[i] == '=' && (i+1 >= len(text) || text[i+1] != '='), ""
		}
		return false, ""
	}
	// declaration: var|let|const|function|class path
	if kw := skipSpaceBack(text, pre); kw < pre {
		for _, k := range []string{"var", "let", "const", "function", "class"} {
			if kw >= len(k) && string(text[kw-len(k):kw]) == k && (kw == len(k) || !isIdentByte(text[kw-len(k)-1])) {
				return true, ""
			}
		}
	}
	i := skipSpace(text, end)
	if i >= len(text) {
		return false, ""
	}
	switch text[i] {
	case '(':
		return true, ""
	case '=':
		if i+1 < len(text) && (text[i+1] == '=' || text[i+1] == '>') {
			return false, ""
		}
		j := skipSpace(text, i+1)
		if j < len(text) && (text[j] == '"' || text[j] == '\'') {
			q := text[j]
			k := bytes.IndexByte(text[j+1:min(len(text), j+102)], q)
			if k > 0 && !bytes.ContainsAny(text[j+1:j+1+k], "\\\n") {
				return true, string(text[j+1 : j+1+k])
			}
		}
		return true, ""
	}
	return false, ""
}

// objectHasKey reports whether root at text[start:end] is assigned an
// object literal with key leaf (within 500 bytes).
func objectHasKey(text []byte, start, end int, leaf string) bool {
	if start > 0 && (isIdentByte(text[start-1]) || text[start-1] == '.' && !bytes.HasSuffix(text[:start], []byte("window."))) {
		return false
	}
	i := skipSpace(text, end)
	if i >= len(text) || text[i] != '=' {
		return false
	}
	i = skipSpace(text, i+1)
	if i >= len(text) || text[i] != '{' {
		return false
	}
	body := text[i+1 : min(len(text), i+501)]
	if j := bytes.IndexByte(body, '}'); j >= 0 {
		body = body[:j]
	}
	for off := 0; ; {
		k := bytes.Index(body[off:], []byte(leaf))
		if k < 0 {
			return false
		}
		k += off
		after := skipSpace(body, k+len(leaf))
		if after < len(body) && (body[after] == '"' || body[after] == '\'') {
			after = skipSpace(body, after+1)
		}
		if (k == 0 || !isIdentByte(body[k-1])) && after < len(body) && body[after] == ':' {
			return true
		}
		off = k + len(leaf)
	}
}

// jsStaticScan matches js globals created or used in script source, given
// the hits of the lowercased js paths in text.
func (d *Detector) jsStaticScan(h *hits, text []byte, found []matcher.Hit, loc, via string) {
	for _, f := range found {
		id, start, end := int(f.Lit), int(f.Start), int(f.End)
		lit := &d.jsLits[id]
		if string(text[start:end]) != lit.path {
			continue // js property paths are case-sensitive
		}
		if lit.object != "" {
			if objectHasKey(text, start, end, lit.object) {
				for _, p := range lit.pats {
					if p.Regex == "" {
						h.add(p, "", string(text[start:min(len(text), end+64)]), "js:"+loc, via)
					}
				}
			}
			continue
		}
		ok, value := jsUse(text, start, end)
		if !ok {
			continue
		}
		snippet := string(text[max(0, start-16):min(len(text), end+48)])
		for _, p := range lit.pats {
			if p.Regex == "" {
				h.add(p, "", snippet, "js:"+loc, via)
				continue
			}
			if value == "" {
				continue // a value pattern needs a literal value
			}
			vb := []byte(value)
			_ = d.jsVal[p].Scan(vb, nil, func(_ int, vm matcher.Match) {
				groups := make([]string, len(vm.Index)/2)
				for i := range groups {
					groups[i] = vm.Group(vb, i)
				}
				h.add(p, catalog.EvalVersion(p.Version, groups), snippet, "js:"+loc, via)
			})
		}
	}
}
