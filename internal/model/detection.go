package model

// EvidenceClass says what kind of fact a piece of evidence establishes. It is
// what lets a report keep "the site embeds a chatbot" apart from "the
// organisation verified a domain with an AI vendor".
type EvidenceClass string

// The evidence classes, strongest claim of a running deployment first.
const (
	ClassSelfHostedApp   EvidenceClass = "self-hosted-app"  // the host itself runs the software (title, assets, server header)
	ClassPageEmbed       EvidenceClass = "page-embed"       // the page loads or embeds the technology (script, widget, iframe)
	ClassBrowserAPICall  EvidenceClass = "browser-api-call" // page code calls the vendor's API from the browser
	ClassHeader          EvidenceClass = "header"           // an HTTP response header or cookie names it
	ClassCSP             EvidenceClass = "csp"              // a Content-Security-Policy allows the vendor's host
	ClassDNSVerification EvidenceClass = "dns-verification" // a DNS record shows an account relationship, not a deployment
)

// EvidenceClasses lists every class, strongest first.
func EvidenceClasses() []EvidenceClass {
	return []EvidenceClass{ClassSelfHostedApp, ClassPageEmbed, ClassBrowserAPICall, ClassHeader, ClassCSP, ClassDNSVerification}
}

// Rank orders classes by strength: 0 is the strongest; unknown classes rank last.
func (c EvidenceClass) Rank() int {
	for i, v := range EvidenceClasses() {
		if v == c {
			return i
		}
	}
	return len(EvidenceClasses())
}

// Valid reports whether c is one of the documented classes.
func (c EvidenceClass) Valid() bool { return c.Rank() < len(EvidenceClasses()) }

// Running reports whether evidence of class c shows the technology running on
// or for the site, as opposed to a DNS-only account relationship or a CSP
// allowance that may be a copied template.
func (c EvidenceClass) Running() bool {
	switch c {
	case ClassSelfHostedApp, ClassPageEmbed, ClassBrowserAPICall, ClassHeader:
		return true
	}
	return false
}

// Evidence is one reason for a detection: which signal matched which pattern,
// the bytes it matched and where they were found.
type Evidence struct {
	// Signal is the catalog field that matched: html, scriptSrc, scripts,
	// headers, cookies, meta, dom, js, css, csp, dns, url, text, robots,
	// certIssuer, xhr, or "implies" for a technology implied by another.
	Signal string `json:"signal"`
	// Pattern is the catalog pattern (regex without its \; tags, or the
	// selector or key it belongs to).
	Pattern string `json:"pattern"`
	// Match is the matched text, cut to at most MaxMatchBytes bytes.
	Match string `json:"match"`
	// Location names where it was found: a URL, "header:Name",
	// "cookie:Name", "meta:name", "dns:TXT example.com", "csp:script-src",
	// a WARC record, or the implying technology.
	Location string `json:"location"`
	// Class is the evidence class of the pattern.
	Class EvidenceClass `json:"evidence_class"`
	// Via is "static" for evidence read from fetched bytes and "rendered"
	// for evidence that only a browser saw (globals, live DOM, requests).
	Via string `json:"via,omitempty"`
}

// MaxMatchBytes caps Evidence.Match.
const MaxMatchBytes = 200

// Via values.
const (
	ViaStatic   = "static"
	ViaRendered = "rendered"
)

// Detection says that a target runs a technology, and why.
type Detection struct {
	Technology string   `json:"technology"` // catalog name
	Version    string   `json:"version"`    // most specific version seen, or ""
	Categories []string `json:"categories"` // category names from the catalog
	OpenSource bool     `json:"open_source"`
	License    string   `json:"license"` // SPDX id, "proprietary", or "" when the catalog does not say
	AI         bool     `json:"ai"`      // the technology belongs to the AI catalog
	Confidence int      `json:"confidence"`
	// EvidenceClass is the strongest class among Evidence.
	EvidenceClass EvidenceClass `json:"evidence_class"`
	Evidence      []Evidence    `json:"evidence"`
}

// Classes returns the distinct evidence classes of d, strongest first.
func (d Detection) Classes() []EvidenceClass {
	var seen [8]bool
	for _, e := range d.Evidence {
		if r := e.Class.Rank(); r < len(seen) {
			seen[r] = true
		}
	}
	var out []EvidenceClass
	for i, c := range EvidenceClasses() {
		if seen[i] {
			out = append(out, c)
		}
	}
	return out
}

// Running reports whether any evidence shows a running deployment (see
// EvidenceClass.Running).
func (d Detection) Running() bool {
	for _, e := range d.Evidence {
		if e.Class.Running() {
			return true
		}
	}
	return false
}

// NeedsBrowser reports whether every piece of evidence came from rendering.
func (d Detection) NeedsBrowser() bool {
	if len(d.Evidence) == 0 {
		return false
	}
	for _, e := range d.Evidence {
		if e.Via != ViaRendered {
			return false
		}
	}
	return true
}
