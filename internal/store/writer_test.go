package store

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// TestConcurrentWriters has many producers write overlapping targets while
// others call Flush; every target must be stored once and completely.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	sc := newScan(t, s, KindLive)
	w, err := s.NewWriter(WriterOptions{BatchSize: 37})
	if err != nil {
		t.Fatal(err)
	}
	const producers, perProducer = 8, 250
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for k := range perProducer {
				// Producer p writes lines p, p+8, ... and every 10th time
				// also its neighbour's line (a duplicate).
				line := 1 + p + k*producers
				if err := w.Write(ctx, sampleResult(sc.ID, line)); err != nil {
					t.Error(err)
					return
				}
				if k%10 == 0 {
					if err := w.Write(ctx, sampleResult(sc.ID, 1+(p+1)%producers+k*producers)); err != nil {
						t.Error(err)
						return
					}
				}
				if k%50 == 0 {
					if err := w.Flush(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	const total = producers * perProducer
	st := w.Stats()
	if st.Results != total || st.Duplicates != producers*perProducer/10 {
		t.Errorf("stats %+v, want %d results and %d duplicates", st, total, producers*perProducer/10)
	}
	got := collect(t, s, sc.ID)
	seen := map[int]bool{}
	for _, r := range got {
		if seen[r.Line] {
			t.Fatalf("line %d stored twice", r.Line)
		}
		seen[r.Line] = true
		if want := normalize(sampleResult(sc.ID, r.Line)); len(r.Detections) != len(want.Detections) {
			t.Fatalf("line %d: %d detections, want %d", r.Line, len(r.Detections), len(want.Detections))
		}
	}
	if len(seen) != total {
		t.Errorf("%d distinct lines stored, want %d", len(seen), total)
	}
}

func TestFlushCommits(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	sc := newScan(t, s, KindLive)
	// A long delay and large batch: only Flush makes the rows visible.
	w, err := s.NewWriter(WriterOptions{BatchSize: 100000, MaxDelay: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := 1; i <= 10; i++ {
		if err := w.Write(ctx, sampleResult(sc.ID, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM results`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 10 {
		t.Errorf("after Flush %d results visible, want 10", n)
	}
}

func TestWriteAfterClose(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	sc := newScan(t, s, KindLive)
	w, err := s.NewWriter(WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, sampleResult(sc.ID, 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // closes the writer, flushing it
		t.Fatal(err)
	}
	if err := w.Write(ctx, sampleResult(sc.ID, 2)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	s2, err := Open(ctx, s.Path(), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := collect(t, s2, sc.ID); len(got) != 1 {
		t.Errorf("%d results after Store.Close, want 1", len(got))
	}
}

// TestWriterErrorIsSticky drops a table under the Writer so a commit fails:
// the error must come back from Flush, Write and Close.
func TestWriterErrorIsSticky(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	sc := newScan(t, s, KindLive)
	w, err := s.NewWriter(WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`DROP TABLE evidence`); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, sampleResult(sc.ID, 7)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err == nil {
		t.Fatal("Flush succeeded without the evidence table")
	}
	if err := w.Write(ctx, sampleResult(sc.ID, 8)); err == nil {
		t.Error("Write after a failed commit succeeded")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed commit succeeded")
	}
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM results`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d results stored from a failed transaction", n)
	}
}

// TestNextIDsNotConsecutive uses a sequence that steps by 2, as if another
// transaction drew values in between: nextIDs must fall back to reading
// every value.
func TestNextIDsNotConsecutive(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE SEQUENCE step2 START 10 INCREMENT BY 2`); err != nil {
		t.Fatal(err)
	}
	ids, err := nextIDs(ctx, conn, "step2", 5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] || id%2 != 0 {
			t.Fatalf("ids %v", ids)
		}
		seen[id] = true
	}
	if len(ids) != 5 {
		t.Fatalf("ids %v", ids)
	}
	ids, err = nextIDs(ctx, conn, "result_rid_seq", 4)
	if err != nil || len(ids) != 4 || ids[3]-ids[0] != 3 {
		t.Fatalf("consecutive ids %v, %v", ids, err)
	}
}

func TestHashSet(t *testing.T) {
	h := newHashSet([]uint64{9, 3, 3, 7})
	want := map[uint64]bool{3: true, 7: true, 9: true}
	for x := uint64(0); x < 20000; x += 3 {
		h.add(x * 7919)
		want[x*7919] = true
	}
	for x := uint64(0); x < 200000; x++ {
		if h.has(x) != want[x] {
			t.Fatalf("has(%d) = %v", x, h.has(x))
		}
	}
	if h.len() != len(want) {
		t.Errorf("len %d, want %d", h.len(), len(want))
	}
	var zero hashSet
	zero.add(5)
	if !zero.has(5) || zero.has(6) {
		t.Error("zero value set")
	}
}
