package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

// section is one part of a rendered report: the same sections feed the
// text, Markdown and HTML formats and the dashboard.
type section struct {
	ID     string
	Title  string
	Notes  []string // paragraphs before the tables
	Tables []table
	// Defs is set for the method section (term, text pairs).
	Defs []Definition
	// Chart names the chart drawn with this section ("" for none).
	Chart string
}

// table is a titled grid of cells.
type table struct {
	Caption string
	Header  []string
	// Numeric marks right-aligned columns.
	Numeric []bool
	Rows    [][]string
	// Link, when set, gives a URL for the first cell of each row (the
	// dashboard links technologies to their pages).
	Link []string
}

// maxSupplyRows caps the supply metrics shown per command outside JSON.
const maxSupplyRows = 40

func count(n int64) string   { return strconv.FormatInt(n, 10) }
func yesNo(b bool) string    { return map[bool]string{true: "yes", false: "no"}[b] }
func day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// sections lays r out for people. techLink, when not nil, gives the link of
// a technology's page.
func sections(r *Report, techLink func(string) string) []section {
	out := []section{
		{ID: "summary", Title: "Summary", Notes: r.Summary},
		scanSection(r),
		techSection(r, techLink),
		openClosedSection(r),
		companySection(r, techLink),
	}
	if r.Compare != nil {
		out = append(out, compareSection(r))
	}
	if r.Universe != nil {
		out = append(out, universeSection(r))
	}
	if len(r.Supply) > 0 {
		out = append(out, supplySection(r))
	}
	out = append(out, section{ID: "method", Title: "Method", Defs: r.Method})
	for i := range out {
		out[i].Tables = slices.DeleteFunc(out[i].Tables, func(t table) bool { return len(t.Rows) == 0 })
	}
	return out
}

func scanSection(r *Report) section {
	s := r.Scan
	kv := [][]string{
		{"scan", fmt.Sprintf("%d (%s, %s)", s.ID, s.Kind, s.State)},
		{"input", s.Input},
		{"started", day(s.StartedAt)},
	}
	if !s.FinishedAt.IsZero() {
		kv = append(kv, []string{"finished", day(s.FinishedAt)})
	}
	if s.CatalogVersion != "" {
		kv = append(kv, []string{"catalog", s.CatalogVersion})
	}
	if s.ToolVersion != "" {
		kv = append(kv, []string{"aicensus", s.ToolVersion})
	}
	if s.ArchivesRead > 0 {
		kv = append(kv, []string{"archives read", count(s.ArchivesRead)})
	}
	kv = append(kv, []string{"results", count(s.Results)},
		[]string{"domains", count(r.Population.Domains)},
		[]string{"domains ok (denominator)", count(r.Population.OKDomains)})
	if !r.Filter.IsZero() {
		kv = append(kv, []string{"filter", filterText(r.Filter)})
	}
	st := table{Caption: "Results by status", Header: []string{"status", "results", "share"}, Numeric: []bool{false, true, true}}
	for _, c := range s.ByStatus {
		st.Rows = append(st.Rows, []string{c.Status, count(c.Results), pct(float64(c.Results) / float64(max(1, s.Results)))})
	}
	return section{ID: "scan", Title: "Scan", Tables: []table{
		{Header: []string{"", ""}, Rows: kv}, st,
	}}
}

