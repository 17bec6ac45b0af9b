package dns

import (
	"net/netip"
	"time"

	"github.com/maypok86/otter"

	"github.com/aicensus/aicensus/internal/model"
)

// cacheKey identifies one question.
type cacheKey struct {
	name  string // canonical
	qtype uint16
}

// entry is the outcome of one question, as cached. Entries are immutable
// once stored: readers share them and must copy slices they hand out.
type entry struct {
	status  model.Status      // StatusOK for NOERROR (with or without data)
	err     error             // cause when status is not OK
	records []model.DNSRecord // converted answer section
	addrs   []netip.Addr      // A/AAAA addresses in the answer
	ttl     time.Duration     // how long it may be cached; 0 = not cacheable
	expires time.Time         // set when stored
}

// cache is a bounded TTL cache of entries, safe for concurrent use. Size
// bounding and eviction are otter's (S3-FIFO); expiry is checked against the
// configured clock so tests can move time.
type cache struct {
	c   otter.CacheWithVariableTTL[cacheKey, *entry]
	now func() time.Time
}

func newCache(size int, now func() time.Time) (*cache, error) {
	c, err := otter.MustBuilder[cacheKey, *entry](size).WithVariableTTL().Build()
	if err != nil {
		return nil, err
	}
	return &cache{c: c, now: now}, nil
}

// get returns a live entry for k. A nil cache never hits.
func (c *cache) get(k cacheKey) (*entry, bool) {
	if c == nil {
		return nil, false
	}
	e, ok := c.c.Get(k)
	if !ok {
		return nil, false
	}
	if !c.now().Before(e.expires) {
		c.c.Delete(k)
		return nil, false
	}
	return e, true
}

// put stores e under k when it is cacheable; it sets e.expires.
func (c *cache) put(k cacheKey, e *entry) {
	if c == nil || e.ttl <= 0 {
		return
	}
	e.expires = c.now().Add(e.ttl)
	c.c.Set(k, e, e.ttl)
}

func (c *cache) close() {
	if c != nil {
		c.c.Close()
	}
}

// size is the number of stored entries (live or not yet swept).
func (c *cache) size() int {
	if c == nil {
		return 0
	}
	return c.c.Size()
}
