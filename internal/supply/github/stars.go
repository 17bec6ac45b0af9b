package github

import (
	"context"
	"strings"
	"time"

	"github.com/aicensus/aicensus/internal/supply/gharchive"
)

// WatchStars counts GH Archive WatchEvents (action "started") per
// repository name, lower-cased, up to Until when set. The count is an
// upper bound of stars: un-starring is not an event and stars older than the
// archive are missing. It is not safe for concurrent use.
type WatchStars struct {
	Until  time.Time
	Counts map[string]int64
	Stats  gharchive.Stats
}

// ReadFiles adds the WatchEvents of every GH Archive file.
func (w *WatchStars) ReadFiles(ctx context.Context, paths []string) error {
	if w.Counts == nil {
		w.Counts = map[string]int64{}
	}
	for _, p := range paths {
		st, err := gharchive.ReadFile(ctx, p, gharchive.Options{Types: []string{gharchive.TypeWatch}}, func(e *gharchive.Event) error {
			if e.Payload.Action != "" && e.Payload.Action != "started" {
				return nil
			}
			if !w.Until.IsZero() && e.CreatedAt.After(w.Until) {
				return nil
			}
			w.Counts[strings.ToLower(e.Repo.Name)]++
			return nil
		})
		w.Stats.Add(st)
		if err != nil {
			return err
		}
	}
	return nil
}

// Apply replaces every repository's Stars by its WatchEvent count (0 when
// the repository has none).
func (w *WatchStars) Apply(repos []Repo) {
	for i := range repos {
		repos[i].Stars = w.Counts[strings.ToLower(repos[i].FullName)]
	}
}
