// Package fetch turns a target host into a model.Observation: it GETs the
// home page over HTTPS (falling back to HTTP and the www. host), follows
// up to five redirects, decodes the body under a size cap, and fetches a
// few linked scripts, politely and safely.
//
// Politeness: a User-Agent naming aicensus with a contact URL; a global
// request rate (golang.org/x/time/rate); caps on concurrent requests per
// host name and concurrent connections per IP address; retries with
// exponential backoff only for transient failures (timeouts, resets, 429 and
// 503 within a Retry-After cap); robots.txt (RFC 9309, parsed by
// github.com/temoto/robotstxt, fetched once per origin and cached with a
// size bound) for every path beyond "/".
//
// Safety: every connection is opened by the Client's own dialer, which
// resolves the name through the Resolver, drops every address that is not
// public unicast (private, CGNAT, loopback, link-local, multicast,
// documentation, reserved, and IPv6 forms embedding such an IPv4 address),
// and dials only the addresses it checked; the dialer's Control hook checks
// the socket address once more. Redirects, robots.txt and scripts go through
// the same dialer, so neither a redirect to 127.0.0.1 nor a DNS answer that
// changes between lookups (rebinding) reaches a private address. Options
// AllowPrivate and Allow relax the policy (the test farm allows exactly
// 127.0.0.1/32). Environment proxies are never used.
//
// Bounded: bodies are capped on the wire and after decoding (gzip, br,
// zstd, deflate), so compression bombs stop at the cap; every phase has a
// timeout; per-key limiter state exists only while in use and the robots.txt
// cache is bounded, so nothing grows with the number of targets.
//
// Failures are data: Fetch always returns one Response whose Status is one
// of the documented model statuses, mapped from the error with errors.Is/As
// (StatusOf); see docs/fetch.md for the table and the fallback rule.
package fetch
