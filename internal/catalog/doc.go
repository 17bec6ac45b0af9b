// Package catalog loads, validates and merges technology fingerprints in the
// Wappalyzer JSON format (the format of enthec/webappanalyzer) extended with
// aicensus fields: open_source, license, ai, evidence_class, sources, csp and
// the \;class: and \;source: pattern tags (see docs/catalog.md).
//
// The AI catalog shipped with aicensus is embedded in the binary
// (Embedded). Any Wappalyzer-format file or folder can be added with Load.
// Loading validates every technology and pattern and reports every problem
// found, each naming its file, technology and field; a catalog with problems
// is never returned.
//
// A *Catalog is immutable after loading and safe for concurrent use. The
// package does no matching (see internal/matcher and internal/detect).
package catalog
