package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

// WriterOptions tune a Writer. The zero value uses the defaults.
type WriterOptions struct {
	// BatchSize is how many records (results or pages) one transaction
	// holds at most. Default 1000.
	BatchSize int
	// MaxDelay is the longest an accepted record waits before its batch is
	// committed, i.e. at most this much work is redone after a crash.
	// Default 1s.
	MaxDelay time.Duration
	// QueueSize is how many Write calls are buffered before Write blocks.
	// Default 2*BatchSize.
	QueueSize int
}

func (o WriterOptions) withDefaults() WriterOptions {
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = time.Second
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 2 * o.BatchSize
	}
	return o
}

// WriterStats counts what a Writer did. Records are counted when committed.
type WriterStats struct {
	Results    int64 // results rows committed
	Detections int64 // detections rows committed (live results)
	Evidence   int64 // evidence rows committed (live results)
	Pages      int64 // pages rows committed (archive batches)
	Duplicates int64 // results dropped because (scan, target) was already stored
	Batches    int64 // transactions committed
}

// Writer stores results and archive page batches from many goroutines
// through one goroutine that commits them in batched transactions. Write,
// WritePages and Flush are safe for concurrent use. A commit failure is
// sticky: every later call returns it (the records of the failed batch are
// not stored; resume redoes them). The Writer's goroutine runs until Close.
type Writer struct {
	s    *Store
	opts WriterOptions
	conn *sql.Conn
	in   chan item
	done chan struct{}

	mu     sync.RWMutex // held shared by senders, exclusively by Close
	closed bool

	errMu sync.Mutex
	err   error

	stats struct{ results, detections, evidence, pages, duplicates, batches atomic.Int64 }

	// Owned by the goroutine.
	seed maphash.Seed
	seen map[int64]*hashSet // per scan: hashes of stored targets
}

type item struct {
	res   *model.Result
	pages *PageBatch
	flush chan error
}

// NewWriter starts the store's Writer. A Store has at most one open Writer
// (ErrWriterBusy otherwise); close it before opening another. The Writer is
// closed by Close or by Store.Close.
func (s *Store) NewWriter(opts WriterOptions) (*Writer, error) {
	if s.readOnly {
		return nil, fmt.Errorf("new writer: %w: store opened read-only", ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, fmt.Errorf("new writer: store %w", ErrClosed)
	case s.writer != nil:
		return nil, ErrWriterBusy
	}
	conn, err := s.db.Conn(context.Background())
	if err != nil {
		return nil, fmt.Errorf("new writer: %w", err)
	}
	opts = opts.withDefaults()
	w := &Writer{
		s: s, opts: opts, conn: conn,
		in:   make(chan item, opts.QueueSize),
		done: make(chan struct{}),
		seed: maphash.MakeSeed(),
		seen: map[int64]*hashSet{},
	}
	s.writer = w
	go w.run()
	return w, nil
}

// Write queues r for storage and returns once it is queued (not committed:
// use Flush or Close for that). Invalid UTF-8 in strings is stored with
// U+FFFD replacement characters. The Writer takes ownership of r's slices;
// do not modify them afterwards. r must have ScanID > 0, a non-empty Target
// and a valid Status; otherwise Write returns an error wrapping ErrInvalid
// and stores nothing. A result whose (ScanID, Target) is already stored is
// dropped (counted in WriterStats.Duplicates).
func (w *Writer) Write(ctx context.Context, r model.Result) error {
	r.Target = validUTF8(r.Target)
	if err := validateResult(&r); err != nil {
		return err
	}
	return w.send(ctx, item{res: &r})
}

// WritePages queues an archive page batch. Its pages and its checkpoint are
// committed in one transaction, so a checkpoint never covers lost pages.
// The Writer takes ownership of b's slices.
func (w *Writer) WritePages(ctx context.Context, b PageBatch) error {
	b.Source = validUTF8(b.Source)
	if err := validatePageBatch(&b); err != nil {
		return err
	}
	return w.send(ctx, item{pages: &b})
}

// Flush returns once everything queued before the call is committed, or
// with the Writer's error.
func (w *Writer) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	if err := w.send(ctx, item{flush: reply}); err != nil {
		return err
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close commits everything queued, stops the goroutine and releases the
// Writer's connection. It returns the Writer's error, if any. Later calls
// return the same error; Write after Close returns ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.in)
	}
	w.mu.Unlock()
	<-w.done
	w.s.mu.Lock()
	if w.s.writer == w {
		w.s.writer = nil
	}
	w.s.mu.Unlock()
	return w.failed()
}

