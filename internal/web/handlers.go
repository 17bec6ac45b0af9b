package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/report"
	"github.com/aicensus/aicensus/internal/store"
)

func (s *Server) routes() {
	s.mux.HandleFunc("GET /{$}", s.overview)
	s.mux.HandleFunc("GET /tech/{name}", s.techPage)
	s.mux.HandleFunc("GET /api/{$}", s.apiIndex)
	s.mux.HandleFunc("GET /api/scans", s.apiScans)
	s.mux.HandleFunc("GET /api/report", s.apiReport)
	s.mux.HandleFunc("GET /api/filters", s.apiFilters)
	s.mux.HandleFunc("GET /api/technologies/{name}/domains", s.apiDomains)
}

// badRequest marks errors caused by the request's parameters.
type badRequest struct{ err error }

func (e badRequest) Error() string { return e.err.Error() }
func (e badRequest) Unwrap() error { return e.err }

// params reads the report options shared by every page and API call.
func params(q url.Values) (report.Options, error) {
	var o report.Options
	var err error
	num := func(name string) int64 {
		v := q.Get(name)
		if v == "" || err != nil {
			return 0
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < 0 {
			err = badRequest{fmt.Errorf("%s: %q is not a non-negative number", name, v)}
		}
		return n
	}
	o.ScanID = num("scan")
	o.Universe = num("universe")
	o.AllTechnologies = q.Get("all") == "1" || q.Get("all") == "true"
	o.Filter = report.Filter{Category: q.Get("category"), Open: q.Get("open"), Evidence: q.Get("evidence"), Size: q.Get("size")}
	if c := q.Get("compare"); c != "" && err == nil {
		a, b, ok := strings.Cut(c, ",")
		x, e1 := strconv.ParseInt(a, 10, 64)
		y, e2 := strconv.ParseInt(b, 10, 64)
		if !ok || e1 != nil || e2 != nil || x <= 0 || y <= 0 {
			return o, badRequest{fmt.Errorf("compare: want two scan ids A,B, got %q", c)}
		}
		o.CompareBefore, o.CompareAfter = x, y
	}
	if err != nil {
		return o, err
	}
	if ferr := o.Filter.Validate(); ferr != nil {
		return o, badRequest{ferr}
	}
	return o, nil
}

// fail answers with an error page or JSON error, 400 for bad parameters,
// 404 for missing scans, 500 otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error, asJSON bool) {
	code := http.StatusInternalServerError
	var br badRequest
	switch {
	case errors.As(err, &br), errors.Is(err, report.ErrBadFilter), errors.Is(err, report.ErrBadOption):
		code = http.StatusBadRequest
	case errors.Is(err, store.ErrNotFound):
		code = http.StatusNotFound
	case r.Context().Err() != nil:
		return // the client went away
	}
	if code == http.StatusInternalServerError {
		s.cfg.Logger.Warn("request failed", "path", r.URL.Path, "error", err)
	}
	if asJSON {
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	s.pages.render(w, "error", pageData{Title: http.StatusText(code), Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// pageData is what the page templates get.
type pageData struct {
	Title   string
	Error   string
	Report  *report.Report
	Body    template.HTML
	Form    formData
	Tech    *report.TechRow
	Sizes   *report.SizeRow
	Buckets []string
	Domains *report.DomainPage
	Prev    string
	Next    string
	API     string
}

// formData fills the filter form.
type formData struct {
	Scans      []store.Scan
	Scan       int64
	Categories []string
	Category   string
	Open       string
	Evidence   string
	Evidences  []string
	Size       string
	Sizes      []string
	All        bool
	Action     string
}

func (s *Server) form(r *http.Request, rep *report.Report, o report.Options) (formData, error) {
	f := formData{Scan: rep.Scan.ID, Category: o.Filter.Category, Open: o.Filter.Open, Evidence: o.Filter.Evidence,
		Size: o.Filter.Size, All: o.AllTechnologies, Action: r.URL.Path, Evidences: []string{report.EvidenceRunning}}
	for _, c := range model.EvidenceClasses() {
		f.Evidences = append(f.Evidences, string(c))
	}
	for _, b := range store.SizeBuckets() {
		f.Sizes = append(f.Sizes, b.Label)
	}
	var err error
	if f.Scans, err = s.cfg.Store.Scans(r.Context()); err != nil {
		return f, err
	}
	f.Categories, err = report.Categories(r.Context(), s.cfg.Store, rep.Scan.ID)
	return f, err
}

// techURL links a technology's page, keeping the current query.
func techURL(q url.Values) func(string) string {
	return func(name string) string {
		u := url.URL{Path: "/tech/" + name, RawQuery: q.Encode()}
		return u.String()
	}
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	o, err := params(r.URL.Query())
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	rep, err := s.build(r.Context(), o)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	body, err := report.HTMLBody(rep, report.HTMLOptions{TechLink: techURL(r.URL.Query())})
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	f, err := s.form(r, rep, o)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	api := url.URL{Path: "/api/report", RawQuery: r.URL.RawQuery}
	s.pages.render(w, "overview", pageData{Title: fmt.Sprintf("AI technologies in scan %d", rep.Scan.ID), Report: rep, Body: body, Form: f, API: api.String()})
}

func (s *Server) techPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o, err := params(q)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	name := r.PathValue("name")
	o.Filter.Technology, o.AllTechnologies = name, true
	o.CompareBefore, o.CompareAfter, o.Universe = 0, 0, 0
	rep, err := s.build(r.Context(), o)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	page, err := report.Domains(r.Context(), s.cfg.Store, report.DomainQuery{ScanID: rep.Scan.ID, Filter: o.Filter, Offset: offset, Limit: 100})
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	f, err := s.form(r, rep, o)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	d := pageData{Title: name, Report: rep, Form: f, Domains: page, Buckets: rep.Companies.Buckets}
	if len(rep.Technologies) > 0 {
		d.Tech = &rep.Technologies[0]
	}
	for i, g := range rep.Companies.Groups {
		if g.Kind == "technology" && g.Group == name {
			d.Sizes = &rep.Companies.Groups[i]
		}
	}
	link := func(off int) string {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("offset", strconv.Itoa(off))
		return "?" + qq.Encode()
	}
	if page.Offset > 0 {
		d.Prev = link(max(0, page.Offset-page.Limit))
	}
	if int64(page.Offset+page.Limit) < page.Total {
		d.Next = link(page.Offset + page.Limit)
	}
	api := url.URL{Path: "/api/technologies/" + name + "/domains", RawQuery: r.URL.RawQuery}
	d.API = api.String()
	s.pages.render(w, "tech", d)
}

func (s *Server) apiIndex(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"endpoints": []string{
			"/api/scans",
			"/api/report?scan=&category=&open=open|closed&evidence=CLASS|running&size=BUCKET&all=1&compare=A,B&universe=N",
			"/api/filters?scan=",
			"/api/technologies/{name}/domains?scan=&category=&open=&evidence=&size=&offset=&limit=",
		},
	})
}

func (s *Server) apiScans(w http.ResponseWriter, r *http.Request) {
	scans, err := s.cfg.Store.Scans(r.Context())
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	type scanJSON struct {
		ID             int64  `json:"id"`
		Kind           string `json:"kind"`
		State          string `json:"state"`
		StartedAt      string `json:"started_at"`
		Input          string `json:"input"`
		CatalogVersion string `json:"catalog_version,omitempty"`
	}
	out := []scanJSON{}
	for _, sc := range scans {
		out = append(out, scanJSON{sc.ID, sc.Kind, string(sc.State), sc.StartedAt.UTC().Format("2006-01-02T15:04:05Z"), sc.Input, sc.CatalogVersion})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiReport(w http.ResponseWriter, r *http.Request) {
	o, err := params(r.URL.Query())
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	rep, err := s.build(r.Context(), o)
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) apiFilters(w http.ResponseWriter, r *http.Request) {
	o, err := params(r.URL.Query())
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	cats, err := report.Categories(r.Context(), s.cfg.Store, o.ScanID)
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	var sizes, evidence []string
	for _, b := range store.SizeBuckets() {
		sizes = append(sizes, b.Label)
	}
	evidence = append(evidence, report.EvidenceRunning)
	for _, c := range model.EvidenceClasses() {
		evidence = append(evidence, string(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"category": cats, "open": []string{"open", "closed"}, "evidence": evidence, "size": sizes})
}

func (s *Server) apiDomains(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o, err := params(q)
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	o.Filter.Technology = r.PathValue("name")
	offset, e1 := strconv.Atoi(q.Get("offset"))
	limit, e2 := strconv.Atoi(q.Get("limit"))
	if q.Get("offset") == "" {
		offset, e1 = 0, nil
	}
	if q.Get("limit") == "" {
		limit, e2 = 100, nil
	}
	if e1 != nil || e2 != nil || offset < 0 || limit < 0 {
		s.fail(w, r, badRequest{errors.New("offset and limit must be non-negative numbers")}, true)
		return
	}
	page, err := report.Domains(r.Context(), s.cfg.Store, report.DomainQuery{ScanID: o.ScanID, Filter: o.Filter, Offset: offset, Limit: limit})
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	writeJSON(w, http.StatusOK, page)
}
