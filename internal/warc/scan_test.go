package warc

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// servoSources returns the servo archives (the small ones with -short or
// -race) and the records a sequential read finds in them.
func servoSources(t *testing.T) ([]Source, []*Record) {
	t.Helper()
	files := corpusGlob("servo-warc-tests/*.warc.gz")
	if len(files) == 0 {
		t.Skip("servo-warc-tests not found")
	}
	srcs, _, err := Expand(context.Background(), files, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var all []*Record
	for _, s := range srcs {
		data, err := os.ReadFile(s.Name)
		if err != nil {
			t.Fatal(err)
		}
		recs, _ := readAllRecords(t, s.Name, data, Options{})
		all = append(all, recs...)
	}
	return srcs, all
}

// collector records what a Scan reports; safe for concurrent use.
type collector struct {
	mu      sync.Mutex
	seen    map[string]int      // Ref -> times handled
	bodies  map[string][32]byte // Ref -> sha256 of the observed body
	obs     int
	commits map[string][]int64
	done    map[string]int
	doneErr map[string]error
}

func newCollector() *collector {
	return &collector{seen: map[string]int{}, bodies: map[string][32]byte{}, commits: map[string][]int64{}, done: map[string]int{}, doneErr: map[string]error{}}
}

// options has files sources read at once by as many readers, and workers
// workers: with fewer files than workers, readers split sources for the
// workers; with as many, each reader handles its own records.
func (c *collector) options(files, workers int) ScanOptions {
	return ScanOptions{
		Workers: workers,
		Files:   files,
		Commit: func(src Source, off int64) {
			c.mu.Lock()
			c.commits[src.Name] = append(c.commits[src.Name], off)
			c.mu.Unlock()
		},
		SourceDone: func(src Source, st Stats, err error) {
			c.mu.Lock()
			c.done[src.Name]++
			c.doneErr[src.Name] = err
			c.mu.Unlock()
		},
	}
}

func (c *collector) handle(_ context.Context, it *Item) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[it.Record.Ref()]++
	if it.Observation != nil {
		c.obs++
		c.bodies[it.Record.Ref()] = sha256.Sum256(it.Observation.Body)
	}
	return nil
}

func TestScanServo(t *testing.T) {
	for _, files := range []int{1, 2} {
		t.Run(fmt.Sprintf("files=%d", files), func(t *testing.T) { testScanServo(t, files) })
	}
}

func testScanServo(t *testing.T, files int) {
	srcs, all := servoSources(t)
	var wantResp int
	for _, r := range all {
		if r.Type == TypeResponse {
			wantResp++
		}
	}
	missing := Source{Name: filepath.Join(t.TempDir(), "gone.warc.gz"), Kind: SourceFile}
	srcs = append(srcs, missing)
	c := newCollector()
	st, err := Scan(context.Background(), srcs, c.options(files, 2), c.handle)
	if err != nil {
		t.Fatal(err)
	}
	if st.RecordTotal() != int64(len(all)) || st.Records[TypeResponse] != int64(wantResp) || len(c.seen) != len(all) {
		t.Errorf("stats %v, %d distinct records handled; want %d", st, len(c.seen), len(all))
	}
	for ref, n := range c.seen {
		if n != 1 {
			t.Errorf("%s handled %d times", ref, n)
		}
	}
	if c.obs != wantResp {
		t.Errorf("%d observations, want %d", c.obs, wantResp)
	}
	// Blocks and decode buffers are recycled: every body must still be
	// the one a fresh sequential decode gives.
	for _, r := range all {
		if obs, _ := r.Decode(); obs != nil && sha256.Sum256(obs.Body) != c.bodies[r.Ref()] {
			t.Errorf("%s: body seen by the handler differs from a fresh decode", r.Ref())
		}
	}
	if st.Sources != int64(len(srcs)) || st.Problems[KindOpenError] != 1 || st.ProblemTotal() != 1 {
		t.Errorf("sources %d, problems %v", st.Sources, st.Problems)
	}
	var size int64
	for _, s := range srcs {
		if c.done[s.Name] != 1 {
			t.Errorf("%s: SourceDone called %d times", s.Name, c.done[s.Name])
		}
		if s == missing {
			var p *Problem
			if !errors.As(c.doneErr[s.Name], &p) || p.Kind != KindOpenError || len(c.commits[s.Name]) != 0 {
				t.Errorf("missing source: %v, commits %v", c.doneErr[s.Name], c.commits[s.Name])
			}
			continue
		}
		fi, err := os.Stat(s.Name)
		if err != nil {
			t.Fatal(err)
		}
		size += fi.Size()
		cs := c.commits[s.Name]
		for i := 1; i < len(cs); i++ {
			if cs[i] <= cs[i-1] {
				t.Errorf("%s: commits not increasing: %v", s.Name, cs)
				break
			}
		}
		if len(cs) == 0 || cs[len(cs)-1] != fi.Size() {
			t.Errorf("%s: last commit %v, want the file size %d", s.Name, cs, fi.Size())
		}
	}
	if st.Bytes != size {
		t.Errorf("bytes %d, want %d", st.Bytes, size)
	}
}

