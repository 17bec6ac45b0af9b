package pipeline

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func count(n int) func(func(int) bool) error {
	return func(yield func(int) bool) error {
		for i := range n {
			if !yield(i) {
				return nil
			}
		}
		return nil
	}
}

func TestOrderedKeepsOrderAndRecoversPanics(t *testing.T) {
	var got []string
	err := Ordered(context.Background(), 4, count(200),
		func(_ context.Context, i int) string {
			if i == 17 {
				panic("boom")
			}
			return fmt.Sprint(i)
		},
		func(i int, p *PanicError) string { return fmt.Sprintf("%d:%v", i, p.Value) },
		func(s string) error { got = append(got, s); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 200 {
		t.Fatalf("got %d results", len(got))
	}
	for i, s := range got {
		want := fmt.Sprint(i)
		if i == 17 {
			want = "17:boom"
		}
		if s != want {
			t.Fatalf("result %d = %q, want %q", i, s, want)
		}
	}
}

func TestOrderedStopsOnSinkError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Ordered(context.Background(), 2, count(1_000_000),
		func(_ context.Context, i int) int { return i },
		func(i int, _ *PanicError) int { return i },
		func(int) error {
			n++
			if n == 10 {
				return stop
			}
			return nil
		})
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want stop", err)
	}
}

func TestOrderedCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := Ordered(ctx, 2, count(1_000_000),
		func(_ context.Context, i int) int { return i },
		func(i int, _ *PanicError) int { return i },
		func(int) error {
			n++
			if n == 5 {
				cancel()
			}
			return nil
		})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
