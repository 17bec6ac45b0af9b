// Package input reads the list of targets a scan starts from and turns each
// line into a normalised host name.
//
// A Reader streams a file or stdin (transparently gunzipped) one record at a
// time: plain lists (one domain or URL per line, "#" comments) and CSV/TSV
// files (with or without a header row, the domain column chosen by name, by
// 1-based index, or guessed). Every record becomes an Item carrying its line
// number and raw text, and either a normalised Target (host and registrable
// domain) or the reason it is invalid. Invalid lines are items too, so the
// scanner can write one invalid-input result for each; nothing about one bad
// line stops the reader.
//
// Normalize is the single place where a raw string becomes a host: trim,
// strip scheme, user info, port, path, query and fragment, strip a leading
// "*." wildcard and one trailing dot, map Unicode to punycode (IDNA2008 /
// UTS #46 lookup mapping via golang.org/x/net/idna), lowercase, validate
// labels, and derive the registrable domain from the public suffix list
// (golang.org/x/net/publicsuffix). Explicit subdomains such as
// chat.example.com and www.example.com are kept as given.
//
// The reader's memory does not grow with the input except for the set of
// targets already seen, used to drop duplicates: a 128-bit keyed hash per
// distinct target, about 36 bytes each (36 MB for 1,000,000; see
// docs/input.md for the measurement).
package input