// Stats returns the Writer's counters so far.
func (w *Writer) Stats() WriterStats {
	return WriterStats{
		Results: w.stats.results.Load(), Detections: w.stats.detections.Load(),
		Evidence: w.stats.evidence.Load(), Pages: w.stats.pages.Load(),
		Duplicates: w.stats.duplicates.Load(), Batches: w.stats.batches.Load(),
	}
}

func (w *Writer) send(ctx context.Context, it item) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return fmt.Errorf("store writer: %w", ErrClosed)
	}
	if err := w.failed(); err != nil {
		return err
	}
	select {
	case w.in <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *Writer) failed() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

func (w *Writer) fail(err error) {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	if w.err == nil {
		w.err = fmt.Errorf("store writer: %w", err)
	}
}

// run is the Writer's goroutine: it batches items and commits a batch when
// it is full, when MaxDelay has passed since its first item, on Flush and
// when the input is closed.
func (w *Writer) run() {
	defer close(w.done)
	defer w.conn.Close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	b := newBatch()
	commit := func() error {
		timer.Stop()
		if w.failed() != nil {
			b.reset()
			return w.failed()
		}
		if err := w.commit(b); err != nil {
			w.fail(err)
		}
		b.reset()
		return w.failed()
	}
	for {
		select {
		case it, ok := <-w.in:
			switch {
			case !ok:
				commit()
				return
			case it.flush != nil:
				it.flush <- commit()
				continue
			case w.failed() != nil:
				continue // drain: the batch is lost anyway
			}
			wasEmpty := b.records == 0
			if err := w.add(b, it); err != nil {
				w.fail(err)
				b.reset()
				continue
			}
			if wasEmpty && b.records > 0 {
				timer.Reset(w.opts.MaxDelay)
			}
			if b.records >= w.opts.BatchSize {
				commit()
			}
		case <-timer.C:
			commit()
		}
	}
}

// add puts an item into the batch, dropping results already stored or
// already in the batch. A result whose target hash is known is kept as a
// suspect and checked exactly against the table at commit.
func (w *Writer) add(b *batch, it item) error {
	if it.pages != nil {
		b.pages = append(b.pages, it.pages)
		b.records += max(1, len(it.pages.Pages))
		return nil
	}
	r := it.res
	key := scanTarget{r.ScanID, r.Target}
	if _, dup := b.pending[key]; dup {
		w.stats.duplicates.Add(1)
		return nil
	}
	seen, err := w.seenSet(r.ScanID)
	if err != nil {
		return err
	}
	suspect := seen.has(maphash.String(w.seed, r.Target))
	b.pending[key] = struct{}{}
	b.results = append(b.results, r)
	b.suspect = append(b.suspect, suspect)
	b.records++
	return nil
}

// seenSet returns the hashes of the targets stored for a scan, loading them
// from the table the first time the scan is written.
func (w *Writer) seenSet(scanID int64) (*hashSet, error) {
	if h, ok := w.seen[scanID]; ok {
		return h, nil
	}
	var hashes []uint64
	err := w.s.EachStoredTarget(context.Background(), scanID, func(target string, _ int) error {
		hashes = append(hashes, maphash.String(w.seed, target))
		return nil
	})
	if err != nil {
		return nil, err
	}
	h := newHashSet(hashes)
	w.seen[scanID] = h
	return h, nil
}

// commit stores a batch in one transaction.
func (w *Writer) commit(b *batch) error {
	if b.records == 0 {
		return nil
	}
	ctx := context.Background()
	if err := w.dropStored(ctx, b); err != nil {
		return err
	}
	rids, err := nextIDs(ctx, w.conn, "result_rid_seq", len(b.results))
	if err != nil {
		return err
	}
	var npages int
	for _, pb := range b.pages {
		npages += len(pb.Pages)
	}
	pids, err := nextIDs(ctx, w.conn, "page_pid_seq", npages)
	if err != nil {
		return err
	}
	var n rowCounts
	if err := w.inTx(ctx, func() error {
		var err error
		if n, err = appendBatch(w.conn, b, rids, pids); err != nil {
			return err
		}
		return upsertCheckpoints(ctx, w.conn, b.pages)
	}); err != nil {
		return err
	}
	for _, r := range b.results {
		w.seen[r.ScanID].add(maphash.String(w.seed, r.Target))
	}
	w.stats.results.Add(int64(len(b.results)))
	w.stats.detections.Add(n.detections)
	w.stats.evidence.Add(n.evidence)
	w.stats.pages.Add(int64(npages))
	w.stats.batches.Add(1)
	return nil
}

