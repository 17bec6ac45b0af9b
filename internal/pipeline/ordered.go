package pipeline

import (
	"context"
	"fmt"
	"runtime/debug"

	"golang.org/x/sync/errgroup"
)

// PanicError is what a recovered panic in a worker function becomes.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Recover runs fn and turns a panic into a *PanicError.
func Recover(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}

// Ordered runs fn over the items src yields, on workers goroutines, and
// passes the results to sink one at a time in the order src yielded the
// items. At most 4*workers items are in flight, so memory stays bounded
// whatever the input size. fn must handle its own failures (returning them
// as part of R); if fn panics, onPanic turns the panic into that item's
// result. Ordered returns the first error of src or sink, or ctx's error.
func Ordered[T, R any](ctx context.Context, workers int, src func(yield func(T) bool) error,
	fn func(context.Context, T) R, onPanic func(T, *PanicError) R, sink func(R) error) error {
	if workers < 1 {
		workers = 1
	}
	type job struct {
		item T
		out  chan R
	}
	g, ctx := errgroup.WithContext(ctx)
	jobs := make(chan job)
	queue := make(chan chan R, 4*workers)
	g.Go(func() error {
		defer close(jobs)
		defer close(queue)
		var stop bool
		err := src(func(item T) bool {
			j := job{item: item, out: make(chan R, 1)}
			select {
			case queue <- j.out:
			case <-ctx.Done():
				stop = true
				return false
			}
			select {
			case jobs <- j:
				return true
			case <-ctx.Done():
				stop = true
				return false
			}
		})
		if err != nil {
			return err
		}
		if stop {
			return ctx.Err()
		}
		return nil
	})
	for range workers {
		g.Go(func() error {
			for j := range jobs {
				var r R
				if err := Recover(func() error { r = fn(ctx, j.item); return nil }); err != nil {
					r = onPanic(j.item, err.(*PanicError))
				}
				j.out <- r
			}
			return nil
		})
	}
	g.Go(func() error {
		for out := range queue {
			select {
			case r := <-out:
				if err := sink(r); err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	return g.Wait()
}
