package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/store"
)

// The Parquet layout of results: one row per result with the fields and
// names of model.Result's JSON (the shape of `aicensus export --format
// parquet`), detections and their evidence nested.
type parquetResult struct {
	ScanID     int64              `parquet:"scan_id"`
	Target     string             `parquet:"target,dict"`
	Input      string             `parquet:"input,optional"`
	Line       int64              `parquet:"line,optional"`
	Domain     string             `parquet:"domain,optional"`
	Status     string             `parquet:"status,dict"`
	Error      string             `parquet:"error,optional"`
	URL        string             `parquet:"url,optional"`
	HTTPStatus int32              `parquet:"http_status,optional"`
	Redirects  []string           `parquet:"redirects,list"`
	Pages      int32              `parquet:"pages,optional"`
	FirstSeen  *time.Time         `parquet:"first_seen,optional,timestamp(microsecond)"`
	LastSeen   *time.Time         `parquet:"last_seen,optional,timestamp(microsecond)"`
	Time       *time.Time         `parquet:"time,optional,timestamp(microsecond)"`
	DurationMS int64              `parquet:"duration_ms,optional"`
	DNS        []parquetDNS       `parquet:"dns,list"`
	Detections []parquetDetection `parquet:"detections,list"`
}

type parquetDNS struct {
	Name  string `parquet:"name"`
	Type  string `parquet:"type"`
	Value string `parquet:"value"`
}

type parquetDetection struct {
	Technology    string            `parquet:"technology"`
	Version       string            `parquet:"version"`
	Categories    []string          `parquet:"categories,list"`
	OpenSource    bool              `parquet:"open_source"`
	License       string            `parquet:"license"`
	AI            bool              `parquet:"ai"`
	Confidence    int32             `parquet:"confidence"`
	EvidenceClass string            `parquet:"evidence_class"`
	Evidence      []parquetEvidence `parquet:"evidence,list"`
}

