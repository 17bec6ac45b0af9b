package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/store"
)

// Options choose what Build reports. The zero value reports the latest scan,
// AI technologies only, without comparison or universe estimate.
type Options struct {
	// ScanID is the scan to report; 0 means the latest.
	ScanID int64
	// AllTechnologies lists non-AI technologies in the per-technology table
	// too (the open/closed and company sections are always AI only).
	AllTechnologies bool
	// Compare, when both are set, adds the adopters gained and lost per
	// technology from scan CompareBefore to scan CompareAfter.
	CompareBefore, CompareAfter int64
	// Universe, when > 0, is the size of the list the scan is a uniform
	// random sample of; the report then estimates totals for it.
	Universe int64
	// Filter restricts the detections (and, for Size, the domains) counted.
	Filter Filter
}

// Filter restricts what a report counts. The zero value counts everything.
type Filter struct {
	// Category keeps detections of technologies in this catalog category.
	Category string `json:"category,omitempty"`
	// Open keeps open-source ("open") or closed ("closed") technologies;
	// "" keeps both.
	Open string `json:"open,omitempty"`
	// Evidence keeps detections with evidence of this class
	// (model.EvidenceClass value), or "running" for detections with
	// running evidence (model.Detection.Running).
	Evidence string `json:"evidence,omitempty"`
	// Size keeps domains whose company is in this size bucket
	// (store.SizeBuckets label); it restricts the denominator too.
	Size string `json:"size,omitempty"`
	// Technology keeps one technology (used by per-technology pages).
	Technology string `json:"technology,omitempty"`
}

// EvidenceRunning is the Filter.Evidence value for running deployments.
const EvidenceRunning = "running"

// Errors of Build and Domains; test with errors.Is. A missing scan wraps
// store.ErrNotFound.
var (
	// ErrBadFilter means a Filter value is not one the report knows.
	ErrBadFilter = errors.New("bad filter")
	// ErrBadOption means an Options value cannot be used (a universe
	// smaller than the sample, a comparison without two scans).
	ErrBadOption = errors.New("bad report option")
)

// Validate checks the filter's values.
func (f Filter) Validate() error {
	switch f.Open {
	case "", "open", "closed":
	default:
		return fmt.Errorf("%w: open must be open or closed, not %q", ErrBadFilter, f.Open)
	}
	if f.Evidence != "" && f.Evidence != EvidenceRunning && !model.EvidenceClass(f.Evidence).Valid() {
		return fmt.Errorf("%w: unknown evidence class %q", ErrBadFilter, f.Evidence)
	}
	if _, ok := store.LookupBucket(f.Size); f.Size != "" && !ok {
		return fmt.Errorf("%w: unknown size bucket %q", ErrBadFilter, f.Size)
	}
	return nil
}

// IsZero reports whether the filter counts everything.
func (f Filter) IsZero() bool { return f == Filter{} }

// Report is everything a report says about one scan. It is a plain value:
// every format and the web dashboard render it; its JSON form is the output
// of `aicensus report --format json` and of the dashboard's /api/report.
type Report struct {
	Scan       ScanInfo   `json:"scan"`
	Filter     Filter     `json:"filter"`
	Population Population `json:"population"`
	// Summary is a few sentences built from the numbers below.
	Summary []string `json:"summary"`
	// Technologies lists AI technologies (all technologies with
	// Options.AllTechnologies) by domains, most first.
	Technologies []TechRow  `json:"technologies"`
	AllTechs     bool       `json:"all_technologies"`
	OpenClosed   OpenClosed `json:"open_vs_closed"`
	Companies    Companies  `json:"companies"`
	Compare      *Compare   `json:"compare,omitempty"`
	Universe     *Universe  `json:"universe,omitempty"`
	// Supply holds the latest supply-metrics run of each command when the
	// store file has supply_* tables (see supply.go).
	Supply []SupplyRun `json:"supply,omitempty"`
	// Method lists the definitions the numbers follow.
	Method []Definition `json:"method"`
}

// ScanInfo describes the reported scan.
type ScanInfo struct {
	ID             int64            `json:"id"`
	Kind           string           `json:"kind"`
	State          string           `json:"state"`
	StartedAt      time.Time        `json:"started_at"`
	FinishedAt     time.Time        `json:"finished_at,omitzero"`
	Input          string           `json:"input"`
	CatalogVersion string           `json:"catalog_version,omitempty"`
	ToolVersion    string           `json:"tool_version,omitempty"`
	ArchivesRead   int64            `json:"archives_read,omitempty"`
	Counters       map[string]int64 `json:"counters,omitempty"`
	Results        int64            `json:"results"` // stored results (targets)
	ByStatus       []StatusCount    `json:"by_status"`
}

// StatusCount is the number of results with one status.
type StatusCount struct {
	Status  string `json:"status"`
	Results int64  `json:"results"`
}

