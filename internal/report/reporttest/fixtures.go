// Package reporttest builds stores from real detections for the tests of
// internal/report and internal/web: the test farm's pages (real pages from
// shared/corpus/html with real vendor snippets from shared/research/ai-embeds
// inserted) and the shared WARC archives go through internal/detect with the
// embedded catalog, and the Results are written through the store's Writer
// (archives through WritePages and FinalizeArchiveScan), as a scan would.
// Company sizes come from the real YC directory through companies.Import.
//
// Only tests import this package; it reads ../shared relative to the
// caller's package directory and reports ErrNoData when the data is absent.
package reporttest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/companies"
	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/input"
	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/testfarm"
	"github.com/aicensus/aicensus/internal/warc"
)

// ErrNoData means the shared corpus is not there (tests skip).
var ErrNoData = errors.New("shared test data not found")

// Shared is the path of /work/shared relative to a package two levels
// below the module root (internal/report, internal/web).
const Shared = "../../../shared"

// Epoch is the fixed time stamped on fixture scans and results.
var Epoch = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// Detector returns a detector over the embedded catalog.
func Detector() (*detect.Detector, error) {
	cat, err := catalog.Open(false)
	if err != nil {
		return nil, err
	}
	return detect.New(cat, detect.Options{})
}

// FarmScan is one scan of a test farm.
type FarmScan struct {
	Scan  store.Scan
	Truth []testfarm.HostTruth
}

// ScanFarm builds a farm (seed, hosts, no network), runs the detector on
// what each host serves (page, headers, linked script, DNS records of the
// truth) and stores one result per host, with the truth's status, URL and
// redirects, as scan `input` started at `start`.
func ScanFarm(ctx context.Context, s *store.Store, det *detect.Detector, seed uint64, hosts int, input string, start time.Time) (FarmScan, error) {
	farm, err := testfarm.New(testfarm.Config{Hosts: hosts, Seed: seed,
		CorpusDir: filepath.Join(Shared, "corpus/html"), EmbedsDir: filepath.Join(Shared, "research/ai-embeds")})
	if errors.Is(err, testfarm.ErrNoData) {
		return FarmScan{}, fmt.Errorf("%w: %v", ErrNoData, err)
	}
	if err != nil {
		return FarmScan{}, err
	}
	defer farm.Close()
	sc, err := s.CreateScan(ctx, store.ScanSpec{Kind: store.KindLive, Input: input, CatalogVersion: det.Catalog().Version(),
		Options: map[string]any{"seed": seed, "hosts": hosts}})
	if err != nil {
		return FarmScan{}, err
	}
	w, err := s.NewWriter(store.WriterOptions{})
	if err != nil {
		return FarmScan{}, err
	}
	truth := farm.Truth()
	for i, h := range truth {
		r, err := farmResult(farm, det, h)
		if err != nil {
			w.Close()
			return FarmScan{}, err
		}
		r.ScanID, r.Line = sc.ID, i+1
		r.Time = start.Add(time.Duration(i) * time.Second)
		if err := w.Write(ctx, r); err != nil {
			w.Close()
			return FarmScan{}, err
		}
	}
	if err := w.Close(); err != nil {
		return FarmScan{}, err
	}
	if sc, err = finish(ctx, s, sc.ID, start, start.Add(time.Duration(len(truth))*time.Second)); err != nil {
		return FarmScan{}, err
	}
	return FarmScan{Scan: sc, Truth: truth}, nil
}

// finish marks a scan done with fixed start and finish times.
func finish(ctx context.Context, s *store.Store, id int64, start, end time.Time) (store.Scan, error) {
	if err := s.SetScanState(ctx, id, store.ScanDone); err != nil {
		return store.Scan{}, err
	}
	if _, err := s.DB().ExecContext(ctx, `UPDATE scans SET started_at = ?, finished_at = ?, tool_version = 'test' WHERE id = ?`, start, end, id); err != nil {
		return store.Scan{}, err
	}
	return s.Scan(ctx, id)
}

