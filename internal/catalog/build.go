package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/andybalholm/cascadia"

	"github.com/aicensus/aicensus/internal/matcher"
	"github.com/aicensus/aicensus/internal/model"
)

// Build validates sets and merges them into a Catalog. sets[0] has the
// highest priority: when two sets define a technology with the same name,
// the first one's definition is kept (the embedded AI catalog goes first, so
// it wins over --catalog files). Every problem in every set is reported, in
// one *LoadError; then no Catalog is returned.
func Build(release string, sets ...*Set) (*Catalog, error) {
	var ps problems
	c := &Catalog{byName: map[string]*Technology{}, categories: map[int]Category{}}
	h := sha256.New()
	for _, s := range sets {
		ps.list = append(ps.list, s.probs.list...)
		h.Write(s.hash[:])
		c.origins = append(c.origins, s.Name)
		c.addCategories(s, &ps)
	}
	type pending struct {
		t   *Technology
		raw rawTech
		set *Set
	}
	var all []pending
	for _, s := range sets {
		for _, rt := range s.techs {
			t := &Technology{Name: rt.name, Origin: rt.file, AI: s.AI}
			all = append(all, pending{t, rt, s})
			if _, dup := c.byName[rt.name]; !dup {
				c.byName[rt.name] = t
			}
		}
	}
	for _, p := range all {
		tp := techParser{c: c, t: p.t, file: p.raw.file, strict: p.set.Strict, ps: &ps}
		tp.parse(p.raw)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	for _, t := range c.byName {
		c.techs = append(c.techs, t)
	}
	sort.Slice(c.techs, func(i, j int) bool { return c.techs[i].Name < c.techs[j].Name })
	sum := hex.EncodeToString(h.Sum(nil))[:12]
	c.version = release + "+" + sum
	return c, nil
}

func (c *Catalog) addCategories(s *Set, ps *problems) {
	keys := make([]string, 0, len(s.categories))
	for k := range s.categories {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		file := s.Name
		id, err := categoryID(k)
		if err != nil {
			ps.add(file, "", "categories", "category id %q is not an integer", k)
			continue
		}
		var raw struct {
			Name     string `json:"name"`
			Priority int    `json:"priority"`
			Groups   []int  `json:"groups"`
		}
		if err := json.Unmarshal(s.categories[k], &raw); err != nil || raw.Name == "" {
			ps.add(file, "", "categories", "category %d: want {\"name\": ..., \"priority\": N}", id)
			continue
		}
		if old, ok := c.categories[id]; ok && old.Name != raw.Name {
			ps.add(file, "", "categories", "category %d is %q here but %q in an earlier catalog", id, raw.Name, old.Name)
			continue
		}
		c.categories[id] = Category{ID: id, Name: raw.Name, Priority: raw.Priority, Groups: raw.Groups}
	}
}

// techParser parses and validates one technology.
type techParser struct {
	c      *Catalog
	t      *Technology
	file   string
	strict bool
	ps     *problems
	srcIdx []int // per pattern: source index tag or -1
}

func (p *techParser) bad(field, format string, args ...any) {
	p.ps.add(p.file, p.t.Name, field, format, args...)
}

// decode unmarshals a field, reporting a problem on failure.
func (p *techParser) decode(field string, raw json.RawMessage, v any) bool {
	if err := json.Unmarshal(raw, v); err != nil {
		p.bad(field, "want %s: %v", typeName(v), err)
		return false
	}
	return true
}

func typeName(v any) string {
	switch v.(type) {
	case *string:
		return "a string"
	case *bool:
		return "true or false"
	case *[]int:
		return "a list of integers"
	case *[]string:
		return "a list of strings"
	}
	return "a valid value"
}

// stringList decodes a string or a list of strings.
func (p *techParser) stringList(field string, raw json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, true
	}
	var list []string
	if !p.decode(field, raw, &list) {
		return nil, false
	}
	return list, true
}

// intList decodes an int or a list of ints.
func (p *techParser) intList(field string, raw json.RawMessage) []int {
	var one int
	if json.Unmarshal(raw, &one) == nil {
		return []int{one}
	}
	var list []int
	p.decode(field, raw, &list)
	return list
}

