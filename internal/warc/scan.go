package warc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/aicensus/aicensus/internal/model"
)

// ScanOptions configure Scan. The zero value reads with default Options,
// GOMAXPROCS files at a time and GOMAXPROCS workers.
type ScanOptions struct {
	Options
	// Files is how many sources are read at the same time, each by its own
	// reader goroutine, which also decodes and handles most of its records
	// (see Scan). Default GOMAXPROCS.
	Files int
	// Workers is how many goroutines inflate and parse the pieces of gzip
	// input, and decode and handle the records, that readers hand over
	// while fewer than Workers sources are being read. Default GOMAXPROCS.
	Workers int
	// Queue is how many records or pieces of gzip input may wait between
	// the readers and the workers. Default 8 × Workers. Memory is bounded
	// by (Files + Queue + Workers) × (MaxRecordBytes + MaxBodyBytes) plus
	// 4 MiB of input buffer per file read at once, whatever the archive
	// size; typical use is far below.
	Queue int
	// NoSplit turns off splitting gzip input between workers (see
	// Scan); each source is then inflated by its reader goroutine.
	NoSplit bool
	// Start returns the offset to start a source at (0 for the start), as
	// an earlier run's Commit reported it. Nil starts every source at 0.
	Start func(Source) int64
	// Commit, if set, is called when every record of src before offset
	// has been handled: a crashed or interrupted scan can resume src at
	// offset without losing a record (records handled after the oldest
	// unfinished one are handled again, so the handler's effects should
	// be idempotent per Record.Ref). It is called from worker and reader
	// goroutines, never concurrently for one source, with offsets
	// strictly increasing per source; it should return quickly. The last
	// call for a source read to its end carries the source's end offset.
	Commit func(src Source, offset int64)
	// SourceDone, if set, is called once per source after its last record
	// was handled (or when it could not be opened), with the source's
	// counts (reader and decoder problems together) and the error that
	// ended it: nil, a *Problem of KindOpenError or KindReadError. It is
	// not called for sources cut short by cancellation. It may be called
	// from several goroutines at once.
	SourceDone func(src Source, st Stats, err error)
}

// Item is what Scan hands to the handler for each record.
type Item struct {
	Source Source
	Record *Record
	// Observation is Decoder.Decode's result; nil for records that carry
	// nothing to detect on (request, revisit, metadata, ...) and for
	// records that could not be decoded.
	Observation *model.Observation
	// Problem is the decode problem, if any (already counted in Stats).
	Problem *Problem
}

// Scan reads sources in parallel and calls handle for every record, from
// up to Files + Workers goroutines at once; handle must be safe for
// concurrent use.
//
// Each source has a reader goroutine. While the workers have enough to do
// (always with one worker, or while as many sources as workers are being
// read), the reader inflates, decodes and handles records itself: the
// cheapest way in CPU, with every byte staying on one core. When the
// workers run short, a reader of gzip input cuts the compressed bytes into
// one-member pieces at exact member boundaries, without inflating (see
// piece.go), and the workers inflate, parse, decode and handle the
// pieces, so one big file keeps every core busy; records that cannot be
// cut apart (uncompressed input) are handed over whole. Records of one
// source reach handle in no particular order.
//
// Broken input is counted in the returned Stats and never stops the scan;
// a source that cannot be opened or read is reported through SourceDone
// and counted. Scan stops early and returns the error when handle returns
// one or ctx is cancelled. handle must not keep item.Record, its Block or
// the Observation's byte slices after it returns: they are recycled.
func Scan(ctx context.Context, sources []Source, opt ScanOptions, handle func(ctx context.Context, item *Item) error) (Stats, error) {
	procs := runtime.GOMAXPROCS(0)
	files, workers := opt.Files, opt.Workers
	if files <= 0 {
		files = procs
	}
	files = max(1, min(files, len(sources)))
	if workers <= 0 {
		workers = procs
	}
	queue := opt.Queue
	if queue <= 0 {
		queue = 8 * workers
	}

	s := &scan{opt: opt, handle: handle, jobs: make(chan job, queue), workers: workers, enoughJobs: max(1, queue*3/4)}
	s.opt.pool = new(blockPool)
	g, gctx := errgroup.WithContext(ctx)
	var readers sync.WaitGroup
	var next atomic.Int64
	for range files {
		readers.Add(1)
		g.Go(func() error {
			defer readers.Done()
			var r *Reader // reused from source to source: its buffer is large
			w := &worker{scan: s}
			for {
				i := int(next.Add(1)) - 1
				if i >= len(sources) {
					return nil
				}
				if err := s.read(gctx, sources[i], &r, w); err != nil {
					return err
				}
			}
		})
	}
	g.Go(func() error {
		readers.Wait()
		close(s.jobs)
		return nil
	})
	for range workers {
		g.Go(func() error { return s.work(gctx) })
	}
	err := g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total, err
}

