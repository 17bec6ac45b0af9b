package model

import "time"

// Observation is everything a passive scanner saw of one page (or one host
// when only DNS is known). Detection reads it and never modifies it.
//
// Byte slices are owned by the Observation's producer; consumers must copy
// what they keep beyond the call they receive the Observation in.
type Observation struct {
	// URL is the final URL of the page ("" for DNS-only observations).
	URL string
	// Host is the host name the observation is about (lowercase, no port).
	Host string
	// StatusCode is the HTTP status of the final response (0 if none).
	StatusCode int
	// Headers holds the final response's headers. Keys are lowercase;
	// Set-Cookie lines are kept here as well as parsed into Cookies.
	Headers map[string][]string
	// Cookies maps cookie names to values (from Set-Cookie, or a browser's
	// cookie jar). Nil means "parse Headers' set-cookie".
	Cookies map[string]string
	// Body is the decoded response body (transfer and content encodings
	// undone).
	Body []byte
	// Scripts are linked scripts that were fetched, with their bodies.
	Scripts []Script
	// DNS lists records seen for Host or its registrable domain.
	DNS []DNSRecord
	// CertIssuer is the TLS leaf certificate's issuer organisation or CN.
	CertIssuer string
	// Robots is the body of /robots.txt when it was fetched.
	Robots []byte
	// Rendered holds what a headless browser saw; nil for static scans.
	Rendered *Rendered
	// Time is when the page was fetched or captured.
	Time time.Time
	// Ref names where the bytes came from when that is not URL, e.g. a WARC
	// record "file.warc.gz@1234 <urn:uuid:...>". Evidence locations use it.
	Ref string
}

// Script is a linked script with the bytes that were fetched for it.
type Script struct {
	URL  string
	Body []byte
}

// DNSRecord is one resource record.
type DNSRecord struct {
	Name  string `json:"name"`  // owner name, lowercase, no trailing dot
	Type  string `json:"type"`  // "TXT", "CNAME", "MX", "NS", "SOA", "A", "AAAA"
	Value string `json:"value"` // TXT strings joined; target names without trailing dot
}

// Rendered is what a headless browser saw after running the page.
type Rendered struct {
	// Globals maps a catalog js property path (e.g. "botpress" or
	// "Intercom.booted") to its value converted to a string ("" when the
	// property exists but is not a string or number). Absent keys were
	// undefined.
	Globals map[string]string
	// DOM holds the results of the catalog's dom selectors that matched in
	// the live document, keyed by selector.
	DOM map[string][]DOMMatch
	// Requests lists the URLs of every request the page made (scripts,
	// xhr/fetch, iframes, websockets), in order.
	Requests []string
	// HTML is the serialised live document after rendering.
	HTML []byte
}

// DOMMatch describes one element matched by a selector in the live DOM.
type DOMMatch struct {
	Text       string            // textContent, trimmed and cut
	Attributes map[string]string // requested attributes that exist
	Properties map[string]string // requested properties that are defined
}