func (p *techParser) parse(rt rawTech) {
	t := p.t
	has := func(k string) bool { _, ok := rt.fields[k]; return ok }
	for _, k := range rt.keys {
		raw := rt.fields[k]
		switch k {
		case "cats":
			t.Cats = p.intList(k, raw)
		case "website":
			p.decode(k, raw, &t.Website)
		case "description":
			p.decode(k, raw, &t.Description)
		case "icon":
			p.decode(k, raw, &t.Icon)
		case "cpe":
			p.decode(k, raw, &t.CPE)
		case "saas", "oss":
			var b bool
			if p.decode(k, raw, &b) {
				if k == "saas" {
					t.SaaS = &b
				} else {
					t.OSS = &b
				}
			}
		case "pricing":
			p.decode(k, raw, &t.Pricing)
		case "open_source":
			p.decode(k, raw, &t.OpenSource)
		case "license":
			p.decode(k, raw, &t.License)
		case "ai":
			p.decode(k, raw, &t.AI)
		case "evidence_class":
			var s string
			if p.decode(k, raw, &s) {
				if c := model.EvidenceClass(s); c.Valid() {
					t.EvidenceClass = c
				} else {
					p.bad(k, "%q is not one of %v", s, model.EvidenceClasses())
				}
			}
		case "sources":
			p.decode(k, raw, &t.Sources)
		case "implies", "requires", "excludes":
			p.relations(k, raw)
		case "requiresCategory":
			t.RequiresCategory = p.intList(k, raw)
		}
	}
	if !has("cats") || len(t.Cats) == 0 {
		p.bad("cats", "required: at least one category id")
	}
	if !has("website") {
		p.bad("website", "required")
	}
	if !has("open_source") && t.OSS != nil {
		t.OpenSource = *t.OSS // Wappalyzer's oss flag is the best a plain file offers
	}
	if p.strict {
		if !has("open_source") {
			p.bad("open_source", "required in this catalog")
		}
		if t.License == "" {
			p.bad("license", "required in this catalog: an SPDX id or \"proprietary\"")
		}
		if len(t.Sources) == 0 {
			p.bad("sources", "required in this catalog: where the patterns were published")
		}
	}
	// Patterns, in file field order.
	for _, k := range rt.keys {
		p.patterns(k, rt.fields[k])
	}
	p.checkRefs()
}

func (p *techParser) relations(field string, raw json.RawMessage) {
	list, ok := p.stringList(field, raw)
	if !ok {
		return
	}
	for _, s := range list {
		tags, err := parseTags(s)
		if err != nil {
			p.bad(field, "%q: %v", s, err)
			continue
		}
		r := Relation{Name: tags.regex, Confidence: tags.confidence, Version: tags.version}
		switch field {
		case "implies":
			p.t.Implies = append(p.t.Implies, r)
		case "requires":
			p.t.Requires = append(p.t.Requires, r)
		default:
			p.t.Excludes = append(p.t.Excludes, r)
		}
	}
}

func (p *techParser) checkRefs() {
	t := p.t
	for _, id := range t.Cats {
		cat, ok := p.c.categories[id]
		if !ok {
			p.bad("cats", "category %d is not defined", id)
			continue
		}
		t.Categories = append(t.Categories, cat.Name)
	}
	for _, id := range t.RequiresCategory {
		if _, ok := p.c.categories[id]; !ok {
			p.bad("requiresCategory", "category %d is not defined", id)
		}
	}
	for field, rels := range map[string][]Relation{"implies": t.Implies, "requires": t.Requires, "excludes": t.Excludes} {
		for _, r := range rels {
			if _, ok := p.c.byName[r.Name]; !ok {
				p.bad(field, "unknown technology %q", r.Name)
			}
		}
	}
	for i, pat := range t.Patterns {
		idx := p.srcIdx[i]
		switch {
		case idx >= 0 && idx >= len(t.Sources):
			p.bad(pat.Signal, "pattern %q: source %d but only %d source(s) listed", pat.Raw, idx, len(t.Sources))
		case idx >= 0:
			pat.Source = t.Sources[idx]
		case len(t.Sources) > 0:
			pat.Source = t.Sources[0]
		}
		if pat.Class == "" {
			pat.Class = t.EvidenceClass
		}
		if pat.Class == "" {
			pat.Class = defaultClass(pat.Signal, pat.Key)
		}
	}
}

