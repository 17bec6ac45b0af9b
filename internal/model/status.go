package model

// Status is the outcome of handling one target. Every Result carries exactly
// one; a failure for one target is recorded as data and never stops a run.
// The list is fixed and documented in README.md; add values, never rename.
type Status string

// The statuses, in the order reports list them.
const (
	StatusOK               Status = "ok"                 // target answered; detections are meaningful
	StatusInvalidInput     Status = "invalid-input"      // the input line is not a usable domain or URL
	StatusDNSNXDomain      Status = "dns-nxdomain"       // the name does not exist
	StatusDNSServfail      Status = "dns-servfail"       // the resolver answered SERVFAIL (or REFUSED)
	StatusDNSTimeout       Status = "dns-timeout"        // no DNS answer within the timeout and retries
	StatusDNSNoAddress     Status = "dns-no-address"     // the name exists but has no A/AAAA record
	StatusDNSError         Status = "dns-error"          // any other DNS failure (truncated, malformed)
	StatusBlockedPrivate   Status = "blocked-private"    // every address was private/loopback/reserved
	StatusConnectRefused   Status = "connect-refused"    // TCP connection refused or reset at connect
	StatusConnectTimeout   Status = "connect-timeout"    // TCP connect did not finish in time
	StatusConnectError     Status = "connect-error"      // other network error while connecting
	StatusTLSError         Status = "tls-error"          // TLS handshake or certificate verification failed
	StatusTimeout          Status = "timeout"            // the response did not finish in time
	StatusConnectionReset  Status = "connection-reset"   // the peer reset the connection mid-response
	StatusHTTPError        Status = "http-error"         // malformed HTTP, or no usable response (4xx/5xx everywhere)
	StatusTooManyRedirects Status = "too-many-redirects" // redirect limit hit or redirect loop
	StatusBodyTooLarge     Status = "body-too-large"     // body or its decompression exceeded the cap
	StatusRobotsDisallowed Status = "robots-disallowed"  // robots.txt forbids every path we needed
	StatusRenderError      Status = "render-error"       // the headless browser failed on the page
	StatusRenderTimeout    Status = "render-timeout"     // the page did not settle within the render budget
	StatusRenderCrash      Status = "render-crash"       // the browser tab crashed
	StatusParseError       Status = "parse-error"        // an archived record could not be parsed
	StatusNotCaptured      Status = "not-captured"       // an archive held no usable response for the domain
	StatusInternalError    Status = "internal-error"     // a bug in aicensus (recovered panic); please report it
)

// Statuses lists every Status in report order.
func Statuses() []Status {
	return []Status{
		StatusOK, StatusInvalidInput, StatusDNSNXDomain, StatusDNSServfail,
		StatusDNSTimeout, StatusDNSNoAddress, StatusDNSError, StatusBlockedPrivate,
		StatusConnectRefused, StatusConnectTimeout, StatusConnectError, StatusTLSError,
		StatusTimeout, StatusConnectionReset, StatusHTTPError, StatusTooManyRedirects,
		StatusBodyTooLarge, StatusRobotsDisallowed, StatusRenderError, StatusRenderTimeout,
		StatusRenderCrash, StatusParseError, StatusNotCaptured, StatusInternalError,
	}
}

// Valid reports whether s is one of the documented statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses() {
		if v == s {
			return true
		}
	}
	return false
}
