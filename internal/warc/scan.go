package warc

import (
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
	// Files is how many sources are read at the same time (each by its
	// own goroutine, which also does that source's gzip decompression).
	// Default GOMAXPROCS.
	Files int
	// Workers is how many goroutines decode records (HTTP parsing,
	// chunked and content decoding, dns parsing) and call the handler.
	// Default GOMAXPROCS.
	Workers int
	// Queue is how many records may wait between the readers and the
	// workers. Default 4 × Workers. At most Files + Queue + Workers records
	// are in memory at once, each at most MaxRecordBytes (plus its decoded
	// body, at most MaxBodyBytes).
	Queue int
	// Start returns the offset to start a source at (0 for the start), as
	// an earlier run's Commit reported it. Nil starts every source at 0.
	Start func(Source) int64
	// Commit, if set, is called when every record of src before offset
	// has been handled: a crashed or interrupted scan can resume src at
	// offset without losing a record (records of one gzip member that
	// holds several are seen again). It is called from worker and reader
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
// Workers goroutines at once; handle must be safe for concurrent use. Each
// record is read by its source's reader goroutine (gzip decompression and
// WARC framing: cheap) and decoded by a worker (HTTP parsing and body
// decoding: the expensive part), so one big file also keeps several
// cores busy. Records of one source reach handle in no particular order.
//
// Broken input is counted in the returned Stats and never stops the scan;
// a source that cannot be opened or read is reported through SourceDone
// and counted. Scan stops early and returns the error when handle returns
// one or ctx is cancelled. handle must not keep item.Record or the
// Observation's byte slices after it returns.
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
		queue = 4 * workers
	}

	s := &scan{opt: opt, handle: handle, jobs: make(chan job, queue)}
	s.opt.pool = new(blockPool)
	g, gctx := errgroup.WithContext(ctx)
	var readers sync.WaitGroup
	var next atomic.Int64
	for range files {
		readers.Add(1)
		g.Go(func() error {
			defer readers.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(sources) {
					return nil
				}
				if err := s.read(gctx, sources[i]); err != nil {
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
	opt    ScanOptions
	handle func(context.Context, *Item) error
	jobs   chan job

	mu    sync.Mutex
	total Stats
}

type job struct {
	t   *tracker
	seq int64
	rec *Record
}

// read reads one source and queues its records.
func (s *scan) read(ctx context.Context, src Source) error {
	var start int64
	if s.opt.Start != nil {
		start = s.opt.Start(src)
	}
	t := &tracker{scan: s, src: src, committed: start, readPos: start, end: -1}
	r, err := Open(ctx, src, start, s.opt.Options)
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
	defer r.Close()
	for {
		rec, err := r.Next()
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
		seq := t.add(rec.Offset, r.Offset())
		select {
		case s.jobs <- job{t: t, seq: seq, rec: rec}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// work decodes queued records and hands them to the handler.
func (s *scan) work(ctx context.Context) error {
	var d Decoder
	for j := range s.jobs {
		item := Item{Source: j.t.src, Record: j.rec}
		obs, err := d.Decode(j.rec)
		item.Observation = obs
		if err != nil {
			p := &Problem{Err: err}
			if !errors.As(err, &p) {
				p.Kind = KindDecodeError
			}
			item.Problem = p
			if s.opt.OnProblem != nil {
				s.opt.OnProblem(p)
			}
		}
		if err := s.handle(ctx, &item); err != nil {
			return err
		}
		j.t.done(j.seq, item.Problem)
		s.opt.pool.put(j.rec.Block)
		j.rec.Block = nil
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// tracker follows one source's records through the workers, to report
// the resume offset (the start of the oldest record not yet handled) and
// the source's end.
type tracker struct {
	scan *scan
	src  Source

	mu        sync.Mutex
	pending   []pending // records queued or being handled, in read order
	head      int64     // seq of pending[0]
	readPos   int64     // resume offset after the last record read
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

func (t *tracker) done(seq int64, p *Problem) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p != nil {
		t.stats.countProblem(p.Kind, 1)
	}
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