// patterns parses one signal field into Patterns.
func (p *techParser) patterns(field string, raw json.RawMessage) {
	switch field {
	case SignalHTML, SignalText, SignalCSS, SignalScriptSrc, SignalScripts, SignalURL,
		SignalXHR, SignalRobots, SignalCSP, SignalCertIssuer:
		list, ok := p.stringList(field, raw)
		if !ok {
			return
		}
		for _, s := range list {
			p.add(&Pattern{Signal: field, Raw: s})
		}
	case SignalMeta, SignalHeaders, SignalCookies, SignalJS, SignalProbe, SignalDNS:
		var m orderedObject
		if err := json.Unmarshal(raw, &m); err != nil {
			p.bad(field, "want an object of name: pattern: %v", err)
			return
		}
		for _, kv := range m.items {
			list, ok := p.stringList(field+"."+kv.key, kv.value)
			if !ok {
				continue
			}
			key := kv.key
			switch field {
			case SignalMeta, SignalHeaders, SignalCookies:
				key = strings.ToLower(key)
			case SignalDNS:
				key = strings.ToUpper(key)
				switch key {
				case "TXT", "CNAME", "MX", "NS", "SOA", "A", "AAAA":
				default:
					p.bad(field, "record type %q: want TXT, CNAME, MX, NS, SOA, A or AAAA", kv.key)
					continue
				}
			}
			for _, s := range list {
				p.add(&Pattern{Signal: field, Key: key, Raw: s})
			}
		}
	case SignalDOM:
		p.dom(raw)
	}
}

func (p *techParser) dom(raw json.RawMessage) {
	var sels []string
	if json.Unmarshal(raw, &sels) == nil || json.Unmarshal(raw, new(string)) == nil {
		list, _ := p.stringList(SignalDOM, raw)
		for _, s := range list {
			// A selector may carry tags (\;confidence:40): they belong to
			// the exists rule.
			sel, tags, _ := strings.Cut(s, tagSep)
			raw := ""
			if tags != "" {
				raw = tagSep + tags
			}
			p.add(&Pattern{Signal: SignalDOM, Key: sel, DOMRule: DOMExists, Raw: raw})
		}
		return
	}
	var m orderedObject
	if err := json.Unmarshal(raw, &m); err != nil {
		p.bad(SignalDOM, "want a selector, a list of selectors or an object: %v", err)
		return
	}
	for _, kv := range m.items {
		var rule orderedObject
		if err := json.Unmarshal(kv.value, &rule); err != nil {
			p.bad(SignalDOM, "selector %q: want an object with exists, text, attributes or properties: %v", kv.key, err)
			continue
		}
		for _, r := range rule.items {
			switch r.key {
			case DOMExists, DOMText:
				var s string
				if !p.decode("dom."+r.key, r.value, &s) {
					continue
				}
				p.add(&Pattern{Signal: SignalDOM, Key: kv.key, DOMRule: r.key, Raw: s})
			case DOMAttribute, DOMProperty:
				var attrs orderedObject
				if err := json.Unmarshal(r.value, &attrs); err != nil {
					p.bad("dom."+r.key, "selector %q: want an object of name: pattern", kv.key)
					continue
				}
				for _, a := range attrs.items {
					var s string
					if !p.decode("dom."+r.key, a.value, &s) {
						continue
					}
					p.add(&Pattern{Signal: SignalDOM, Key: kv.key, DOMRule: r.key, Attr: a.key, Raw: s})
				}
			default:
				p.bad(SignalDOM, "selector %q: unknown rule %q", kv.key, r.key)
			}
		}
	}
}

// add validates a pattern's tags, expression and selector and appends it.
func (p *techParser) add(pat *Pattern) {
	field := pat.Signal
	if pat.Key != "" && pat.Signal != SignalDOM {
		field += "." + pat.Key
	}
	pat.Tech = p.t
	tags, err := parseTags(pat.Raw)
	if err != nil {
		p.bad(field, "pattern %q: %v", pat.Raw, err)
		return
	}
	pat.Regex, pat.Version, pat.Confidence, pat.Class = tags.regex, tags.version, tags.confidence, tags.class
	if pat.Signal == SignalDOM {
		if _, err := cascadia.ParseGroup(pat.Key); err != nil {
			p.bad(field, "selector %q: %v", pat.Key, err)
			return
		}
	}
	groups := 0
	if pat.Regex != "" {
		groups, err = matcher.Validate(pat.Regex)
		if err != nil {
			p.bad(field, "pattern %q: %v", pat.Regex, err)
			return
		}
	}
	// A version template may name a group the expression lacks: like
	// Wappalyzer, it then resolves to "" (webappanalyzer relies on it).
	_ = groups
	p.t.Patterns = append(p.t.Patterns, pat)
	p.srcIdx = append(p.srcIdx, tags.source)
}

// String describes a pattern for evidence: the signal, key and expression.
func (pat *Pattern) String() string {
	switch {
	case pat.Signal == SignalDOM && pat.Attr != "":
		return fmt.Sprintf("%s [%s] %s", pat.Key, pat.Attr, pat.Regex)
	case pat.Signal == SignalDOM && pat.DOMRule == DOMText:
		return fmt.Sprintf("%s :text %s", pat.Key, pat.Regex)
	case pat.Key != "":
		return fmt.Sprintf("%s: %s", pat.Key, pat.Regex)
	}
	return pat.Regex
}