var errCrash = errors.New("crash")

// TestScanResumeAfterCrash stops a scan abruptly and resumes it from the
// committed offsets: every record before a committed offset was handled in
// the first run, and no record is lost over both runs.
func TestScanResumeAfterCrash(t *testing.T) {
	srcs, all := servoSources(t)
	for i, crashAfter := range []int{1, len(all) / 9, len(all) / 2, len(all) / 3} {
		noSplit := i == 3 // every record through the record path
		files := 1 + i%2  // one file: split for the workers; two: read by the readers
		c := newCollector()
		n := 0
		crashing := func(ctx context.Context, it *Item) error {
			c.mu.Lock()
			n++
			stop := n > crashAfter
			c.mu.Unlock()
			if stop {
				return errCrash
			}
			return c.handle(ctx, it)
		}
		first := c.options(files, 2)
		first.NoSplit = noSplit
		if _, err := Scan(context.Background(), srcs, first, crashing); !errors.Is(err, errCrash) {
			t.Fatalf("first run: %v", err)
		}
		committed := map[string]int64{}
		for name, cs := range c.commits {
			committed[name] = cs[len(cs)-1]
		}
		for _, r := range all {
			if r.Offset < committed[r.File] && c.seen[r.Ref()] == 0 {
				t.Fatalf("crash after %d: %s is before the commit %d but was not handled", crashAfter, r.Ref(), committed[r.File])
			}
		}
		handled := len(c.seen)
		opt := c.options(files, 2)
		opt.Start = func(s Source) int64 { return committed[s.Name] }
		if _, err := Scan(context.Background(), srcs, opt, c.handle); err != nil {
			t.Fatal(err)
		}
		if len(c.seen) != len(all) {
			t.Errorf("crash after %d: %d distinct records over both runs, want %d", crashAfter, len(c.seen), len(all))
		}
		dups := 0
		for _, k := range c.seen {
			dups += k - 1
		}
		t.Logf("crash after %d: %d handled in the first run, %d handled again after resuming", crashAfter, handled, dups)
	}
}

// TestScanCancel cancels a scan from its handler: the scan stops within a
// few records (those already being handled), whether readers or workers
// handle them.
func TestScanCancel(t *testing.T) {
	srcs, _ := servoSources(t)
	for _, files := range []int{1, 2} {
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		var mu sync.Mutex
		_, err := Scan(ctx, srcs, ScanOptions{Workers: 2, Files: files}, func(context.Context, *Item) error {
			mu.Lock()
			defer mu.Unlock()
			if n++; n == 10 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("files=%d: err %v", files, err)
		}
		if n > 10+files+2 {
			t.Errorf("files=%d: %d records handled, the scan went on after the 10th cancelled it", files, n)
		}
		cancel()
	}
}
