package fetch

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"

	"github.com/aicensus/aicensus/internal/model"
)

// phase is how far a request has got; it decides what a context expiry
// means (dns-timeout, connect-timeout, tls-error or timeout).
type phase int32

const (
	phaseQueue   phase = iota // waiting for the rate limiter or a host slot
	phaseDNS                  // resolving
	phaseConnect              // waiting for an IP slot or connecting
	phaseTLS                  // TLS handshake
	phaseHTTP                 // connected: request, headers, body
)

// reqState travels in a request's context (values survive the Transport
// detaching dials from the request's cancellation).
type reqState struct {
	phase atomic.Int32
	host  atomic.Pointer[string] // the host being dialed
	// ctx is the request's context: dials stop when it is done, even though
	// http.Transport lets dials outlive their request.
	ctx context.Context
}

type stateKey struct{}

func withState(ctx context.Context) (context.Context, *reqState) {
	st := &reqState{}
	ctx = context.WithValue(ctx, stateKey{}, st)
	st.ctx = ctx
	return ctx, st
}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

func (s *reqState) setPhase(p phase) {
	if s != nil {
		s.phase.Store(int32(p))
	}
}

func (s *reqState) setHost(h string) {
	if s != nil {
		s.host.Store(&h)
	}
}

func (s *reqState) dialHost() string {
	if s == nil {
		return ""
	}
	if h := s.host.Load(); h != nil {
		return *h
	}
	return ""
}

func (s *reqState) current() phase {
	if s == nil {
		return phaseHTTP
	}
	return phase(s.phase.Load())
}

// boundToRequest returns a context that is also cancelled when the request
// that started the dial is done.
func boundToRequest(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	st := stateFrom(ctx)
	if st == nil || st.ctx == nil {
		return ctx, cancel
	}
	stop := context.AfterFunc(st.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// maxDialAddrs is how many permitted addresses one dial tries.
const maxDialAddrs = 3

// dialTCP resolves host:port through the Resolver, drops addresses the policy
// forbids, and connects to the first permitted address that answers. It is
// the only way the Client opens connections, so the policy holds for every
// request, redirect, robots.txt and script, and a DNS answer that changes
// between lookups (rebinding) cannot get past it: what is checked is what is
// dialed.
func (c *Client) dialTCP(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := boundToRequest(ctx)
	defer cancel()
	st := stateFrom(ctx)
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, ErrInvalidHost)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("dial %s: bad port: %w", addr, ErrInvalidHost)
	}
	if p, ok := c.opts.PortMap[port]; ok {
		port = p
	}
	st.setHost(host)
	st.setPhase(phaseDNS)
	addrs, err := c.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	permitted := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if c.policy.Permits(a) {
			permitted = append(permitted, a.Unmap().WithZone(""))
		}
	}
	if len(permitted) == 0 {
		return nil, &BlockedError{Host: host, Addrs: addrs}
	}
	// IPv4 first: many scanning hosts have no IPv6 route.
	slices.SortStableFunc(permitted, func(a, b netip.Addr) int { return cmp.Compare(a.BitLen(), b.BitLen()) })
	st.setPhase(phaseConnect)
	var last error
	for _, ip := range permitted[:min(len(permitted), maxDialAddrs)] {
		conn, err := c.dialAddr(ctx, network, netip.AddrPortFrom(ip, uint16(port)))
		if err == nil {
			return conn, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, &ConnectError{Addr: net.JoinHostPort(host, strconv.Itoa(port)), Err: last}
}

// dialAddr connects to one address while holding its per-IP slot; the slot
// is released when the connection is closed.
func (c *Client) dialAddr(ctx context.Context, network string, ap netip.AddrPort) (net.Conn, error) {
	release, err := c.perIP.Acquire(ctx, ap.Addr().String())
	if err != nil {
		return nil, err
	}
	conn, err := c.dialer.DialContext(ctx, network, ap.String())
	if err != nil {
		release()
		return nil, err
	}
	return &limitedConn{Conn: conn, release: release}, nil
}

// resolve returns host's addresses: the literal itself for an IP, the
// Resolver's answer otherwise.
func (c *Client) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	addrs, err := c.opts.Resolver.LookupAddrs(ctx, host)
	if err == nil && len(addrs) == 0 {
		err = ErrNoAddress
	}
	if err != nil {
		status := model.StatusDNSNoAddress
		if !errors.Is(err, ErrNoAddress) {
			status = c.opts.DNSStatus(err)
		}
		if !isDNSStatus(status) {
			status = model.StatusDNSError
		}
		return nil, &DNSError{Host: host, Status: status, Err: err}
	}
	return addrs, nil
}

// controlAddr is the dialer's last check, on the socket address itself:
// nothing reaches connect(2) for an address the policy forbids.
func (c *Client) controlAddr(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("control %s: %w", address, ErrBlockedPrivate)
	}
	if !c.policy.Permits(ap.Addr()) {
		return &BlockedError{Host: address, Addrs: []netip.Addr{ap.Addr()}}
	}
	return nil
}

// dialTLS connects like dialTCP and completes a TLS handshake, verifying the
// certificate for the URL's host against the system roots plus
// Options.ExtraRootsPEM. Handshake failures are *TLSError.
func (c *Client) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := c.dialTCP(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	st := stateFrom(ctx)
	st.setPhase(phaseTLS)
	hctx, cancel := boundToRequest(ctx)
	defer cancel()
	hctx, cancelT := context.WithTimeout(hctx, c.opts.TLSTimeout)
	defer cancelT()
	tc := tls.Client(conn, &tls.Config{
		ServerName: host,
		RootCAs:    c.roots,
		NextProtos: []string{"http/1.1"},
		MinVersion: tls.VersionTLS10, // a census sees old servers too
	})
	if err := tc.HandshakeContext(hctx); err != nil {
		conn.Close()
		if errors.Is(err, context.Canceled) && st != nil && st.ctx != nil && st.ctx.Err() != nil {
			// The request ended the handshake. net/http may cancel the
			// dial before the request's own context reports its deadline:
			// name the request's cause either way.
			err = context.Cause(st.ctx)
		}
		return nil, &TLSError{Host: host, Err: err}
	}
	st.setPhase(phaseHTTP)
	return tc, nil
}

// dialPlain is the Transport's DialContext for http:// URLs.
func (c *Client) dialPlain(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := c.dialTCP(ctx, network, addr)
	if err == nil {
		stateFrom(ctx).setPhase(phaseHTTP)
	}
	return conn, err
}

func isDNSStatus(s model.Status) bool {
	switch s {
	case model.StatusDNSNXDomain, model.StatusDNSServfail, model.StatusDNSTimeout,
		model.StatusDNSNoAddress, model.StatusDNSError:
		return true
	}
	return false
}
