package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

// crashEnv makes the test binary act as the writer child of the crash
// tests: "<mode>|<db path>|<n>".
const crashEnv = "AICENSUS_STORE_CRASH_CHILD"

// Archive crash test shape: sources × records, 10 bytes per record.
const (
	crashSources = 4
	crashTargets = 50
	crashBatch   = 25
)

// TestCrashChild is the child process of the crash tests; it does nothing
// in a normal run.
func TestCrashChild(t *testing.T) {
	spec := os.Getenv(crashEnv)
	if spec == "" {
		t.Skip("helper process for TestCrashSafety*")
	}
	parts := strings.Split(spec, "|")
	n, _ := strconv.Atoi(parts[2])
	var err error
	switch parts[0] {
	case "live":
		err = crashChildLive(parts[1], n)
	case "warc":
		err = crashChildWARC(parts[1], n)
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	fmt.Println("done")
	os.Exit(0)
}

func crashChildOpen(path, kind string) (*Store, Scan, *Writer, error) {
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		return nil, Scan{}, nil, err
	}
	// Checkpoint often, so kills also land during checkpoints.
	if _, err := s.DB().Exec(`SET checkpoint_threshold = '256KB'`); err != nil {
		return nil, Scan{}, nil, err
	}
	spec := ScanSpec{Kind: kind, Input: "crash-test"}
	sc, ok, err := s.FindResumable(ctx, kind, Fingerprint(kind, "crash-test", nil))
	if err != nil {
		return nil, Scan{}, nil, err
	}
	if !ok {
		if sc, err = s.CreateScan(ctx, spec); err != nil {
			return nil, Scan{}, nil, err
		}
	} else if err := s.SetScanState(ctx, sc.ID, ScanRunning); err != nil {
		return nil, Scan{}, nil, err
	}
	w, err := s.NewWriter(WriterOptions{BatchSize: 50, MaxDelay: 20 * time.Millisecond})
	if err != nil {
		return nil, Scan{}, nil, err
	}
	return s, sc, w, nil
}

