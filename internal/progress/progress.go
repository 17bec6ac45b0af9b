// Package progress shows how a scan advances: a progress bar on a terminal
// (done/total, rate, ETA and counts by status, github.com/schollz/progressbar)
// or, when output is not a terminal, a structured log line at a fixed
// interval.
package progress

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/aicensus/aicensus/internal/model"
)

// Reporter counts results by status. It is safe for concurrent use; Close
// stops its goroutine and prints a final line.
type Reporter struct {
	mu     sync.Mutex
	total  int64
	done   int64
	counts map[model.Status]int64
	start  time.Time
	bar    *progressbar.ProgressBar
	log    *slog.Logger
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// New starts a Reporter for total items (-1 when unknown). With tty it
// draws a bar on w; otherwise it logs every interval to log.
func New(w io.Writer, total int64, tty bool, interval time.Duration, log *slog.Logger) *Reporter {
	r := &Reporter{total: total, counts: map[model.Status]int64{}, start: time.Now(), log: log}
	if tty {
		r.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetItsString("domains"),
			progressbar.OptionShowIts(),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		return r
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.logLine("scan progress")
			}
		}
	}()
	return r
}

// Add records one finished item.
func (r *Reporter) Add(s model.Status) {
	r.mu.Lock()
	r.done++
	r.counts[s]++
	desc := ""
	if r.bar != nil && r.done%16 == 1 {
		desc = r.summaryLocked()
	}
	r.mu.Unlock()
	if r.bar != nil {
		if desc != "" {
			r.bar.Describe(desc)
		}
		_ = r.bar.Add(1)
	}
}

// AddSkipped records items that need no work (already stored).
func (r *Reporter) AddSkipped(n int64) {
	r.mu.Lock()
	r.done += n
	r.mu.Unlock()
	if r.bar != nil {
		_ = r.bar.Add64(n)
	}
}

// Counts returns the counts by status so far.
func (r *Reporter) Counts() map[model.Status]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[model.Status]int64, len(r.counts))
	for k, v := range r.counts {
		out[k] = v
	}
	return out
}

// summaryLocked renders the counts, most frequent first.
func (r *Reporter) summaryLocked() string {
	type kv struct {
		s model.Status
		n int64
	}
	var l []kv
	for s, n := range r.counts {
		l = append(l, kv{s, n})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].n > l[j].n || l[i].n == l[j].n && l[i].s < l[j].s })
	var parts []string
	for i, x := range l {
		if i == 4 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", x.s, x.n))
	}
	return strings.Join(parts, ", ")
}

func (r *Reporter) logLine(msg string) {
	r.mu.Lock()
	done, total := r.done, r.total
	summary := r.summaryLocked()
	r.mu.Unlock()
	elapsed := time.Since(r.start)
	rate := float64(done) / max(elapsed.Seconds(), 1e-9)
	attrs := []any{"done", done, "rate_per_s", fmt.Sprintf("%.1f", rate), "statuses", summary}
	if total > 0 {
		attrs = append(attrs, "total", total)
		if rate > 0 && done < total {
			attrs = append(attrs, "eta", (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second))
		}
	}
	r.log.Info(msg, attrs...)
}

// Close stops the reporter and logs the final counts.
func (r *Reporter) Close() {
	if r.stop != nil {
		r.stop()
		r.wg.Wait()
	}
	if r.bar != nil {
		_ = r.bar.Finish()
	}
	r.logLine("scan finished")
}
