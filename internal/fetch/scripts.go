package fetch

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/aicensus/aicensus/internal/model"
)

// fetchScripts fetches up to MaxScripts of the page's linked scripts:
// same-site ones (same registrable domain as the page's final URL) first,
// then scripts on known CDNs, each in document order. Every script URL and
// each of its redirects must be allowed by its origin's robots.txt. The
// decoded bytes of all scripts together stay within ScriptBudget; the script
// that reaches the budget is kept truncated. Failed scripts are skipped.
func (c *Client) fetchScripts(ctx context.Context, page *url.URL, body []byte, jar http.CookieJar) []model.Script {
	cands := c.pickScripts(page, c.opts.ScriptLister(body, page))
	budget := c.opts.ScriptBudget
	var out []model.Script
	for _, u := range cands {
		if len(out) >= c.opts.MaxScripts || budget <= 0 || ctx.Err() != nil {
			break
		}
		res := c.get(ctx, u.String(), getOptions{
			limit: min(budget, c.opts.MaxBodyBytes), accept: "*/*", referer: page.String(),
			jar: jar, checkRobots: true,
		})
		if res.resp == nil || res.resp.StatusCode/100 != 2 {
			continue
		}
		if res.err != nil && !errors.Is(res.err, ErrBodyTooLarge) {
			continue
		}
		budget -= int64(len(res.body))
		out = append(out, model.Script{URL: res.url, Body: res.body})
	}
	return out
}

// maxScriptCandidates bounds how many listed scripts are considered, so a
// page listing thousands costs nothing more.
const maxScriptCandidates = 64

// pickScripts resolves, de-duplicates and orders script URLs: same-site
// first, then known CDNs; others are dropped.
func (c *Client) pickScripts(page *url.URL, srcs []string) []*url.URL {
	site := registrable(page.Hostname())
	seen := make(map[string]bool)
	var same, cdn []*url.URL
	for _, s := range srcs {
		if len(same)+len(cdn) >= maxScriptCandidates {
			break
		}
		u, err := page.Parse(strings.TrimSpace(s))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			continue
		}
		u.Fragment, u.RawFragment = "", ""
		key := u.String()
		if seen[key] {
			continue
		}
		seen[key] = true
		h := strings.ToLower(u.Hostname())
		switch {
		case registrable(h) == site:
			same = append(same, u)
		case c.isCDN(h):
			cdn = append(cdn, u)
		}
	}
	return append(same, cdn...)
}

// isCDN reports whether host is one of Options.CDNs.
func (c *Client) isCDN(host string) bool {
	for _, d := range c.opts.CDNs {
		if strings.HasPrefix(d, ".") {
			if strings.HasSuffix(host, d) {
				return true
			}
		} else if host == d {
			return true
		}
	}
	return false
}
