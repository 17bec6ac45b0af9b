package catalog

import (
	"sort"

	"github.com/aicensus/aicensus/internal/model"
)

// Catalog is a validated, immutable set of technologies and categories.
type Catalog struct {
	techs      []*Technology // sorted by name
	byName     map[string]*Technology
	categories map[int]Category
	version    string
	origins    []string
}

// Category is a technology category.
type Category struct {
	ID       int
	Name     string
	Priority int
	Groups   []int
}

// Technology is one fingerprinted technology.
type Technology struct {
	Name        string
	Cats        []int
	Categories  []string // category names, in Cats order
	Website     string
	Description string
	Icon        string
	CPE         string
	SaaS        *bool
	OSS         *bool
	Pricing     []string

	// aicensus fields.
	OpenSource    bool
	License       string
	AI            bool
	EvidenceClass model.EvidenceClass // technology default, may be ""
	Sources       []string

	Implies          []Relation
	Requires         []Relation
	Excludes         []Relation
	RequiresCategory []int

	// Patterns holds every pattern of every signal field, in a stable order.
	Patterns []*Pattern

	// Origin is the file the technology was read from.
	Origin string
}

// Relation names another technology, with the tags Wappalyzer allows on
// implies (confidence, version).
type Relation struct {
	Name       string
	Confidence int
	Version    string
}

// Signal fields. They are the Wappalyzer field names plus csp.
const (
	SignalHTML       = "html"
	SignalText       = "text"
	SignalCSS        = "css"
	SignalScriptSrc  = "scriptSrc"
	SignalScripts    = "scripts"
	SignalURL        = "url"
	SignalMeta       = "meta"
	SignalHeaders    = "headers"
	SignalCookies    = "cookies"
	SignalJS         = "js"
	SignalDOM        = "dom"
	SignalDNS        = "dns"
	SignalXHR        = "xhr"
	SignalRobots     = "robots"
	SignalCertIssuer = "certIssuer"
	SignalProbe      = "probe"
	SignalCSP        = "csp"
)

// DOM sub-rules of a dom pattern.
const (
	DOMExists    = "exists"
	DOMText      = "text"
	DOMAttribute = "attributes"
	DOMProperty  = "properties"
)

// Pattern is one matchable rule of a technology.
type Pattern struct {
	Tech   *Technology
	Signal string // one of the Signal constants
	// Key is the header, cookie or meta name (lowercase), the js property
	// path, the dom selector, the DNS record type (uppercase) or the probe
	// path; empty for list signals.
	Key string
	// DOMRule is one of the DOM constants for dom patterns.
	DOMRule string
	// Attr is the attribute or property name for DOMAttribute/DOMProperty.
	Attr string
	// Regex is the expression without its tags; "" means presence.
	Regex string
	// Raw is the pattern as written in the file, tags included.
	Raw string
	// Version is the version template (\1, \1?a:b), "" when none.
	Version    string
	Confidence int
	Class      model.EvidenceClass
	Source     string
}

// Technologies returns every technology, sorted by name. The slice must not
// be modified.
func (c *Catalog) Technologies() []*Technology { return c.techs }

// Lookup returns the technology with the given name.
func (c *Catalog) Lookup(name string) (*Technology, bool) {
	t, ok := c.byName[name]
	return t, ok
}

// Category returns the category with id.
func (c *Catalog) Category(id int) (Category, bool) {
	cat, ok := c.categories[id]
	return cat, ok
}

// Categories returns every category sorted by id.
func (c *Catalog) Categories() []Category {
	out := make([]Category, 0, len(c.categories))
	for _, cat := range c.categories {
		out = append(out, cat)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Version identifies the catalog content: the embedded catalog's release
// plus a hash over every loaded file, so two scans with equal versions used
// identical fingerprints.
func (c *Catalog) Version() string { return c.version }

// Origins lists the files or folders the catalog was built from.
func (c *Catalog) Origins() []string { return c.origins }

// Len returns the number of technologies.
func (c *Catalog) Len() int { return len(c.techs) }
