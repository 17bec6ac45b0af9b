package fetch

import (
	"container/list"
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/temoto/robotstxt"
	"golang.org/x/sync/singleflight"
)

// robotsTTL is how long a robots.txt answer is reused (RFC 9309 section
// 2.4: no more than 24 hours).
const robotsTTL = 24 * time.Hour

// robotsRules is what one origin's robots.txt says.
type robotsRules struct {
	data    *robotstxt.RobotsData // nil: allow everything
	deny    bool                  // unreachable or unparsable: disallow everything
	body    []byte                // the 2xx body, nil otherwise
	fetched time.Time
}

// allows reports whether agent may fetch path (path plus query, escaped).
func (r *robotsRules) allows(path, agent string) bool {
	switch {
	case r.deny:
		return false
	case r.data == nil:
		return true
	}
	return r.data.TestAgent(path, agent)
}

// robotsCache keeps robots.txt answers per origin (scheme://host:port),
// bounded by the total size of their bodies (LRU), and fetches each origin
// once however many targets ask at the same time. Safe for concurrent use.
type robotsCache struct {
	maxBytes int64
	mu       sync.Mutex
	lru      *list.List // of *robotsEntry, most recent first
	entries  map[string]*list.Element
	bytes    int64
	group    singleflight.Group
}

type robotsEntry struct {
	origin string
	rules  *robotsRules
	size   int64
}

func newRobotsCache(maxBytes int64) *robotsCache {
	return &robotsCache{maxBytes: maxBytes, lru: list.New(), entries: make(map[string]*list.Element)}
}

func (c *robotsCache) get(origin string) *robotsRules {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[origin]
	if !ok {
		return nil
	}
	e := el.Value.(*robotsEntry)
	if time.Since(e.rules.fetched) > robotsTTL {
		c.remove(el)
		return nil
	}
	c.lru.MoveToFront(el)
	return e.rules
}

func (c *robotsCache) put(origin string, r *robotsRules) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[origin]; ok {
		c.remove(el)
	}
	// Every entry costs at least a little so the entry count is bounded too.
	e := &robotsEntry{origin: origin, rules: r, size: int64(len(r.body)) + 256}
	c.entries[origin] = c.lru.PushFront(e)
	c.bytes += e.size
	for c.bytes > c.maxBytes && c.lru.Len() > 1 {
		c.remove(c.lru.Back())
	}
}

func (c *robotsCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*robotsEntry)
	delete(c.entries, e.origin)
	c.bytes -= e.size
}

func (c *robotsCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// robotsFor returns the robots.txt rules of u's origin, from the cache or
// fetched once. The fetch is shared by concurrent callers and runs under its
// own RobotsTimeout; a caller whose ctx ends first gets deny rules (nothing
// beyond "/" is fetched without an answer).
func (c *Client) robotsFor(ctx context.Context, u *url.URL) *robotsRules {
	origin := u.Scheme + "://" + u.Host
	if r := c.robots.get(origin); r != nil {
		return r
	}
	ch := c.robots.group.DoChan(origin, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.RobotsTimeout)
		defer cancel()
		r := c.fetchRobots(fctx, origin)
		c.robots.put(origin, r)
		return r, nil
	})
	select {
	case res := <-ch:
		return res.Val.(*robotsRules)
	case <-ctx.Done():
		return &robotsRules{deny: true, fetched: time.Now()}
	}
}

// fetchRobots gets origin/robots.txt (following up to MaxRedirects
// redirects, at most RobotsMaxBytes of body) and interprets the answer with
// robotsFromResponse.
func (c *Client) fetchRobots(ctx context.Context, origin string) *robotsRules {
	res := c.get(ctx, origin+"/robots.txt", getOptions{limit: c.opts.RobotsMaxBytes, accept: "text/plain,*/*;q=0.5"})
	code := 0
	if res.resp != nil {
		code = res.resp.StatusCode
	}
	r := robotsFromResponse(code, res.body, res.err)
	r.fetched = time.Now()
	return r
}

// robotsFromResponse applies RFC 9309 section 2.3.1 to a robots.txt fetch
// that ended with HTTP status code (0: no response), body and err: 2xx is
// parsed (a body cut at the size cap is parsed as far as it goes); 4xx, or
// more redirects than allowed, mean no rules; 5xx and network failures mean
// "unreachable", which disallows everything. A body that robotstxt cannot
// parse also disallows everything (robotstxt rejects a file whole; erring
// this way only costs scripts).
func robotsFromResponse(code int, body []byte, err error) *robotsRules {
	switch {
	case errors.Is(err, ErrTooManyRedirects), errors.Is(err, ErrRedirectLoop):
		return &robotsRules{}
	case code >= 200 && code < 300:
		if err != nil && !errors.Is(err, ErrBodyTooLarge) {
			return &robotsRules{deny: true}
		}
		data, perr := robotstxt.FromStatusAndBytes(http.StatusOK, body)
		if perr != nil {
			return &robotsRules{deny: true, body: body}
		}
		return &robotsRules{data: data, body: body}
	case code >= 300 && code < 500:
		// 4xx: no rules. A 3xx without a usable Location: unavailable too.
		return &robotsRules{}
	}
	return &robotsRules{deny: true}
}

// robotsPath is the part of u that robots.txt rules match: the escaped path
// (at least "/") and the query.
func robotsPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}
