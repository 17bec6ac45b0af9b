package pipeline

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
)

type listSource struct{ items []Item }

func (s *listSource) Next() (Item, error) {
	if len(s.items) == 0 {
		return Item{}, io.EOF
	}
	it := s.items[0]
	s.items = s.items[1:]
	return it, nil
}

// releaseLog records, per host, the order of Detect and Release calls.
type releaseLog struct {
	mu     sync.Mutex
	events map[string][]string
}

func (l *releaseLog) add(host, ev string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events[host] = append(l.events[host], ev)
}

type releasingProber struct{ log *releaseLog }

func (p releasingProber) Probe(_ context.Context, host string) Fetched {
	return Fetched{
		Obs:     model.Observation{Host: host, URL: "https://" + host + "/", Body: []byte("<p>" + host)},
		Status:  model.StatusOK,
		Release: func() { p.log.add(host, "release") },
	}
}

type loggingDetector struct{ log *releaseLog }

func (d loggingDetector) Detect(obs *model.Observation) []model.Detection {
	d.log.add(obs.Host, "detect")
	if obs.Host == "panics.test" {
		panic("detector bug")
	}
	return nil
}

type discardSink struct{ n int }

func (s *discardSink) Write(context.Context, model.Result) error { s.n++; return nil }

// TestReleaseAfterDetect: every fetched observation is released exactly
// once, after detection is done with it, also when detection panics.
func TestReleaseAfterDetect(t *testing.T) {
	log := &releaseLog{events: map[string][]string{}}
	var items []Item
	for i := range 50 {
		h := fmt.Sprintf("h%02d.test", i)
		if i == 7 {
			h = "panics.test"
		}
		items = append(items, Item{Line: i + 1, Raw: h, Host: h, Domain: h})
	}
	sink := &discardSink{}
	if _, err := RunLive(context.Background(), LiveOptions{FetchWorkers: 4, DetectWorkers: 3},
		&listSource{items: items}, releasingProber{log}, loggingDetector{log}, sink); err != nil {
		t.Fatal(err)
	}
	if sink.n != len(items) {
		t.Fatalf("%d results for %d items", sink.n, len(items))
	}
	for _, it := range items {
		if got := log.events[it.Host]; len(got) != 2 || got[0] != "detect" || got[1] != "release" {
			t.Errorf("%s: %v, want [detect release]", it.Host, got)
		}
	}
}
