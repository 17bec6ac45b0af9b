package cluster

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// heldUnit is a unit a worker holds: received, not yet acked or handed
// back.
type heldUnit struct {
	unit     *Unit
	msg      jetstream.Msg // the latest delivery's message
	delivery uint64
}

// holder keeps the units one runner holds and acks or hands them back, for
// domain and archive runners alike. mu is the runner's own mutex, which
// also guards the runner's other state: a unit redelivered while it runs
// gets its new msg under it.
type holder struct {
	w    *worker
	key  string // the scan's key
	mu   *sync.Mutex
	held map[*heldUnit]struct{}
}

func newHolder(w *worker, key string, mu *sync.Mutex) holder {
	return holder{w: w, key: key, mu: mu, held: map[*heldUnit]struct{}{}}
}

// addLocked holds u; the caller holds mu.
func (h *holder) addLocked(u *heldUnit) { h.held[u] = struct{}{} }

// add holds u.
func (h *holder) add(u *heldUnit) {
	h.mu.Lock()
	h.addLocked(u)
	h.mu.Unlock()
}

// release stops holding u and returns its latest message.
func (h *holder) release(u *heldUnit) jetstream.Msg {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.held, u)
	return u.msg
}

// ack acks u, whose items are all published.
func (h *holder) ack(u *heldUnit, items int) {
	if err := h.release(u).Ack(); err != nil {
		// The unit comes back after AckWait; what it published is stored once.
		h.w.opts.Log.Warn("ack failed", "unit", u.unit.ID, "err", err)
	}
	h.w.event(Event{Kind: EventUnitDone, Scan: h.key, Unit: u.unit.ID, Delivery: u.delivery, Items: items})
}

// nak hands u back for redelivery after delay.
func (h *holder) nak(u *heldUnit, delay time.Duration, cause error) {
	msg := h.release(u)
	h.w.opts.Log.Warn("handing unit back", "unit", u.unit.ID, "delay", delay, "err", cause)
	if err := msg.NakWithDelay(delay); err != nil {
		h.w.opts.Log.Debug("nak failed; the unit comes back after its ack wait", "unit", u.unit.ID, "err", err)
	}
	h.w.event(Event{Kind: EventUnitNak, Scan: h.key, Unit: u.unit.ID, Delivery: u.delivery, Err: errString(cause)})
}

// handBack naks every unit still held, so other workers take them at once.
func (h *holder) handBack() {
	h.mu.Lock()
	left := make([]*heldUnit, 0, len(h.held))
	for u := range h.held {
		left = append(left, u)
	}
	h.mu.Unlock()
	for _, u := range left {
		h.nak(u, 0, errors.New("worker stopping"))
	}
}

// heartbeat tells JetStream every interval, until ctx ends, that every held
// unit is still being worked on, so that AckWait only expires for the
// units of a dead worker (an archive can take far longer than AckWait).
func (h *holder) heartbeat(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		h.mu.Lock()
		msgs := make([]jetstream.Msg, 0, len(h.held))
		for u := range h.held {
			msgs = append(msgs, u.msg)
		}
		h.mu.Unlock()
		for _, m := range msgs {
			_ = m.InProgress() // a lost heartbeat at worst redelivers the unit
		}
	}
}
