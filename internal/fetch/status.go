package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"

	"github.com/aicensus/aicensus/internal/model"
)

// Sentinel errors. Errors in a Response match them with errors.Is.
var (
	ErrInvalidHost      = errors.New("invalid host")                                                          // invalid-input
	ErrNoAddress        = errors.New("name has no addresses")                                                 // dns-no-address
	ErrBlockedPrivate   = errors.New("address is private, loopback, link-local, multicast or reserved")       // blocked-private
	ErrTooManyRedirects = errors.New("too many redirects")                                                    // too-many-redirects
	ErrRedirectLoop     = errors.New("redirect loop")                                                         // too-many-redirects
	ErrBadRedirect      = errors.New("redirect to a non-http(s) URL")                                         // http-error
	ErrBodyTooLarge     = errors.New("body exceeds the size cap")                                             // body-too-large
	ErrRobotsDisallowed = errors.New("disallowed by robots.txt")                                              // robots-disallowed
	ErrRateDeadline     = fmt.Errorf("rate limit wait would pass the deadline: %w", context.DeadlineExceeded) // timeout
)

// DNSError is a failed address lookup, with the dns-* status it maps to.
type DNSError struct {
	Host   string
	Status model.Status // one of the dns-* statuses
	Err    error
}

func (e *DNSError) Error() string { return fmt.Sprintf("resolve %s: %v", e.Host, e.Err) }

// Unwrap returns the resolver's error.
func (e *DNSError) Unwrap() error { return e.Err }

// BlockedError says that none of a host's addresses may be dialed.
type BlockedError struct {
	Host  string
	Addrs []netip.Addr
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("dial %s: %v: %v", e.Host, e.Addrs, ErrBlockedPrivate)
}

// Is makes a BlockedError match ErrBlockedPrivate.
func (e *BlockedError) Is(target error) bool { return target == ErrBlockedPrivate }

// ConnectError is a failed TCP connect (or a context that ran out while
// connecting).
type ConnectError struct {
	Addr string
	Err  error
}

func (e *ConnectError) Error() string { return fmt.Sprintf("connect %s: %v", e.Addr, e.Err) }

// Unwrap returns the cause.
func (e *ConnectError) Unwrap() error { return e.Err }

// TLSError is a failed TLS handshake or certificate verification.
type TLSError struct {
	Host string
	Err  error
}

func (e *TLSError) Error() string { return fmt.Sprintf("tls %s: %v", e.Host, e.Err) }

// Unwrap returns the cause.
func (e *TLSError) Unwrap() error { return e.Err }

// HTTPStatusError is a 4xx or 5xx final response.
type HTTPStatusError struct {
	URL  string
	Code int
}

func (e *HTTPStatusError) Error() string { return fmt.Sprintf("GET %s: http status %d", e.URL, e.Code) }

// StatusOf maps an error from this package to its model.Status: StatusOK
// for nil; the fixed mapping documented in docs/fetch.md otherwise. It uses
// errors.Is/As only.
func StatusOf(err error) model.Status {
	var (
		dnsErr  *DNSError
		connErr *ConnectError
	)
	switch {
	case err == nil:
		return model.StatusOK
	case errors.Is(err, ErrInvalidHost):
		return model.StatusInvalidInput
	case errors.As(err, &dnsErr):
		return dnsErr.Status
	case errors.Is(err, ErrBlockedPrivate):
		return model.StatusBlockedPrivate
	case errors.Is(err, ErrRobotsDisallowed):
		return model.StatusRobotsDisallowed
	case errors.Is(err, ErrTooManyRedirects), errors.Is(err, ErrRedirectLoop):
		return model.StatusTooManyRedirects
	case errors.Is(err, ErrBodyTooLarge):
		return model.StatusBodyTooLarge
	case errors.As(err, &connErr):
		return connectStatus(connErr.Err)
	case isTLSError(err):
		return model.StatusTLSError
	case errors.As(err, new(*DecodeError)):
		return model.StatusHTTPError
	case isTimeout(err):
		return model.StatusTimeout
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return model.StatusConnectionReset
	}
	return model.StatusHTTPError
}

// connectStatus classifies the cause of a ConnectError.
func connectStatus(err error) model.Status {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return model.StatusConnectRefused
	case isTimeout(err):
		return model.StatusConnectTimeout
	}
	return model.StatusConnectError
}

func isTLSError(err error) bool {
	var (
		tlsErr    *TLSError
		verifyErr *tls.CertificateVerificationError
		recErr    tls.RecordHeaderError
		alertErr  tls.AlertError
		unknownCA x509.UnknownAuthorityError
		invalid   x509.CertificateInvalidError
		hostErr   x509.HostnameError
	)
	return errors.As(err, &tlsErr) || errors.As(err, &verifyErr) || errors.As(err, &recErr) ||
		errors.As(err, &alertErr) || errors.As(err, &unknownCA) || errors.As(err, &invalid) ||
		errors.As(err, &hostErr)
}

// isTimeout reports whether err means "ran out of time": a context
// deadline or cancellation, an I/O deadline or a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// netDNSStatus is the default Options.DNSStatus: it understands the
// *net.DNSError of a *net.Resolver.
func netDNSStatus(err error) model.Status {
	var de *net.DNSError
	switch {
	case errors.Is(err, ErrNoAddress):
		return model.StatusDNSNoAddress
	case errors.As(err, &de) && de.IsNotFound:
		return model.StatusDNSNXDomain
	case errors.As(err, &de) && de.IsTimeout, isTimeout(err):
		return model.StatusDNSTimeout
	case errors.As(err, &de) && de.IsTemporary:
		return model.StatusDNSServfail
	}
	return model.StatusDNSError
}

// progress ranks statuses by how far a request got: a fallback attempt
// that got further explains a failure better.
func progress(s model.Status) int {
	switch s {
	case model.StatusInvalidInput:
		return 0
	case model.StatusDNSNXDomain, model.StatusDNSServfail, model.StatusDNSTimeout,
		model.StatusDNSNoAddress, model.StatusDNSError:
		return 1
	case model.StatusBlockedPrivate:
		return 2
	case model.StatusConnectRefused, model.StatusConnectTimeout, model.StatusConnectError:
		return 3
	case model.StatusTLSError:
		return 4
	}
	return 5
}
