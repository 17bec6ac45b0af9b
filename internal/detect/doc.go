// Package detect turns an Observation (what a scanner saw of a page or
// host) into Detections, each carrying its evidence.
//
// A Detector compiles a catalog once (internal/catalog) into matcher Sets
// (internal/matcher), one per signal, and is then immutable and safe for
// concurrent use. Detect reads the HTML once, collecting script sources,
// inline scripts, styles, meta tags, visible text and the elements that the
// catalog's static dom selectors match, and evaluates every signal. A page
// holding no literal of any page-level pattern (matcher.Gate) is not read
// at all; in one that holds some, the literal search starts where the gate
// found the first (Gate.From: snippets mostly sit before </body>). A page
// that needs no text and no selector with ancestors is skimmed
// from '<' to '<' (skim.go, which follows the tokenizer's states); any other
// goes through the golang.org/x/net/html tokenizer. The signals:
//
//   - html, scripts (inline and fetched linked scripts), css, text,
//     scriptSrc, url, meta, headers, cookies, dns, certIssuer, robots;
//   - csp: the host-sources of Content-Security-Policy headers and
//     <meta http-equiv> tags;
//   - js: statically, when page code assigns the global (window.x = ...,
//     var x = ..., x.y = "1.2") or calls it (x.init(...)); a js pattern
//     with a value pattern matches statically only when a string literal is
//     assigned. With a rendered observation, the browser's globals;
//   - dom: selectors in the static subset (see selector.go) on the static
//     HTML; every selector on the rendered DOM;
//   - xhr: request URLs of a rendered page.
//
// Then Wappalyzer's rules apply: implies (recursive), requires and
// requiresCategory (second pass), excludes, the most specific version, and
// confidence summed over distinct patterns and capped at 100. Detections
// below Options.MinConfidence are dropped.
package detect
