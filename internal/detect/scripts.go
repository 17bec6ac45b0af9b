package detect

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// ScriptSources returns the absolute http(s) URLs of a page's <script src>
// elements, in page order without duplicates, resolved against base (and
// a <base href> when the page has one). It has the signature of
// fetch.ScriptLister, so the fetcher takes linked scripts with the same
// rules the detector uses: executable types only, script bodies and
// comments are not markup.
//
// It does not tokenize the whole page: it jumps from '<' to '<' looking for
// <script and <base (case-insensitively), skips comments and script bodies,
// and parses only those tags' attributes, so listing costs a fraction of a
// full pass.
func ScriptSources(body []byte, base *url.URL) []string {
	var out []string
	seen := map[string]bool{}
	for i := 0; i < len(body); {
		j := bytes.IndexByte(body[i:], '<')
		if j < 0 {
			break
		}
		i += j
		rest := body[i:]
		if len(rest) < 2 || !interestingStart[rest[1]] {
			i++ // most tags: <div, <a, <span, </...
			continue
		}
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			n := commentLen(rest)
			if n < 0 {
				return out
			}
			i += n
			continue
		case hasPrefixFold(rest, "<script") && tagEnds(rest, len("<script")):
			src, typ, n := tagAttrs(rest, "src", "type")
			i += n
			if src != "" && executableScript(typ) {
				if u, err := resolve(base, src); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
					if s := u.String(); !seen[s] {
						seen[s] = true
						out = append(out, s)
					}
				}
			}
			// The script's body is raw text, not markup.
			if end := indexFold(body[i:], "</script"); end >= 0 {
				i += end
			} else {
				return out
			}
			continue
		case hasPrefixFold(rest, "<base") && tagEnds(rest, len("<base")):
			href, _, n := tagAttrs(rest, "href", "")
			i += n
			if u, err := resolve(base, href); href != "" && err == nil {
				base = u
			}
			continue
		}
		if raw := rawTextElement(rest); raw != "" {
			// Like the tokenizer, read the element's content as text.
			_, _, n := tagAttrs(rest, "", "")
			i += n
			if raw == "plaintext" {
				return out
			}
			if end := indexFold(body[i:], "</"+raw); end >= 0 {
				i += end
				continue
			}
			return out
		}
		i++
	}
	return out
}

// interestingStart marks the bytes after '<' that can begin a comment, a
// script, base or raw-text element tag.
var interestingStart = func() (t [256]bool) {
	for _, c := range "!sSbBiInNpPtTxX" {
		t[c] = true
	}
	return t
}()

// rawTextElements are the elements whose content the HTML tokenizer reads
// as text (golang.org/x/net/html's raw tags, script aside).
var rawTextElements = []string{"iframe", "noembed", "noframes", "noscript", "plaintext", "style", "textarea", "title", "xmp"}

// rawTextElement returns the raw-text element starting rest, or "".
func rawTextElement(rest []byte) string {
	if len(rest) < 2 || rest[1]|0x20 < 'a' || rest[1]|0x20 > 'z' {
		return ""
	}
	for _, e := range rawTextElements {
		if hasPrefixFold(rest[1:], e) && tagEnds(rest, 1+len(e)) {
			return e
		}
	}
	return ""
}

// commentLen returns the length of the comment starting rest ("<!--"),
// ended as the HTML tokenizer ends it ("-->", "--!>", or at once for
// "<!-->" and "<!--->"), or -1 when it runs to the end.
func commentLen(rest []byte) int {
	switch {
	case bytes.HasPrefix(rest, []byte("<!-->")):
		return 5
	case bytes.HasPrefix(rest, []byte("<!--->")):
		return 6
	}
	for k := 4; ; {
		j := bytes.Index(rest[k:], []byte("--"))
		if j < 0 {
			return -1
		}
		k += j + 2
		if k < len(rest) && rest[k] == '>' {
			return k + 1
		}
		if k+1 < len(rest) && rest[k] == '!' && rest[k+1] == '>' {
			return k + 2
		}
		k--
	}
}

// tagEnds reports whether the tag name ends at rest[n] (so "<scripts" or
// "<basefont" are not taken for <script> and <base>).
func tagEnds(rest []byte, n int) bool {
	if n >= len(rest) {
		return false
	}
	switch rest[n] {
	case ' ', '\t', '\n', '\r', '\f', '/', '>':
		return true
	}
	return false
}

// tagAttrs parses the start tag at the beginning of rest as the HTML
// tokenizer does and returns the values of two attributes (the first of
// each name, names ASCII case-insensitive) and the tag's length.
func tagAttrs(rest []byte, a, b string) (va, vb string, n int) {
	if va, vb, n, ok := plainTagAttrs(rest, a, b); ok {
		return va, vb, n
	}
	return tokenizerTagAttrs(rest, a, b)
}

func skipSpaces(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// plainTagAttrs is tagAttrs without a tokenizer (which allocates 4 KiB
// each time): scanTag reads the tag in place. It gives up (ok false) on
// what the tokenizer would rewrite in a wanted value (character
// references, carriage returns, NUL) and on a tag cut off by the end of
// rest; tagAttrs then asks the tokenizer.
func plainTagAttrs(rest []byte, a, b string) (va, vb string, n int, ok bool) {
	t, ok := scanTag(rest, 1, nil)
	if !ok {
		return "", "", 0, false
	}
	if va, vb, ok = t.strAttrs(rest, a, b); !ok {
		return "", "", 0, false
	}
	return va, vb, t.end, true
}

// equalFoldASCII reports whether key, ASCII-lowercased, is name (lower
// case).
func equalFoldASCII(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// tokenizerTagAttrs is tagAttrs by the HTML tokenizer.
func tokenizerTagAttrs(rest []byte, a, b string) (va, vb string, n int) {
	z := html.NewTokenizer(bytes.NewReader(rest))
	tt := z.Next()
	n = len(z.Raw())
	if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
		return "", "", max(n, 1)
	}
	_, more := z.TagName()
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		switch string(k) {
		case a:
			va = string(v)
		case b:
			vb = string(v)
		}
	}
	return va, vb, max(n, 1)
}

// hasPrefixFold reports whether b starts with the lowercase ASCII prefix,
// ignoring ASCII case.
func hasPrefixFold(b []byte, prefix string) bool {
	if len(b) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// indexFold finds an ASCII string case-insensitively.
func indexFold(b []byte, s string) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], s[0])
		if j < 0 {
			return -1
		}
		i += j
		if hasPrefixFold(b[i:], s) {
			return i
		}
		i++
	}
}

func resolve(base *url.URL, ref string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return nil, err
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	u.Fragment = ""
	return u, nil
}
