package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/aicensus/aicensus/internal/model"
)

// Format is a report output format.
type Format string

// The report formats.
const (
	FormatTable    Format = "table" // aligned text for a terminal
	FormatJSON     Format = "json"  // the Report as JSON
	FormatCSV      Format = "csv"   // long format: section, group, metric, value, k, n, low, high
	FormatMarkdown Format = "md"    // Markdown tables
	FormatHTML     Format = "html"  // one self-contained HTML file with SVG charts
)

// Formats lists the report formats.
func Formats() []Format {
	return []Format{FormatTable, FormatJSON, FormatCSV, FormatMarkdown, FormatHTML}
}

// ParseFormat checks a format name ("markdown" is accepted for md).
func ParseFormat(s string) (Format, error) {
	if s == "markdown" {
		return FormatMarkdown, nil
	}
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown report format %q (want table, json, csv, md or html)", s)
}

// Write renders r in format f to w.
func Write(w io.Writer, r *Report, f Format) error {
	switch f {
	case FormatTable:
		return writeText(w, r)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	case FormatCSV:
		return writeCSV(w, r)
	case FormatMarkdown:
		return writeMarkdown(w, r)
	case FormatHTML:
		return WriteHTML(w, r, HTMLOptions{})
	}
	return fmt.Errorf("unknown report format %q", f)
}

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func writeText(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.printf("aicensus report: scan %d\n", r.Scan.ID)
	for _, s := range sections(r, nil) {
		ew.printf("\n%s\n%s\n", strings.ToUpper(s.Title), strings.Repeat("=", utf8.RuneCountInString(s.Title)))
		for _, n := range s.Notes {
			if s.ID == "summary" {
				ew.printf("- %s\n", wrap(n, 100, "  "))
			} else {
				ew.printf("%s\n", wrap(n, 100, ""))
			}
		}
		for _, t := range s.Tables {
			if t.Caption != "" {
				ew.printf("\n%s\n", t.Caption)
			} else if len(s.Notes) > 0 {
				ew.printf("\n")
			}
			if ew.err == nil {
				ew.err = textTable(w, t)
			}
		}
		for _, d := range s.Defs {
			ew.printf("%s\n", wrap(d.Term+": "+d.Text, 100, "  "))
		}
	}
	return ew.err
}

func textTable(w io.Writer, t table) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight*0)
	row := func(cells []string) {
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if strings.Join(t.Header, "") != "" {
		hdr := make([]string, len(t.Header))
		for i, h := range t.Header {
			hdr[i] = strings.ToUpper(h)
		}
		row(hdr)
	}
	for _, r := range t.Rows {
		row(r)
	}
	return tw.Flush()
}

// wrap breaks s into lines of at most width runes, indenting continuation
// lines.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		l := utf8.RuneCountInString(word)
		if i > 0 && n+1+l > width {
			b.WriteString("\n" + indent)
			n = len(indent)
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += l
	}
	return b.String()
}

func writeMarkdown(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.printf("# aicensus report: scan %d\n", r.Scan.ID)
	for _, s := range sections(r, nil) {
		ew.printf("\n## %s\n", s.Title)
		for i, n := range s.Notes {
			switch {
			case s.ID != "summary":
				ew.printf("\n%s\n", mdEscape(n))
			case i == 0:
				ew.printf("\n- %s\n", mdEscape(n))
			default:
				ew.printf("- %s\n", mdEscape(n))
			}
		}
		for _, t := range s.Tables {
			if t.Caption != "" {
				ew.printf("\n**%s**\n", mdEscape(t.Caption))
			}
			ew.printf("\n|%s|\n|", strings.Join(mdCells(t.Header), "|"))
			for i := range t.Header {
				if i < len(t.Numeric) && t.Numeric[i] {
					ew.printf("---:|")
				} else {
					ew.printf("---|")
				}
			}
			ew.printf("\n")
			for _, row := range t.Rows {
				ew.printf("|%s|\n", strings.Join(mdCells(row), "|"))
			}
		}
		if len(s.Defs) > 0 {
			ew.printf("\n")
			for _, d := range s.Defs {
				ew.printf("- **%s**: %s\n", mdEscape(d.Term), mdEscape(d.Text))
			}
		}
	}
	return ew.err
}

func mdCells(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = " " + mdEscape(c) + " "
	}
	return out
}

// mdEscape keeps cell text from breaking tables or turning into markup.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "*", `\*`, "_", `\_`, "<", "&lt;", "`", "\\`").Replace(s)
}