func techSection(r *Report, techLink func(string) string) section {
	title := "AI technologies"
	if r.AllTechs {
		title = "Technologies"
	}
	h := []string{"technology", "open source", "domains", "share", "95% CI", "running", "running share"}
	num := []bool{false, false, true, true, true, true, true}
	if r.AllTechs {
		h = append(h[:2], append([]string{"AI"}, h[2:]...)...)
		num = append(num[:2], append([]bool{false}, num[2:]...)...)
	}
	for _, c := range model.EvidenceClasses() {
		h = append(h, classLabel(string(c)))
		num = append(num, true)
	}
	h = append(h, "versions")
	num = append(num, false)
	t := table{Header: h, Numeric: num}
	for _, x := range r.Technologies {
		row := []string{x.Technology, yesNo(x.OpenSource)}
		if r.AllTechs {
			row = append(row, yesNo(x.AI))
		}
		row = append(row, count(x.Domains), pct(x.Share.P), ci(x.Share), count(x.Running), pct(x.RunningShare.P))
		for _, c := range model.EvidenceClasses() {
			row = append(row, count(x.Class(c)))
		}
		t.Rows = append(t.Rows, append(row, versionsText(x.Versions, 4)))
		if techLink != nil {
			t.Link = append(t.Link, techLink(x.Technology))
		}
	}
	notes := []string{fmt.Sprintf("Domains with the technology among the %d domains that answered (status ok); running = with running evidence. "+
		"The class columns split the domains by their strongest evidence (app, embed, api call, header, csp, dns = DNS verification only).", r.Population.OKDomains)}
	if len(t.Rows) == 0 {
		notes = append(notes, "No AI technology was detected.")
	}
	return section{ID: "technologies", Title: title, Notes: notes, Tables: []table{t}, Chart: "adoption"}
}

