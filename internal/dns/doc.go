// Package dns resolves the DNS facts aicensus needs about a host: its
// addresses (A and AAAA, for dialing) and the TXT, CNAME, MX and NS records
// that fingerprints match (domain-verification TXT records, CNAMEs to vendor
// edges). It is built on github.com/miekg/dns and talks to the recursive
// resolvers it is given (or those in /etc/resolv.conf).
//
// A Resolver sends each query over UDP with EDNS0, reusing pooled UDP sockets
// per server, retries with backoff on timeouts while rotating across servers,
// and repeats a truncated (TC) answer over TCP. Answers, including negative
// ones, are kept in a bounded in-memory cache that honours record TTLs within
// a floor and a cap. Identical concurrent queries share one exchange.
//
// Failures are data: every lookup ends in a model.Status (ok, dns-nxdomain,
// dns-servfail, dns-timeout, dns-no-address, dns-error). Errors returned by
// the package are *Error values carrying that status; classify them with
// StatusOf or errors.Is against ErrNXDomain, ErrServfail, ErrTimeout,
// ErrNoAddress and ErrMalformed.
//
// A Resolver is safe for concurrent use by any number of goroutines.
package dns
