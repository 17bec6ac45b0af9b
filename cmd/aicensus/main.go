// Command aicensus measures where AI technologies run in production: it
// detects them in live sites and web archives, stores every detection with
// its evidence, and reports adoption. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes (documented in README.md).
const (
	exitOK          = 0   // the command did what was asked
	exitError       = 1   // the command failed (bad catalog, store error, ...)
	exitUsage       = 2   // bad flags or arguments
	exitInterrupted = 130 // stopped by Ctrl-C or SIGTERM; work done so far is kept
)

// usageError marks errors caused by the command line, mapped to exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand().ExecuteContext(ctx)
	interrupted := ctx.Err() != nil
	stop()
	os.Exit(exitCode(err, interrupted))
}

// exitCode maps the outcome of a command to the process exit code; it is the
// only place that decides one.
func exitCode(err error, interrupted bool) int {
	var ue usageError
	switch {
	case err == nil && !interrupted:
		return exitOK
	case interrupted || errors.Is(err, context.Canceled):
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "aicensus:", err)
		}
		return exitInterrupted
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "aicensus:", err)
		return exitUsage
	default:
		fmt.Fprintln(os.Stderr, "aicensus:", err)
		return exitError
	}
}
