package limit

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestKeyed(t *testing.T) {
	l := NewKeyed(1)
	rel, err := l.Acquire(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(ctx, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second holder of a full key: %v", err)
	}
	relB, err := l.Acquire(context.Background(), "b")
	if err != nil {
		t.Fatal(err)
	}
	rel()
	rel() // releasing twice is harmless
	relB()
	if n := l.Len(); n != 0 {
		t.Fatalf("%d entries left after every release", n)
	}
	unlimited := NewKeyed(0)
	for range 3 {
		if _, err := unlimited.Acquire(ctx, "a"); err != nil {
			t.Fatal(err)
		}
	}
}
