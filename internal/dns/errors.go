package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	mdns "github.com/miekg/dns"

	"github.com/aicensus/aicensus/internal/model"
)

// Sentinel errors, one per failing status. Every *Error matches exactly one
// of them with errors.Is.
var (
	ErrNXDomain  = errors.New("name does not exist")                     // model.StatusDNSNXDomain
	ErrServfail  = errors.New("resolver failed (servfail or refused)")   // model.StatusDNSServfail
	ErrTimeout   = errors.New("no answer within the timeout")            // model.StatusDNSTimeout
	ErrNoAddress = errors.New("name has no address records")             // model.StatusDNSNoAddress
	ErrMalformed = errors.New("malformed, truncated or failed exchange") // model.StatusDNSError
)

// Error is the error type of every failed lookup. It is comparable with
// errors.Is both to the sentinel of its Status and to its cause (for example
// context.Canceled, os.ErrDeadlineExceeded or a *miekg/dns.Error).
type Error struct {
	Name   string       // the queried name, lowercase, without trailing dot
	Type   string       // the query type ("A", "TXT", ...), or "A/AAAA" for address lookups
	Status model.Status // never StatusOK
	Err    error        // the cause; may be nil
}

// Error describes the failed question and its status.
func (e *Error) Error() string {
	msg := sentinel(e.Status).Error()
	if e.Err != nil {
		msg = fmt.Sprintf("%s: %v", msg, e.Err)
	}
	return fmt.Sprintf("dns %s %s: %s", e.Type, e.Name, msg)
}

// Unwrap returns the status sentinel and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{sentinel(e.Status)}
	}
	return []error{sentinel(e.Status), e.Err}
}

func sentinel(s model.Status) error {
	switch s {
	case model.StatusDNSNXDomain:
		return ErrNXDomain
	case model.StatusDNSServfail:
		return ErrServfail
	case model.StatusDNSTimeout:
		return ErrTimeout
	case model.StatusDNSNoAddress:
		return ErrNoAddress
	}
	return ErrMalformed
}

// StatusOf maps an error to the status of the lookup that returned it:
// StatusOK for nil, the Status of an *Error, StatusDNSTimeout for context
// expiry, and StatusDNSError for anything else.
func StatusOf(err error) model.Status {
	var de *Error
	switch {
	case err == nil:
		return model.StatusOK
	case errors.As(err, &de):
		return de.Status
	case isTimeout(err):
		return model.StatusDNSTimeout
	}
	return model.StatusDNSError
}

// isTimeout reports whether err means "no answer in time": a read deadline,
// a network timeout or the caller's context running out.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// isMalformed reports whether err comes from parsing a reply (bad bytes,
// wrong id), as opposed to the network.
func isMalformed(err error) bool {
	var me *mdns.Error
	return errors.As(err, &me)
}

// rcodeStatus maps a response code to a status. NOERROR is StatusOK;
// NOTIMP, FORMERR and the rest are StatusDNSError.
func rcodeStatus(rcode int) model.Status {
	switch rcode {
	case mdns.RcodeSuccess:
		return model.StatusOK
	case mdns.RcodeNameError:
		return model.StatusDNSNXDomain
	case mdns.RcodeServerFailure, mdns.RcodeRefused:
		return model.StatusDNSServfail
	}
	return model.StatusDNSError
}

// rcodeError is the cause recorded for a failing response code.
type rcodeError int

func (r rcodeError) Error() string {
	if s, ok := mdns.RcodeToString[int(r)]; ok {
		return "rcode " + s
	}
	return fmt.Sprintf("rcode %d", int(r))
}
