package cluster

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// heartbeat tells JetStream every interval, until ctx ends, that the units
// whose messages held returns are still being worked on, so that AckWait
// only expires for the units of a dead worker (an archive can take far
// longer than AckWait).
func heartbeat(ctx context.Context, every time.Duration, held func() []jetstream.Msg) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for _, m := range held() {
			_ = m.InProgress() // a lost heartbeat at worst redelivers the unit
		}
	}
}