// writeCSV writes the report in long format: one row per number, with the
// columns section, group, metric, value, k, n, low, high (k, n, low and
// high set for shares).
func writeCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"section", "group", "metric", "value", "k", "n", "low", "high"})
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	val := func(sec, grp, metric, v string) { cw.Write([]string{sec, grp, metric, v, "", "", "", ""}) }
	num := func(sec, grp, metric string, n int64) { val(sec, grp, metric, count(n)) }
	prop := func(sec, grp, metric string, p Proportion) {
		cw.Write([]string{sec, grp, metric, f(p.P), count(p.K), count(p.N), f(p.Low), f(p.High)})
	}
	s := r.Scan
	val("scan", "", "id", count(s.ID))
	val("scan", "", "kind", s.Kind)
	val("scan", "", "state", s.State)
	val("scan", "", "input", s.Input)
	val("scan", "", "started_at", s.StartedAt.UTC().Format("2006-01-02T15:04:05Z"))
	if !s.FinishedAt.IsZero() {
		val("scan", "", "finished_at", s.FinishedAt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	val("scan", "", "catalog_version", s.CatalogVersion)
	num("scan", "", "results", s.Results)
	for _, c := range s.ByStatus {
		num("scan", c.Status, "results", c.Results)
	}
	num("population", "", "ok_domains", r.Population.OKDomains)
	num("population", "", "domains", r.Population.Domains)
	prop("population", "", "ai", r.Population.AI)
	prop("population", "", "ai_running", r.Population.AIRunning)
	num("population", "", "excluded_ai_domains", r.Population.ExcludedAIDomains)
	for _, t := range r.Technologies {
		val("technologies", t.Technology, "open_source", strconv.FormatBool(t.OpenSource))
		val("technologies", t.Technology, "ai", strconv.FormatBool(t.AI))
		prop("technologies", t.Technology, "share", t.Share)
		prop("technologies", t.Technology, "running_share", t.RunningShare)
		for _, c := range model.EvidenceClasses() {
			num("technologies", t.Technology, "class:"+string(c), t.Class(c))
		}
		for _, v := range t.Versions {
			num("technologies", t.Technology, "version:"+v.Version, v.Domains)
		}
	}
	oc := func(grp string, c OpenClosedCounts) {
		num("open_vs_closed", grp, "ai_domains", c.AIDomains)
		num("open_vs_closed", grp, "open", c.Open)
		num("open_vs_closed", grp, "closed", c.Closed)
		num("open_vs_closed", grp, "both", c.Both)
		val("open_vs_closed", grp, "ratio", c.Ratio)
		prop("open_vs_closed", grp, "open_share", c.OpenShare)
	}
	oc("all", r.OpenClosed.All)
	oc("running", r.OpenClosed.Running)
	for _, c := range r.OpenClosed.Categories {
		oc("all:"+c.Category, c.All)
		oc("running:"+c.Category, c.Running)
	}
	if r.Companies.Available {
		for _, g := range append([]SizeRow{r.Companies.Baseline}, r.Companies.Groups...) {
			prop("companies", g.Group, "match_rate", g.MatchRate)
			for _, b := range g.Buckets {
				cw.Write([]string{"companies", g.Group, "bucket:" + b.Bucket, f(b.Share), count(b.Companies), count(g.Matched), "", ""})
			}
			prop("companies", g.Group, "up_to_10", g.UpTo10)
			prop("companies", g.Group, "up_to_50", g.UpTo50)
		}
	}
	if c := r.Compare; c != nil {
		num("compare", "", "common_ok", c.CommonOK)
		for _, x := range c.Rows {
			num("compare", x.Technology, "before", x.Before)
			num("compare", x.Technology, "after", x.After)
			num("compare", x.Technology, "gained", x.Gained)
			num("compare", x.Technology, "lost", x.Lost)
		}
	}
	if u := r.Universe; u != nil {
		num("universe", "", "n", u.N)
		for _, x := range u.Rows {
			prop("universe", x.Group, "share", x.Share)
			cw.Write([]string{"universe", x.Group, "estimate", f(x.Estimate), "", count(u.N), f(x.Low), f(x.High)})
		}
	}
	for _, run := range r.Supply {
		for _, m := range run.Metrics {
			v := ""
			if m.Value != nil {
				v = f(*m.Value)
			}
			val("supply", run.Command+":"+m.Scope, strings.Trim(m.Metric+":"+m.Field+":"+m.Key, ":"), v)
		}
	}
	cw.Flush()
	return cw.Error()
}
