// Package limit holds the concurrency limiters scans share: a semaphore per
// key (host name or IP address) whose memory follows concurrency, not the
// number of keys ever seen.
package limit

import (
	"context"
	"sync"
)

// Keyed caps concurrent holders per key. Entries exist only while held or
// waited for. A limit <= 0 means unlimited. It is safe for concurrent use.
type Keyed struct {
	limit int
	mu    sync.Mutex
	slots map[string]*keySlot
}

type keySlot struct {
	sem  chan struct{}
	refs int // holders plus waiters
}

// NewKeyed returns a limiter allowing limit holders per key.
func NewKeyed(limit int) *Keyed {
	return &Keyed{limit: limit, slots: make(map[string]*keySlot)}
}

// Acquire waits for a slot for key. It returns a release function, safe to
// call more than once, or ctx's cause.
func (l *Keyed) Acquire(ctx context.Context, key string) (func(), error) {
	if l.limit <= 0 {
		return func() {}, nil
	}
	l.mu.Lock()
	s := l.slots[key]
	if s == nil {
		s = &keySlot{sem: make(chan struct{}, l.limit)}
		l.slots[key] = s
	}
	s.refs++
	l.mu.Unlock()
	select {
	case s.sem <- struct{}{}:
		return sync.OnceFunc(func() {
			<-s.sem
			l.unref(key, s)
		}), nil
	case <-ctx.Done():
		l.unref(key, s)
		return nil, context.Cause(ctx)
	}
}

func (l *Keyed) unref(key string, s *keySlot) {
	l.mu.Lock()
	s.refs--
	if s.refs == 0 {
		delete(l.slots, key)
	}
	l.mu.Unlock()
}

// Len returns the number of keys held or waited for.
func (l *Keyed) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.slots)
}
