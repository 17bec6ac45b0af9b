// Package matcher compiles many regular expressions once into an immutable
// Set and finds which of them match a text, fast.
//
// Every expression is parsed with regexp/syntax; the literals every match
// must contain are extracted from the syntax tree and searched for all at
// once in a single Aho-Corasick pass (github.com/coregx/ahocorasick). Only
// expressions whose literals occur are evaluated, and when an expression's
// match width is bounded, only in windows around the literal hits. The
// prefilter may propose expressions that then do not match but never loses a
// match: Scan reports exactly what plain evaluation of every expression over
// the whole text (Set.ScanPlain) reports. A Group shares one literal pass
// among several Sets; groups of at most a thousand literals of four bytes
// or more use a Gate's window index instead of the automaton.
//
// A Gate answers only whether any of its literals occurs, and from where
// they can (From): 8-byte windows of literals of 11 bytes or more are
// hashed into bit tables probed at one text position in eight or four (a
// scalar assembly loop on amd64, sampled_amd64.s); shorter literals go
// through a Teddy filter (AVX2 assembly, teddy_amd64.s, proposing
// positions 32 bytes at a time; elsewhere a scalar walk at one position in
// four or two). Most texts are rejected at about 2.8 GB/s without being
// copied or lowercased.
//
// Semantics follow Wappalyzer's: matching is case-insensitive (ASCII case
// folding: the text is lowercased once per call rather than paying for (?i)
// on every byte), and unbounded repeats (*, +, {n,}) match at most
// MaxRepeat times. Expressions that need look-around, which RE2 cannot
// express, are run with github.com/dlclark/regexp2 in ECMAScript mode.
//
// The package does no I/O. A Set is safe for concurrent use; regular
// expressions are compiled lazily on first use, once.
package matcher
