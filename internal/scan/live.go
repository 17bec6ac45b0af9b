package scan

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/dns"
	"github.com/aicensus/aicensus/internal/fetch"
	"github.com/aicensus/aicensus/internal/input"
	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/pipeline"
	"github.com/aicensus/aicensus/internal/probe"
	"github.com/aicensus/aicensus/internal/progress"
	"github.com/aicensus/aicensus/internal/render"
	"github.com/aicensus/aicensus/internal/store"
)

// LiveConfig configures a live scan.
type LiveConfig struct {
	// Input is the domain list path, or "-" for Stdin.
	Input        string
	Stdin        io.Reader
	InputOptions input.Options
	// DB is the store path; DBMemory caps DuckDB's buffer memory
	// (default DefaultDBMemory) so a scan's footprint stays bounded.
	DB       string
	DBMemory string
	// Detector is the compiled catalog.
	Detector *detect.Detector
	// Fetch and DNS configure the probes (fetch.Options.Resolver and
	// ScriptLister are set by Live).
	Fetch fetch.Options
	DNS   dns.Config
	// Probe holds the politeness limits applied before each site.
	Probe probe.Options
	// Render, when set, also loads every page that answered in headless
	// Chromium (internal/render); its Resolver, Allow, AllowPrivate and
	// PortMap are taken from the scan's DNS and fetch settings.
	Render *render.Options
	// Wrap, when set, wraps the prober.
	Wrap func(pipeline.Prober) pipeline.Prober
	// FetchWorkers and DetectWorkers size the pools (0: defaults).
	FetchWorkers, DetectWorkers int
	// Resume requires an unfinished scan of the same input and options to
	// continue; without it such a scan is continued when found, and a new
	// scan is started otherwise.
	Resume bool
	// JSON, when set, receives every result as a JSON line too.
	JSON io.Writer
	// Progress is where the progress bar is drawn (a terminal), nil for
	// periodic log lines instead.
	Progress io.Writer
	Log      *slog.Logger
	// ToolVersion is recorded with the scan.
	ToolVersion string
	// Options is recorded with the scan (the command line's options).
	Options any
}

// Summary is what a scan did.
type Summary struct {
	ScanID   int64
	Resumed  bool
	Read     int
	Skipped  int
	Written  int
	Statuses map[model.Status]int64
	Input    input.Stats
	Elapsed  time.Duration
}

// DefaultDBMemory is DuckDB's buffer memory cap during a scan: writes are
// appends, so a small buffer suffices and the whole scan stays within a few
// hundred MB whatever the input size.
const DefaultDBMemory = "256MB"

// ErrNothingToResume is returned by Live with Resume set when no
// unfinished scan matches.
var ErrNothingToResume = errors.New("scan: no unfinished scan of this input and these options to resume")

