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
// fetch.ScriptLister, so the fetcher can take linked scripts from the same
// parsing rules the detector uses.
func ScriptSources(body []byte, base *url.URL) []string {
	z := html.NewTokenizer(bytes.NewReader(body))
	var out []string
	seen := map[string]bool{}
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if tag != "script" && tag != "base" {
				continue
			}
			var src, typ string
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch {
				case tag == "base" && string(k) == "href":
					if u, err := resolve(base, string(v)); err == nil {
						base = u
					}
				case string(k) == "src":
					src = string(v)
				case string(k) == "type":
					typ = string(v)
				}
			}
			if tag != "script" || src == "" || !executableScript(typ) {
				continue
			}
			u, err := resolve(base, src)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				continue
			}
			s := u.String()
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
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