func farmResult(farm *testfarm.Farm, det *detect.Detector, h testfarm.HostTruth) (model.Result, error) {
	tg, err := input.Normalize(h.Host, input.NormalizeOptions{})
	if err != nil {
		return model.Result{}, fmt.Errorf("farm host %s: %w", h.Host, err)
	}
	r := model.Result{Target: h.Host, Domain: tg.Domain, Status: h.Status, URL: h.URL, HTTPStatus: h.HTTPStatus,
		Redirects: h.Redirects, DNS: h.DNS, Detections: []model.Detection{}}
	obs := &model.Observation{Host: h.Host, DNS: h.DNS, Time: Epoch}
	if h.Status == model.StatusOK && h.URL != "" {
		code, hdr, body, err := get(farm, h.URL)
		if err != nil {
			return r, err
		}
		obs.URL, obs.StatusCode, obs.Headers, obs.Body = h.URL, code, hdr, body
		// The page's same-site script, unless robots.txt forbids it.
		if h.Kind != testfarm.KindRobots && bytes.Contains(body, []byte("/static/app.js")) {
			su := strings.TrimSuffix(h.URL, "/") + "/static/app.js"
			if u, err := url.Parse(h.URL); err == nil {
				su = u.Scheme + "://" + u.Host + "/static/app.js"
			}
			if _, _, js, err := get(farm, su); err == nil {
				obs.Scripts = []model.Script{{URL: su, Body: js}}
			}
		}
	}
	if h.Status == model.StatusOK || len(h.DNS) > 0 {
		r.Detections = det.Detect(obs)
	}
	return r, nil
}

// get asks the farm's handler for rawURL, in process.
func get(farm *testfarm.Farm, rawURL string) (int, map[string][]string, []byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, nil, nil, err
	}
	req := httptest.NewRequest(http.MethodGet, u.RequestURI(), nil)
	req.Host = u.Host
	rec := httptest.NewRecorder()
	farm.ServeHTTP(rec, req)
	res := rec.Result()
	defer res.Body.Close()
	var body io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			return 0, nil, nil, err
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return 0, nil, nil, err
	}
	hdr := map[string][]string{}
	for k, v := range res.Header {
		hdr[strings.ToLower(k)] = v
	}
	return res.StatusCode, hdr, b, nil
}

// ScanWARC reads the archives, detects on every response record and stores
// the pages as an archive scan, finalized into results.
func ScanWARC(ctx context.Context, s *store.Store, det *detect.Detector, files []string, input string, start time.Time) (store.Scan, error) {
	sc, err := s.CreateScan(ctx, store.ScanSpec{Kind: store.KindWARC, Input: input, CatalogVersion: det.Catalog().Version()})
	if err != nil {
		return sc, err
	}
	w, err := s.NewWriter(store.WriterOptions{})
	if err != nil {
		return sc, err
	}
	for _, f := range files {
		pages, err := warcPages(f, det)
		if err != nil {
			w.Close()
			return sc, err
		}
		if err := w.WritePages(ctx, store.PageBatch{ScanID: sc.ID, Source: filepath.Base(f), Done: true, Pages: pages}); err != nil {
			w.Close()
			return sc, err
		}
	}
	if err := w.Close(); err != nil {
		return sc, err
	}
	if _, err := s.FinalizeArchiveScan(ctx, sc.ID); err != nil {
		return sc, err
	}
	return finish(ctx, s, sc.ID, start, start.Add(time.Minute))
}

func warcPages(path string, det *detect.Detector) ([]store.Page, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoData, err)
	}
	rd := warc.NewReader(f, filepath.Base(path), 0, warc.Options{})
	defer rd.Close()
	var dec warc.Decoder
	var pages []store.Page
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return pages, nil
		}
		if err != nil {
			return nil, err
		}
		obs, derr := dec.Decode(rec)
		if obs == nil {
			if derr != nil && rec.Type == warc.TypeResponse {
				pages = append(pages, store.Page{Target: rec.TargetURI, Status: model.StatusParseError, Error: derr.Error(), Time: rec.Date, Ref: rec.Ref()})
			}
			continue
		}
		if obs.Host == "" || obs.URL == "" {
			continue
		}
		tg, err := input.Normalize(obs.Host, input.NormalizeOptions{AllowIP: true})
		if err != nil {
			continue
		}
		pages = append(pages, store.Page{Target: tg.Domain, Domain: tg.Domain, Host: obs.Host, URL: obs.URL, HTTPStatus: obs.StatusCode,
			Time: obs.Time, Ref: obs.Ref, Detections: det.Detect(obs)})
	}
}