// versionsText lists up to n versions with their domains.
func versionsText(vs []VersionCount, n int) string {
	var parts []string
	for i, v := range vs {
		if i == n {
			parts = append(parts, fmt.Sprintf("+%d more", len(vs)-n))
			break
		}
		name := v.Version
		if name == "" {
			name = "none"
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", name, v.Domains))
	}
	return strings.Join(parts, ", ")
}

func ocRow(label string, c OpenClosedCounts) []string {
	return []string{label, count(c.AIDomains), count(c.Open), count(c.Closed), count(c.Both), count(c.OpenOnly), count(c.ClosedOnly),
		c.Ratio, pct(c.OpenShare.P), ci(c.OpenShare)}
}

func openClosedSection(r *Report) section {
	oc := r.OpenClosed
	h := []string{"", "AI domains", "any open", "any closed", "both", "open only", "closed only", "closed:open", "open share", "95% CI"}
	num := []bool{false, true, true, true, true, true, true, true, true, true}
	overall := table{Header: h, Numeric: num, Rows: [][]string{ocRow("all evidence", oc.All), ocRow("running only", oc.Running)}}
	cats := table{Caption: "Per category (a technology in two categories counts in both)",
		Header:  []string{"category", "AI domains", "any open", "any closed", "both", "closed:open", "running: AI domains", "open", "closed", "closed:open"},
		Numeric: []bool{false, true, true, true, true, true, true, true, true, true}}
	for _, c := range oc.Categories {
		cats.Rows = append(cats.Rows, []string{c.Category, count(c.All.AIDomains), count(c.All.Open), count(c.All.Closed), count(c.All.Both), c.All.Ratio,
			count(c.Running.AIDomains), count(c.Running.Open), count(c.Running.Closed), c.Running.Ratio})
	}
	return section{ID: "open-closed", Title: "Open source vs closed AI", Chart: "openclosed",
		Notes: []string{fmt.Sprintf("Closed to open: %s over all evidence, %s over running deployments only. A domain with both counts on both sides.",
			oc.All.Ratio, oc.Running.Ratio)},
		Tables: []table{overall, cats}}
}

func companySection(r *Report, techLink func(string) string) section {
	c := r.Companies
	s := section{ID: "companies", Title: "Company size", Chart: "sizes"}
	if !c.Available {
		s.Notes = []string{"No company data imported: run `aicensus companies import FILE` to add company sizes."}
		s.Chart = ""
		return s
	}
	var src []string
	for _, x := range c.Sources {
		src = append(src, fmt.Sprintf("%s (%d rows, imported %s)", x.Source, x.Rows, day(x.ImportedAt)))
	}
	s.Notes = []string{fmt.Sprintf("%d domains have company data, from %s; %d of them have sources that disagree on the size. "+
		"Shares are of the matched companies in each group; ≤10 and ≤50 are cumulative.", c.Companies, strings.Join(src, ", "), c.Conflicts)}
	h := []string{"group", "domains", "matched", "match rate"}
	num := []bool{false, true, true, true}
	for _, b := range c.Buckets {
		h = append(h, b)
		num = append(num, true)
	}
	h = append(h, "≤10", "95% CI", "≤50", "95% CI")
	num = append(num, true, true, true, true)
	t := table{Header: h, Numeric: num}
	for _, g := range append([]SizeRow{c.Baseline}, c.Groups...) {
		if g.Domains == 0 && g.Kind != "baseline" {
			continue
		}
		row := []string{g.Group, count(g.Domains), count(g.Matched), pct(g.MatchRate.P)}
		for _, b := range g.Buckets {
			row = append(row, pct(b.Share))
		}
		t.Rows = append(t.Rows, append(row, pct(g.UpTo10.P), ci(g.UpTo10), pct(g.UpTo50.P), ci(g.UpTo50)))
		if techLink != nil {
			link := ""
			if g.Kind == "technology" {
				link = techLink(g.Group)
			}
			t.Link = append(t.Link, link)
		}
	}
	s.Tables = []table{t}
	return s
}

func compareSection(r *Report) section {
	c := r.Compare
	t := table{Header: []string{"technology", "before", "after", "gained", "lost", "net"}, Numeric: []bool{false, true, true, true, true, true}}
	for _, x := range c.Rows {
		t.Rows = append(t.Rows, []string{x.Technology, count(x.Before), count(x.After), count(x.Gained), count(x.Lost), fmt.Sprintf("%+d", x.Net)})
	}
	return section{ID: "compare", Title: "Change between scans", Chart: "change",
		Notes: []string{fmt.Sprintf("Scan %d (%s, %s) → scan %d (%s, %s), over the %d domains that answered in both.",
			c.Before.ID, c.Before.Input, day(c.Before.StartedAt), c.After.ID, c.After.Input, day(c.After.StartedAt), c.CommonOK)},
		Tables: []table{t}}
}

func universeSection(r *Report) section {
	u := r.Universe
	t := table{Header: []string{"group", "sampled", "share of sample", "95% CI", "estimated total", "low", "high"},
		Numeric: []bool{false, true, true, true, true, true, true}}
	for _, x := range u.Rows {
		t.Rows = append(t.Rows, []string{x.Group, count(x.Share.K), pct(x.Share.P), ci(x.Share),
			strconv.FormatFloat(x.Estimate, 'f', 0, 64), strconv.FormatFloat(x.Low, 'f', 0, 64), strconv.FormatFloat(x.High, 'f', 0, 64)})
	}
	return section{ID: "universe", Title: fmt.Sprintf("Estimated totals for a universe of %d domains", u.N),
		Notes: []string{fmt.Sprintf("The %d scanned domains taken as a uniform random sample of %d; estimate = share × %d, bounds = Wilson bounds × %d (finite-population correction %.3f not applied).",
			u.Sample, u.N, u.N, u.N, u.FPC)},
		Tables: []table{t}}
}

func supplySection(r *Report) section {
	s := section{ID: "supply", Title: "Supply metrics",
		Notes: []string{"The latest run of each supply command stored in this file (aicensus supply, deps, agents), as stored; see their documentation for the definitions."}}
	for _, run := range r.Supply {
		t := table{Caption: fmt.Sprintf("%s (run %s, %s, inputs %s)", run.Command, run.RunID, day(run.StartedAt), run.Inputs),
			Header: []string{"scope", "metric", "field", "key", "value", "universe"}, Numeric: []bool{false, false, false, false, true, false}}
		for i, m := range run.Metrics {
			if i == maxSupplyRows {
				t.Rows = append(t.Rows, []string{fmt.Sprintf("… %d more rows (--format json)", len(run.Metrics)-maxSupplyRows), "", "", "", "", ""})
				break
			}
			v := "null"
			if m.Value != nil {
				v = strconv.FormatFloat(*m.Value, 'g', 6, 64)
			}
			t.Rows = append(t.Rows, []string{m.Scope, m.Metric, m.Field, m.Key, v, m.Universe})
		}
		s.Tables = append(s.Tables, t)
	}
	return s
}