// crashChildLive writes results for lines 1..n, skipping stored lines (but
// deliberately re-sending every 97th, which the Writer must drop).
func crashChildLive(path string, n int) error {
	ctx := context.Background()
	s, sc, w, err := crashChildOpen(path, KindLive)
	if err != nil {
		return err
	}
	stored, err := s.StoredLines(ctx, sc.ID)
	if err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		if stored.Has(i) && i%97 != 0 {
			continue
		}
		if err := w.Write(ctx, sampleResult(sc.ID, i)); err != nil {
			return err
		}
		if i%200 == 0 {
			if err := w.Flush(ctx); err != nil {
				return err
			}
			fmt.Println("flushed", i)
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := s.SetScanState(ctx, sc.ID, ScanDone); err != nil {
		return err
	}
	return s.Close()
}

func crashPage(src, rec int) Page {
	target := fmt.Sprintf("d%d.example", (src*7+rec)%crashTargets)
	p := Page{Target: target, Domain: target, Host: target, URL: fmt.Sprintf("https://%s/%d", target, rec), HTTPStatus: 200,
		Time: baseTime.Add(time.Duration(rec) * time.Minute), Ref: fmt.Sprintf("s%d.warc.gz@%d", src, rec*10)}
	if rec%5 == 0 {
		p.Detections = []model.Detection{det("Tech", fmt.Sprintf("1.%d", rec%3), rec%100,
			ev("scriptSrc", fmt.Sprintf("m%d", rec%4), "", model.ClassPageEmbed))}
	}
	return p
}

// crashChildWARC reads crashSources sources of n records each, resuming at
// the checkpoints, then finalizes the scan.
func crashChildWARC(path string, n int) error {
	ctx := context.Background()
	s, sc, w, err := crashChildOpen(path, KindWARC)
	if err != nil {
		return err
	}
	cps, err := s.Checkpoints(ctx, sc.ID)
	if err != nil {
		return err
	}
	for src := range crashSources {
		name := fmt.Sprintf("s%d.warc.gz", src)
		cp := cps[name]
		if cp.Done {
			continue
		}
		for start := int(cp.NextOffset / 10); start < n; start += crashBatch {
			end := min(start+crashBatch, n)
			b := PageBatch{ScanID: sc.ID, Source: name, NextOffset: int64(end * 10), Done: end == n,
				Counters: map[string]int64{"records": int64(end - start)}}
			for rec := start; rec < end; rec++ {
				b.Pages = append(b.Pages, crashPage(src, rec))
			}
			if err := w.WritePages(ctx, b); err != nil {
				return err
			}
			if (start/crashBatch)%8 == 7 {
				if err := w.Flush(ctx); err != nil {
					return err
				}
				fmt.Println("flushed", name, end)
			}
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if _, err := s.FinalizeArchiveScan(ctx, sc.ID); err != nil {
		return err
	}
	if err := s.SetScanState(ctx, sc.ID, ScanDone); err != nil {
		return err
	}
	return s.Close()
}

// runCrashRounds runs the child `kills` times, SIGKILLing it at a random
// moment after it has reported `progress` flushes, checking the store after
// each kill; then runs it to completion.
func runCrashRounds(t *testing.T, mode, path string, n, kills, progress int, check func(final bool)) {
	for round := 0; ; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%s|%d", crashEnv, mode, path, n))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		flushes, done, killed := 0, false, false
		for lines.Scan() {
			line := lines.Text()
			switch {
			case strings.HasPrefix(line, "flushed"):
				flushes++
			case line == "done":
				done = true
			case strings.HasPrefix(line, "error"):
				t.Fatalf("child: %s", line)
			}
			if round < kills && !killed && flushes >= progress+round {
				time.Sleep(time.Duration(rand.IntN(60)) * time.Millisecond)
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		werr := cmd.Wait()
		if done && !killed {
			if werr != nil {
				t.Fatalf("child round %d: %v", round, werr)
			}
			check(true)
			return
		}
		if !killed {
			t.Fatalf("child round %d ended without finishing: %v", round, werr)
		}
		t.Logf("round %d: killed after %d flushes", round, flushes)
		check(false)
		if round > kills+3 {
			t.Fatal("child never finished")
		}
	}
}

// TestCrashSafetyLive kills a writing process with SIGKILL several times:
// after each kill every stored result must be complete and unique, and the
// resumed runs must store every line exactly once.
func TestCrashSafetyLive(t *testing.T) {
	n := 8000
	if testing.Short() {
		n = 2000
	}
	path := filepath.Join(t.TempDir(), "crash.duckdb")
	check := func(final bool) {
		ctx := context.Background()
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		sc, err := s.LatestScan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		err = s.Results(ctx, sc.ID, func(r model.Result) error {
			if seen[r.Line] {
				return fmt.Errorf("line %d stored twice", r.Line)
			}
			seen[r.Line] = true
			if want := normalize(sampleResult(sc.ID, r.Line)); !reflect.DeepEqual(r, want) {
				return fmt.Errorf("line %d incomplete:\n got %+v\nwant %+v", r.Line, r, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var orphans int
		if err := s.DB().QueryRow(`SELECT count(*) FROM evidence e ANTI JOIN results r USING (rid)`).Scan(&orphans); err != nil {
			t.Fatal(err)
		}
		if orphans != 0 {
			t.Fatalf("%d evidence rows without a result", orphans)
		}
		t.Logf("store holds %d results (final %v)", len(seen), final)
		if final && (len(seen) != n || sc.State != ScanDone) {
			t.Fatalf("final: %d results, state %s; want %d, done", len(seen), sc.State, n)
		}
		if !final && sc.State != ScanRunning {
			t.Fatalf("killed scan state %s, want running", sc.State)
		}
	}
	runCrashRounds(t, "live", path, n, 3, 3, check)
}

// TestCrashSafetyWARC does the same for archive page batches: every record
// is stored exactly once, and each checkpoint covers exactly the pages
// stored for its source.
func TestCrashSafetyWARC(t *testing.T) {
	n := 1200
	if testing.Short() {
		n = 400
	}
	path := filepath.Join(t.TempDir(), "crash-warc.duckdb")
	check := func(final bool) {
		ctx := context.Background()
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		sc, err := s.LatestScan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cps, err := s.Checkpoints(ctx, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.DB().Query(`SELECT source, count(*), count(DISTINCT ref), max(ref) FROM pages WHERE scan_id = ? GROUP BY source`, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for rows.Next() {
			var source, maxRef string
			var pages, refs int64
			if err := rows.Scan(&source, &pages, &refs, &maxRef); err != nil {
				t.Fatal(err)
			}
			cp := cps[source]
			if pages != refs || pages != cp.NextOffset/10 || cp.Pages != pages || cp.Counters["records"] != pages {
				t.Fatalf("source %s: %d pages, %d distinct, checkpoint %+v", source, pages, refs, cp)
			}
			total += int(pages)
		}
		rows.Close()
		t.Logf("store holds %d pages (final %v)", total, final)
		if !final {
			return
		}
		var results, pageSum int
		if err := s.DB().QueryRow(`SELECT count(*), sum(pages) FROM results WHERE scan_id = ?`, sc.ID).Scan(&results, &pageSum); err != nil {
			t.Fatal(err)
		}
		if total != crashSources*n || results != crashTargets || pageSum != total || sc.State != ScanDone || sc.ArchivesRead != crashSources {
			t.Fatalf("final: %d pages, %d results (pages %d), scan %+v", total, results, pageSum, sc)
		}
	}
	runCrashRounds(t, "warc", path, n, 3, 2, check)
}