type scan struct {
	opt     ScanOptions
	handle  func(context.Context, *Item) error
	jobs    chan job
	workers int
	reading atomic.Int32 // sources being read now
	// enoughJobs queued keep the workers busy while a reader reads and
	// handles a record itself.
	enoughJobs int

	mu    sync.Mutex
	total Stats
}

// job is one record, or one piece of gzip input, of a source.
type job struct {
	t     *tracker
	seq   int64
	rec   *Record
	piece *piece
}

// read reads one source with *rp (allocated on first use), and queues its
// pieces and records for the workers or handles records itself with w.
func (s *scan) read(ctx context.Context, src Source, rp **Reader, w *worker) error {
	var start int64
	if s.opt.Start != nil {
		start = s.opt.Start(src)
	}
	t := &tracker{scan: s, src: src, committed: start, readPos: start, end: -1}
	rc, err := src.Open(ctx, start, s.opt.Options)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var p *Problem
		if errors.As(err, &p) && s.opt.OnProblem != nil {
			s.opt.OnProblem(p)
		}
		t.stats.countProblem(KindOpenError, 1)
		t.finish(0, err)
		return nil
	}
	defer rc.Close()
	s.reading.Add(1)
	defer s.reading.Add(-1)
	r := *rp
	if r == nil {
		bufSize := splitBufSize
		if s.opt.NoSplit {
			bufSize = srcBufSize
		}
		r = newReader(rc, src.Name, start, s.opt.Options, bufSize)
		*rp = r
	} else {
		r.reset(rc, src.Name, start)
	}
	for {
		// While the workers have enough to do, the reader reads the next
		// record itself and handles it, on the core that inflated it:
		// splitting costs CPU (each member's start is inflated twice), and
		// a record handed over costs a wakeup and its bytes cross to
		// another core. Otherwise it cuts a piece for the workers, or
		// queues the record when the input cannot be split.
		here := s.enough()
		var p *piece
		var rec *Record
		if s.opt.NoSplit {
			rec, err = r.Next()
		} else {
			p, rec, err = r.nextPiece(here)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			t.mu.Lock()
			t.stats.Add(r.Stats())
			t.mu.Unlock()
			if err == io.EOF {
				t.finish(r.Offset(), nil)
			} else {
				t.finish(-1, err)
			}
			return nil
		}
		j := job{t: t, rec: rec, piece: p}
		if p != nil {
			j.seq = t.add(p.off, r.Offset())
		} else {
			j.seq = t.add(rec.Offset, r.Offset())
			if here {
				if err := w.do(ctx, j); err != nil {
					return err
				}
				continue
			}
		}
		select {
		case s.jobs <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// enough reports whether the workers have enough to do without the
// record or piece a reader is about to read: then the reader reads the
// next record itself and handles it. That is always so with one worker,
// and when as many sources are being read as there are workers (each
// reader keeps a core busy). Otherwise it is so while the queue is three
// quarters full: with less, the workers may run dry while the reader
// inflates and handles a large member (request records queue as pieces
// too, and cost nearly nothing).
func (s *scan) enough() bool {
	return s.workers < 2 || int(s.reading.Load()) >= s.workers || len(s.jobs) >= s.enoughJobs
}

// work processes queued jobs.
func (s *scan) work(ctx context.Context) error {
	w := worker{scan: s, pr: newReader(bytes.NewReader(nil), "", 0, s.opt.Options, srcBufSize)}
	for j := range s.jobs {
		if err := w.do(ctx, j); err != nil {
			return err
		}
	}
	return nil
}

// do handles one job and marks it done; it returns the handler's error, or
// ctx's once ctx has ended, so that the caller stops.
func (w *worker) do(ctx context.Context, j job) error {
	var err error
	if j.piece != nil {
		err = w.doPiece(ctx, j)
	} else {
		var st Stats
		if err = w.emit(ctx, j.t.src, j.rec, &st); err == nil {
			j.t.done(j.seq, st) // never past a record the handler failed on
		}
	}
	if err != nil {
		return err
	}
	return ctx.Err()
}

// worker is the state of a goroutine that handles records: a worker's, or
// a reader's (which handles only records, so has no pr).
type worker struct {
	scan *scan
	d    Decoder
	pr   *Reader // reads pieces
}

// emit decodes rec and hands it to the handler, counting a decode problem
// in st; then it recycles the block.
func (w *worker) emit(ctx context.Context, src Source, rec *Record, st *Stats) error {
	s := w.scan
	item := Item{Source: src, Record: rec}
	obs, err := w.d.Decode(rec)
	item.Observation = obs
	if err != nil {
		p := &Problem{Err: err}
		if !errors.As(err, &p) {
			p.Kind = KindDecodeError
		}
		item.Problem = p
		st.countProblem(p.Kind, 1)
		if s.opt.OnProblem != nil {
			s.opt.OnProblem(p)
		}
	}
	err = s.handle(ctx, &item)
	s.opt.pool.put(rec.Block)
	rec.Block = nil
	return err
}

// doPiece inflates, parses and handles one piece (see piece.go).
func (w *worker) doPiece(ctx context.Context, j job) error {
	recs, st := readPiece(w.pr, j.piece.data, j.t.src.Name, j.piece.off, j.piece.last)
	w.scan.opt.pool.put(j.piece.data) // the records hold copies
	for i, rec := range recs {
		if err := w.emit(ctx, j.t.src, rec, &st); err != nil {
			for _, r := range recs[i+1:] {
				w.scan.opt.pool.put(r.Block)
			}
			return err
		}
	}
	j.t.done(j.seq, st)
	return nil
}

// tracker follows one source's records and pieces through the workers, to
// report the resume offset (the start of the oldest one not yet handled)
// and the source's end.
type tracker struct {
	scan *scan
	src  Source

	mu        sync.Mutex
	pending   []pending // queued or being handled, in read order
	head      int64     // seq of pending[0]
	readPos   int64     // resume offset after the last record or piece read
	committed int64
	end       int64 // -1 until the reader finished
	err       error
	stats     Stats
}

type pending struct {
	off  int64
	done bool
}

func (t *tracker) add(off, next int64) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending = append(t.pending, pending{off: off})
	t.readPos = next
	return t.head + int64(len(t.pending)) - 1
}

// done marks one record or piece handled and adds its counts.
func (t *tracker) done(seq int64, st Stats) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stats.Add(st)
	t.pending[seq-t.head].done = true
	n := 0
	for n < len(t.pending) && t.pending[n].done {
		n++
	}
	if n > 0 {
		t.pending = append(t.pending[:0], t.pending[n:]...)
		t.head += int64(n)
	}
	t.advance()
}

// finish records how the reader ended: at offset end after a clean end;
// with end < 0 after a failure, so the resume point stays after the last
// record read whole.
func (t *tracker) finish(end int64, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if end < 0 {
		end = t.readPos
	}
	t.end, t.err = end, err
	t.advance()
}

// advance commits the new resume offset and, once the reader finished
// and nothing is pending, closes the source. Called with t.mu held.
func (t *tracker) advance() {
	w := t.readPos
	if len(t.pending) > 0 {
		w = t.pending[0].off
	} else if t.end >= 0 {
		w = t.end
	}
	if w > t.committed {
		t.committed = w
		if t.scan.opt.Commit != nil {
			t.scan.opt.Commit(t.src, w)
		}
	}
	if t.end >= 0 && len(t.pending) == 0 {
		t.end = -2 // closed
		t.stats.Sources = 1
		if t.scan.opt.SourceDone != nil {
			t.scan.opt.SourceDone(t.src, t.stats, t.err)
		}
		t.scan.mu.Lock()
		t.scan.total.Add(t.stats)
		t.scan.mu.Unlock()
	}
}