type parquetEvidence struct {
	Signal        string `parquet:"signal"`
	Pattern       string `parquet:"pattern"`
	Match         string `parquet:"match"`
	Location      string `parquet:"location"`
	EvidenceClass string `parquet:"evidence_class"`
	Via           string `parquet:"via"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func timeOf(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

func toParquet(r *model.Result) parquetResult {
	p := parquetResult{
		ScanID: r.ScanID, Target: r.Target, Input: r.Input, Line: int64(r.Line), Domain: r.Domain,
		Status: string(r.Status), Error: r.Error, URL: r.URL, HTTPStatus: int32(r.HTTPStatus),
		Redirects: r.Redirects, Pages: int32(r.Pages), FirstSeen: timePtr(r.FirstSeen), LastSeen: timePtr(r.LastSeen),
		Time: timePtr(r.Time), DurationMS: r.DurationMS,
	}
	for _, d := range r.DNS {
		p.DNS = append(p.DNS, parquetDNS(d))
	}
	for _, d := range r.Detections {
		pd := parquetDetection{
			Technology: d.Technology, Version: d.Version, Categories: d.Categories, OpenSource: d.OpenSource,
			License: d.License, AI: d.AI, Confidence: int32(d.Confidence), EvidenceClass: string(d.EvidenceClass),
		}
		for _, e := range d.Evidence {
			pd.Evidence = append(pd.Evidence, parquetEvidence{Signal: e.Signal, Pattern: e.Pattern, Match: e.Match,
				Location: e.Location, EvidenceClass: string(e.Class), Via: e.Via})
		}
		p.Detections = append(p.Detections, pd)
	}
	return p
}

func fromParquet(p *parquetResult) model.Result {
	r := model.Result{
		ScanID: p.ScanID, Target: p.Target, Input: p.Input, Line: int(p.Line), Domain: p.Domain,
		Status: model.Status(p.Status), Error: p.Error, URL: p.URL, HTTPStatus: int(p.HTTPStatus),
		Redirects: p.Redirects, Pages: int(p.Pages), FirstSeen: timeOf(p.FirstSeen), LastSeen: timeOf(p.LastSeen),
		Time: timeOf(p.Time), DurationMS: p.DurationMS, Detections: []model.Detection{},
	}
	for _, d := range p.DNS {
		r.DNS = append(r.DNS, model.DNSRecord(d))
	}
	for _, pd := range p.Detections {
		d := model.Detection{
			Technology: pd.Technology, Version: pd.Version, Categories: pd.Categories, OpenSource: pd.OpenSource,
			License: pd.License, AI: pd.AI, Confidence: int(pd.Confidence), EvidenceClass: model.EvidenceClass(pd.EvidenceClass),
			Evidence: []model.Evidence{},
		}
		for _, e := range pd.Evidence {
			d.Evidence = append(d.Evidence, model.Evidence{Signal: e.Signal, Pattern: e.Pattern, Match: e.Match,
				Location: e.Location, Class: model.EvidenceClass(e.EvidenceClass), Via: e.Via})
		}
		r.Detections = append(r.Detections, d)
	}
	return r
}

// writeParquet writes results to path atomically: a temporary file in the
// same folder, synced, then renamed, then the folder synced. A reader (or a
// collector restarting after a crash) sees the whole file or nothing.
func writeParquet(path string, rs []model.Result) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("parquet %s: %w", path, err)
	}
	rows := make([]parquetResult, len(rs))
	for i := range rs {
		rows[i] = toParquet(&rs[i])
	}
	w := parquet.NewGenericWriter[parquetResult](f, parquet.Compression(&parquet.Zstd))
	_, err = w.Write(rows)
	if err == nil {
		err = w.Close()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("parquet %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// readParquet calls fn with every result of one file.
func readParquet(path string, fn func(model.Result) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("parquet %s: %w", path, err)
	}
	defer f.Close()
	r := parquet.NewGenericReader[parquetResult](f)
	defer r.Close()
	buf := make([]parquetResult, 256)
	for {
		n, err := r.Read(buf)
		for i := range n {
			if ferr := fn(fromParquet(&buf[i])); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("parquet %s: %w", path, err)
		}
	}
}

// parquetFiles lists a scan's committed files in a folder, in name order.
func parquetFiles(dir string, scanID int64) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, fmt.Sprintf("scan%d-*.parquet", scanID)))
	sort.Strings(files)
	return files, err
}

// parquetOutput is the collector's output for very large runs: every
// commit (see ParquetRows) becomes one Parquet file named
// scan<ID>-<start>-<seq>.parquet; DuckDB reads the folder as one table.
type parquetOutput struct {
	dir    string
	st     *store.Store
	scanID int64
	run    string // distinguishes collector runs
	seq    int
	buf    []model.Result
}

func newParquetOutput(st *store.Store, dir string, scanID int64) (*parquetOutput, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("parquet folder: %w", err)
	}
	return &parquetOutput{dir: dir, st: st, scanID: scanID, run: fmt.Sprintf("%x", time.Now().UnixNano())}, nil
}

// handled removes temporary files a crashed collector left and reads the
// lines of every committed file (through DuckDB, which reads only the line
// column).
func (o *parquetOutput) handled(ctx context.Context) (*store.LineSet, error) {
	tmps, _ := filepath.Glob(filepath.Join(o.dir, "*.parquet.tmp"))
	for _, t := range tmps {
		os.Remove(t)
	}
	set := &store.LineSet{}
	files, err := parquetFiles(o.dir, o.scanID)
	if err != nil || len(files) == 0 {
		return set, err
	}
	rows, err := o.st.DB().QueryContext(ctx, `SELECT line FROM read_parquet(?::VARCHAR[]) WHERE line IS NOT NULL`, files)
	if err != nil {
		return nil, fmt.Errorf("parquet folder %s: %w", o.dir, err)
	}
	defer rows.Close()
	for rows.Next() {
		var line int
		if err := rows.Scan(&line); err != nil {
			return nil, fmt.Errorf("parquet folder %s: %w", o.dir, err)
		}
		set.Add(line)
	}
	return set, rows.Err()
}

func (o *parquetOutput) write(_ context.Context, rs []model.Result) error {
	o.buf = append(o.buf, rs...)
	return nil
}

func (o *parquetOutput) commit(context.Context) error {
	if len(o.buf) == 0 {
		return nil
	}
	o.seq++
	name := fmt.Sprintf("scan%d-%s-%06d.parquet", o.scanID, o.run, o.seq)
	if err := writeParquet(filepath.Join(o.dir, name), o.buf); err != nil {
		return err
	}
	clear(o.buf)
	o.buf = o.buf[:0]
	return nil
}

func (o *parquetOutput) close() error { return nil }

// Parquet files are committed at ParquetRows results or after ParquetAge,
// whichever comes first, so that a long scan makes a few thousand files,
// not one per unit.
const (
	ParquetRows = 20000
	ParquetAge  = 20 * time.Second
)

func (o *parquetOutput) due(n int, age time.Duration) bool {
	return n >= ParquetRows || age >= ParquetAge
}

// ImportParquet writes the results of scan scanID found in a Parquet folder
// written by a collector into st's scan target (results keep their lines;
// ScanID is set to target). It goes through store.Writer, so importing
// twice stores every target once. It returns how many results were read.
func ImportParquet(ctx context.Context, st *store.Store, dir string, scanID, target int64) (int, error) {
	files, err := parquetFiles(dir, scanID)
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("import %s: no files scan%d-*.parquet", dir, scanID)
	}
	w, err := st.NewWriter(store.WriterOptions{BatchSize: 10000})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range files {
		err = readParquet(f, func(r model.Result) error {
			r.ScanID = target
			n++
			return w.Write(ctx, r)
		})
		if err != nil {
			break
		}
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// ParquetScans lists the scan ids that have files in a Parquet folder.
func ParquetScans(dir string) ([]int64, error) {
	files, err := filepath.Glob(filepath.Join(dir, "scan*-*.parquet"))
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	var out []int64
	for _, f := range files {
		var id int64
		name := strings.TrimPrefix(filepath.Base(f), "scan")
		if _, err := fmt.Sscanf(name, "%d-", &id); err == nil && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}