// Population holds the denominators.
type Population struct {
	// OKDomains is the denominator of every share: distinct registrable
	// domains with at least one result of status ok (restricted to a
	// company size with Filter.Size).
	OKDomains int64 `json:"ok_domains"`
	// Domains is the number of distinct domains in the scan, any status
	// (invalid input has no domain and is not counted).
	Domains int64 `json:"domains"`
	// AI counts OK domains with any (selected) AI detection; AIRunning
	// those with running evidence.
	AI        Proportion `json:"ai"`
	AIRunning Proportion `json:"ai_running"`
	// ExcludedAIDomains counts domains with AI detections only on results
	// that are not ok (DNS-only hosts, error pages): they are in no count.
	ExcludedAIDomains int64 `json:"excluded_ai_domains"`
}

// TechRow is one technology's adoption.
type TechRow struct {
	Technology string   `json:"technology"`
	Categories []string `json:"categories"`
	OpenSource bool     `json:"open_source"`
	License    string   `json:"license,omitempty"`
	AI         bool     `json:"ai"`
	// Domains counts OK domains with any evidence of it; Share is
	// Domains / Population.OKDomains.
	Domains int64      `json:"domains"`
	Share   Proportion `json:"share"`
	// Running counts OK domains with running evidence.
	Running      int64      `json:"running"`
	RunningShare Proportion `json:"running_share"`
	// ByClass splits Domains by the strongest evidence class seen for the
	// domain (it sums to Domains), strongest class first.
	ByClass []ClassCount `json:"by_class"`
	// Versions lists the versions seen, by domains, most first; "" is
	// "no version seen". A domain with two versions counts for both.
	Versions []VersionCount `json:"versions"`
}

// ClassCount is the number of domains whose strongest evidence has a class.
type ClassCount struct {
	Class   string `json:"class"`
	Domains int64  `json:"domains"`
}

// VersionCount is the number of domains where a version was seen.
type VersionCount struct {
	Version string `json:"version"`
	Domains int64  `json:"domains"`
}

// Class returns the count of one class (0 when absent).
func (t TechRow) Class(c model.EvidenceClass) int64 {
	for _, x := range t.ByClass {
		if x.Class == string(c) {
			return x.Domains
		}
	}
	return 0
}

// Build computes the report for one scan of s. Aggregations run in DuckDB;
// memory is DuckDB's (bounded by the store's MemoryLimit) plus the small
// result rows.
func Build(ctx context.Context, s *store.Store, opts Options) (*Report, error) {
	if err := opts.Filter.Validate(); err != nil {
		return nil, err
	}
	if opts.Universe < 0 {
		return nil, fmt.Errorf("report: %w: universe %d must be positive", ErrBadOption, opts.Universe)
	}
	sc, err := pickScan(ctx, s, opts.ScanID)
	if err != nil {
		return nil, err
	}
	q := &querier{db: s.DB(), scan: sc.ID, f: opts.Filter}
	r := &Report{Filter: opts.Filter, AllTechs: opts.AllTechnologies}
	if r.Scan, err = scanInfo(ctx, s, sc); err != nil {
		return nil, err
	}
	steps := []func(context.Context, *Report) error{
		q.population,
		func(ctx context.Context, r *Report) error { return q.technologies(ctx, r, opts.AllTechnologies) },
		q.openClosed,
		q.companies,
	}
	if opts.CompareBefore > 0 || opts.CompareAfter > 0 {
		steps = append(steps, func(ctx context.Context, r *Report) error {
			return q.compare(ctx, r, opts.CompareBefore, opts.CompareAfter)
		})
	}
	if opts.Universe > 0 {
		steps = append(steps, func(ctx context.Context, r *Report) error { return q.universe(ctx, r, opts.Universe) })
	}
	steps = append(steps, q.supply)
	for _, step := range steps {
		if err := step(ctx, r); err != nil {
			return nil, fmt.Errorf("report scan %d: %w", sc.ID, err)
		}
	}
	r.Summary = summary(r)
	r.Method = method(r)
	return r, nil
}

// pickScan returns the scan with id, or the latest when id is 0.
func pickScan(ctx context.Context, s *store.Store, id int64) (store.Scan, error) {
	if id == 0 {
		sc, err := s.LatestScan(ctx)
		if errors.Is(err, store.ErrNotFound) {
			return sc, fmt.Errorf("report: the store has no scans: %w", err)
		}
		return sc, err
	}
	sc, err := s.Scan(ctx, id)
	if err != nil {
		return sc, fmt.Errorf("report: scan %d: %w", id, err)
	}
	return sc, nil
}

func scanInfo(ctx context.Context, s *store.Store, sc store.Scan) (ScanInfo, error) {
	info := ScanInfo{ID: sc.ID, Kind: sc.Kind, State: string(sc.State), StartedAt: sc.StartedAt, FinishedAt: sc.FinishedAt,
		Input: sc.Input, CatalogVersion: sc.CatalogVersion, ToolVersion: sc.ToolVersion, ArchivesRead: sc.ArchivesRead,
		ByStatus: []StatusCount{}}
	if len(sc.Counters) > 0 {
		info.Counters = sc.Counters
	}
	counts, err := s.StatusCounts(ctx, sc.ID)
	if err != nil {
		return info, fmt.Errorf("report scan %d: %w", sc.ID, err)
	}
	for _, st := range model.Statuses() {
		if n := counts[st]; n > 0 {
			info.ByStatus = append(info.ByStatus, StatusCount{string(st), n})
			info.Results += n
		}
	}
	return info, nil
}