// inTx runs fn inside BEGIN/COMMIT on the Writer's connection, rolling
// back when fn fails.
func (w *Writer) inTx(ctx context.Context, fn func() error) error {
	if _, err := w.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(); err != nil {
		_, rerr := w.conn.ExecContext(ctx, "ROLLBACK")
		return errors.Join(err, rerr)
	}
	if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
		_, rerr := w.conn.ExecContext(ctx, "ROLLBACK")
		return errors.Join(fmt.Errorf("commit: %w", err), rerr)
	}
	return nil
}

// dropStored removes suspect results whose (scan, target) the table already
// holds: one query per scan in the batch, only when there are suspects.
func (w *Writer) dropStored(ctx context.Context, b *batch) error {
	byScan := map[int64][]string{}
	for i, r := range b.results {
		if b.suspect[i] {
			byScan[r.ScanID] = append(byScan[r.ScanID], r.Target)
		}
	}
	if len(byScan) == 0 {
		return nil
	}
	stored := map[scanTarget]bool{}
	for scanID, targets := range byScan {
		rows, err := w.conn.QueryContext(ctx, `SELECT target FROM results
			WHERE scan_id = ? AND target IN (SELECT unnest(?::VARCHAR[]))`, scanID, targets)
		if err != nil {
			return fmt.Errorf("check stored targets: %w", err)
		}
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return fmt.Errorf("check stored targets: %w", err)
			}
			stored[scanTarget{scanID, t}] = true
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("check stored targets: %w", err)
		}
	}
	kept := b.results[:0]
	for _, r := range b.results {
		if stored[scanTarget{r.ScanID, r.Target}] {
			w.stats.duplicates.Add(1)
			continue
		}
		kept = append(kept, r)
	}
	b.results = kept
	return nil
}

// nextIDs draws n values from a sequence. The Writer is normally its only
// user, so a draw is usually one consecutive range and comes back as one row
// (min, max); when another transaction drew at the same time, it draws again
// (gaps are harmless) and finally reads the values one by one.
func nextIDs(ctx context.Context, conn *sql.Conn, seq string, n int) ([]int64, error) {
	if n == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, n)
	for range 3 {
		var lo, hi int64
		err := conn.QueryRowContext(ctx, `SELECT min(v), max(v) FROM (SELECT nextval('`+seq+`') AS v FROM range(?))`, n).Scan(&lo, &hi)
		if err != nil {
			return nil, fmt.Errorf("allocate ids: %w", err)
		}
		if hi-lo+1 == int64(n) {
			for v := lo; v <= hi; v++ {
				ids = append(ids, v)
			}
			return ids, nil
		}
	}
	rows, err := conn.QueryContext(ctx, `SELECT nextval('`+seq+`') FROM range(?)`, n)
	if err != nil {
		return nil, fmt.Errorf("allocate ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("allocate ids: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("allocate ids: %w", err)
	}
	if len(ids) != n {
		return nil, fmt.Errorf("allocate ids: got %d of %d", len(ids), n)
	}
	return ids, nil
}

type scanTarget struct {
	scan   int64
	target string
}

// batch is what one transaction stores.
type batch struct {
	results []*model.Result
	suspect []bool // results[i]'s target hash was already seen
	pending map[scanTarget]struct{}
	pages   []*PageBatch
	records int
}

func newBatch() *batch { return &batch{pending: map[scanTarget]struct{}{}} }

func (b *batch) reset() {
	clear(b.results)
	b.results, b.suspect, b.pages = b.results[:0], b.suspect[:0], b.pages[:0]
	clear(b.pending)
	b.records = 0
}

func validateResult(r *model.Result) error {
	switch {
	case r.ScanID <= 0:
		return fmt.Errorf("result %q: %w: scan id %d", r.Target, ErrInvalid, r.ScanID)
	case r.Target == "":
		return fmt.Errorf("result (line %d): %w: empty target", r.Line, ErrInvalid)
	case !r.Status.Valid():
		return fmt.Errorf("result %q: %w: status %q", r.Target, ErrInvalid, r.Status)
	}
	return validateDetections(r.Target, r.Detections)
}

func validateDetections(target string, ds []model.Detection) error {
	for _, d := range ds {
		if d.Technology == "" {
			return fmt.Errorf("result %q: %w: detection without technology", target, ErrInvalid)
		}
	}
	return nil
}