// ImportFarmCompanies writes a company CSV that gives the first `share` of
// the farm's site domains (in order) the team sizes of the real YC
// directory's companies, row by row, and imports it with companies.Import.
func ImportFarmCompanies(ctx context.Context, s *store.Store, truth []testfarm.HostTruth, share float64, dir string) (companies.Stats, error) {
	sizes, err := ycTeamSizes(filepath.Join(Shared, "corpus/companies/yc-directory-2026/yc_companies.csv.gz"))
	if err != nil {
		return companies.Stats{}, err
	}
	seen := map[string]bool{}
	var domains []string
	for _, h := range truth {
		tg, err := input.Normalize(h.Host, input.NormalizeOptions{})
		if err == nil && strings.HasPrefix(tg.Domain, "site") && !seen[tg.Domain] {
			seen[tg.Domain] = true
			domains = append(domains, tg.Domain)
		}
	}
	n := min(int(float64(len(domains))*share), len(sizes))
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write([]string{"name", "website", "team_size"})
	for i := range n {
		cw.Write([]string{"Company " + domains[i], "https://www." + domains[i] + "/", sizes[i]})
	}
	cw.Flush()
	path := filepath.Join(dir, "farm_companies.csv")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return companies.Stats{}, err
	}
	return companies.Import(ctx, s, path, nil, companies.Options{Source: "yc-sizes-on-farm"})
}

// ycTeamSizes returns the non-empty, non-zero team sizes of the YC file in
// file order.
func ycTeamSizes(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoData, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(zr)
	header, err := cr.Read()
	if err != nil {
		return nil, err
	}
	col := -1
	for i, h := range header {
		if h == "team_size" {
			col = i
		}
	}
	if col < 0 {
		return nil, errors.New("yc file has no team_size column")
	}
	var out []string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if v := strings.TrimSpace(rec[col]); v != "" && v != "0" {
			out = append(out, v)
		}
	}
}

// Fixture is the standard golden store.
type Fixture struct {
	Path          string
	FarmA, FarmB  FarmScan
	WARC          store.Scan
	CompanyImport companies.Stats
}

// FixtureHosts is the number of site hosts of each fixture farm scan (the
// first 25 cover every fixture kind; the fault hosts come on top).
const FixtureHosts = 120

// FixtureWARCs are the servo archives (2018 captures of popular sites) of
// the fixture's archive scan: the eight smallest of the 22, so the fixture
// builds in seconds even under the race detector.
var FixtureWARCs = []string{"Wikipedia", "Baidu", "qq", "GoogleJapan", "GoogleBR", "GoogleUK", "Google", "Facebook"}

// Build creates the standard fixture store at path: scan 1 = farm seed 3,
// scan 2 = farm seed 11 (same host names, other content: the comparison),
// both with FixtureHosts hosts, scan 3 = the FixtureWARCs archives; YC team
// sizes on 70% of the farm's site domains. It closes the store when done.
func Build(ctx context.Context, path string) (Fixture, error) {
	fx := Fixture{Path: path}
	det, err := Detector()
	if err != nil {
		return fx, err
	}
	s, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return fx, err
	}
	defer s.Close()
	if fx.FarmA, err = ScanFarm(ctx, s, det, 3, FixtureHosts, "farm-seed3.txt", Epoch); err != nil {
		return fx, err
	}
	if fx.FarmB, err = ScanFarm(ctx, s, det, 11, FixtureHosts, "farm-seed11.txt", Epoch.Add(30*24*time.Hour)); err != nil {
		return fx, err
	}
	var warcs []string
	for _, name := range FixtureWARCs {
		warcs = append(warcs, filepath.Join(Shared, "corpus/warc/servo-warc-tests", name+".warc.gz"))
	}
	if fx.WARC, err = ScanWARC(ctx, s, det, warcs, "servo-warc-tests (8 archives)", Epoch.Add(60*24*time.Hour)); err != nil {
		return fx, err
	}
	if fx.CompanyImport, err = ImportFarmCompanies(ctx, s, fx.FarmA.Truth, 0.7, filepath.Dir(path)); err != nil {
		return fx, err
	}
	// Fixed import time for golden output.
	if _, err := s.DB().ExecContext(ctx, `UPDATE company_imports SET imported_at = ?, file = 'farm_companies.csv'`, Epoch); err != nil {
		return fx, err
	}
	return fx, nil
}