// Live runs a live scan to completion, or until ctx ends (then the scan is
// marked interrupted and running the same scan again continues it).
func Live(ctx context.Context, cfg LiveConfig) (Summary, error) {
	start := time.Now()
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	rec, err := LiveRecord(cfg)
	if err != nil {
		return Summary{}, err
	}
	st, err := OpenStore(ctx, cfg.DB, cfg.DBMemory)
	if err != nil {
		return Summary{}, err
	}
	defer st.Close()

	sum := Summary{}
	sc, resumed, err := OpenRecord(ctx, st, rec)
	if err != nil {
		return sum, err
	}
	sum.Resumed = resumed
	sum.ScanID = sc.ID
	var done *store.LineSet
	if sum.Resumed {
		if done, err = st.StoredLines(ctx, sc.ID); err != nil {
			return sum, err
		}
		log.Info("resuming scan", "scan", sc.ID, "stored", done.Len())
	} else {
		log.Info("scan started", "scan", sc.ID, "input", cfg.Input)
	}

	sp, err := NewStaticProber(cfg.Detector, cfg.DNS, cfg.Fetch, cfg.Probe)
	if err != nil {
		return sum, err
	}
	defer sp.Close()
	res, fo := sp.Resolver, sp.Fetch
	var prober pipeline.Prober = sp
	if cfg.Render != nil {
		ro := *cfg.Render
		ro.Resolver, ro.AllowPrivate, ro.Allow, ro.PortMap = res, fo.AllowPrivate, fo.Allow, fo.PortMap
		if ro.Probe == nil {
			ro.Probe = render.NewProbe(cfg.Detector.Catalog())
		}
		pool, err := render.NewPool(ctx, ro)
		if err != nil {
			return sum, err
		}
		defer pool.Close()
		prober = render.NewProber(prober, pool)
	}
	if cfg.Wrap != nil {
		prober = cfg.Wrap(prober)
	}

	in, err := openInput(cfg)
	if err != nil {
		return sum, err
	}
	defer in.Close()
	total := int64(-1)
	if rec.Fingerprint != "" {
		total = countLines(cfg.Input)
	}
	rep := progress.New(cfg.Progress, total, cfg.Progress != nil, 10*time.Second, log)
	w, err := st.NewWriter(store.WriterOptions{})
	if err != nil {
		return sum, err
	}
	sink := &liveSink{w: w, rep: rep, json: cfg.JSON}
	var skip func(int) bool
	if done != nil {
		skip = func(line int) bool {
			if done.Has(line) {
				rep.AddSkipped(1)
				return true
			}
			return false
		}
	}
	stats, runErr := pipeline.RunLive(ctx, pipeline.LiveOptions{
		ScanID: sc.ID, FetchWorkers: cfg.FetchWorkers, DetectWorkers: cfg.DetectWorkers, Skip: skip,
	}, &inputSource{r: in}, prober, cfg.Detector, sink)
	closeErr := w.Close()
	rep.Close()
	sum.Read, sum.Skipped, sum.Written = stats.Read, stats.Skipped, stats.Written
	sum.Input = in.Stats()
	sum.Elapsed = time.Since(start)
	// Bookkeeping must happen even when ctx was cancelled.
	bctx := context.WithoutCancel(ctx)
	_ = st.AddScanCounters(bctx, sc.ID, map[string]int64{
		"input_lines": int64(sum.Input.Lines), "input_invalid": int64(sum.Input.Invalid),
		"input_duplicates": int64(sum.Input.Duplicates),
	})
	if counts, err := st.StatusCounts(bctx, sc.ID); err == nil {
		sum.Statuses = counts
	}
	state := store.ScanDone
	if runErr != nil || closeErr != nil {
		state = store.ScanInterrupted
	}
	if err := st.SetScanState(bctx, sc.ID, state); err != nil && runErr == nil {
		runErr = err
	}
	if runErr == nil {
		runErr = closeErr
	}
	return sum, runErr
}

func openInput(cfg LiveConfig) (*input.Reader, error) {
	if cfg.Input == "-" {
		stdin := cfg.Stdin
		if stdin == nil {
			stdin = os.Stdin
		}
		return input.NewReader(stdin, cfg.InputOptions)
	}
	return input.Open(cfg.Input, cfg.InputOptions)
}

// countLines counts input lines for the progress total (-1 on error).
func countLines(path string) int64 {
	r, err := input.Open(path, input.Options{KeepDuplicates: true})
	if err != nil {
		return -1
	}
	defer r.Close()
	var n int64
	for {
		_, err := r.Next()
		if err != nil {
			break
		}
		n++
	}
	return n
}

// inputSource adapts an input.Reader to pipeline.Source.
type inputSource struct{ r *input.Reader }

func (s *inputSource) Next() (pipeline.Item, error) {
	it, err := s.r.Next()
	if err != nil {
		return pipeline.Item{}, err
	}
	return pipeline.Item{Line: it.Line, Raw: it.Raw, Host: it.Target.Host, Domain: it.Target.Domain, Err: it.Err}, nil
}

// liveSink writes results to the store, the progress reporter and
// optionally JSON Lines.
type liveSink struct {
	w    *store.Writer
	rep  *progress.Reporter
	json io.Writer
	enc  *json.Encoder
	mu   sync.Mutex
}

func (s *liveSink) Write(ctx context.Context, r model.Result) error {
	if err := s.w.Write(ctx, r); err != nil {
		return err
	}
	s.rep.Add(r.Status)
	if s.json != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.enc == nil {
			s.enc = json.NewEncoder(s.json)
			s.enc.SetEscapeHTML(false)
		}
		return s.enc.Encode(r)
	}
	return nil
}
