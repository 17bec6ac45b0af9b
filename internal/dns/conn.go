package dns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// errTruncated marks a truncated UDP reply whose TCP retry failed or was
// truncated as well.
var errTruncated = errors.New("truncated answer")

// errQuestion marks a reply to a different question than the one asked.
var errQuestion = errors.New("reply to a different question")

// server is one resolver address with its idle UDP sockets. Reusing a
// connected UDP socket saves a socket, a bind and a connect per query
// (deps-probe measured twice the throughput of a fresh socket per query);
// miekg/dns skips replies with a stale message id on a reused socket.
type server struct {
	addr string
	mu   sync.Mutex
	idle []*mdns.Conn
	max  int
}

func newServer(addr string, maxIdle int) *server {
	return &server{addr: addr, max: maxIdle}
}

// get returns an idle socket, or nil when there is none.
func (s *server) get() *mdns.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.idle)
	if n == 0 {
		return nil
	}
	c := s.idle[n-1]
	s.idle = s.idle[:n-1]
	return c
}

// put keeps c for reuse, or closes it when the pool is full.
func (s *server) put(c *mdns.Conn) {
	s.mu.Lock()
	if len(s.idle) < s.max {
		s.idle = append(s.idle, c)
		c = nil
	}
	s.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

func (s *server) close() {
	s.mu.Lock()
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
}

// exchange sends q to srv over UDP on a pooled socket and, when the reply is
// truncated, once more over TCP. A socket that saw any error is closed, not
// reused. Cancelling ctx interrupts the read.
func (r *Resolver) exchange(ctx context.Context, srv *server, q *mdns.Msg) (*mdns.Msg, error) {
	conn := srv.get()
	if conn == nil {
		c, err := r.udp.DialContext(ctx, srv.addr)
		if err != nil {
			return nil, fmt.Errorf("dial udp: %w", err)
		}
		conn = c
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	resp, _, err := r.udp.ExchangeWithConnContext(ctx, q, conn)
	if stop() && err == nil {
		srv.put(conn)
	} else {
		conn.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("udp: %w", err)
	}
	if !sameQuestion(q, resp) {
		return nil, fmt.Errorf("udp: %w", errQuestion)
	}
	if !resp.Truncated {
		return resp, nil
	}
	resp, _, err = r.tcp.ExchangeContext(ctx, q, srv.addr)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w, tcp retry: %w", errTruncated, err)
	case resp.Truncated:
		return nil, fmt.Errorf("%w over tcp", errTruncated)
	case !sameQuestion(q, resp):
		return nil, fmt.Errorf("tcp: %w", errQuestion)
	}
	return resp, nil
}

// sameQuestion reports whether resp answers q. A reply without a question
// section (some resolvers send one with REFUSED) is accepted.
func sameQuestion(q, resp *mdns.Msg) bool {
	if len(resp.Question) == 0 {
		return true
	}
	a, b := q.Question[0], resp.Question[0]
	return len(resp.Question) == 1 && a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}
