package report

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed assets/style.css assets/report.html.tmpl
var assets embed.FS

// HTMLOptions change how a report renders as HTML. The zero value gives the
// standalone report.
type HTMLOptions struct {
	// TechLink, when set, returns the URL of a technology's page; the
	// technology names in tables link to it (the dashboard sets it).
	TechLink func(technology string) string
}

// Stylesheet returns the CSS the HTML report and the dashboard share.
func Stylesheet() template.CSS {
	b, err := assets.ReadFile("assets/style.css")
	if err != nil {
		panic(fmt.Sprintf("report: embedded stylesheet missing: %v", err)) // built into the binary
	}
	return template.CSS(b)
}

// templates parses the embedded templates with the helpers they use. charts
// maps a section's chart name to the chart drawn with it.
func templates(charts map[string]*svgChart) (*template.Template, error) {
	return template.New("report").Funcs(template.FuncMap{
		"chart": func(name string) *svgChart { return charts[name] },
		"numeric": func(num []bool, i int) bool {
			return i < len(num) && num[i]
		},
		"link": func(links []string, i int) string {
			if i < len(links) {
				return links[i]
			}
			return ""
		},
	}).ParseFS(assets, "assets/report.html.tmpl")
}

// HTMLBody renders the report's sections (summary, tables, charts, method)
// as an HTML fragment without a page around it, for the dashboard.
func HTMLBody(r *Report, opts HTMLOptions) (template.HTML, error) {
	t, err := templates(charts(r))
	if err != nil {
		return "", fmt.Errorf("report html: %w", err)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "body", map[string]any{"Sections": sections(r, opts.TechLink)}); err != nil {
		return "", fmt.Errorf("report html: %w", err)
	}
	return template.HTML(b.String()), nil
}

// WriteHTML writes the report as one self-contained HTML page: inline CSS,
// inline SVG charts, no script and no external resource, so the file works
// offline and can be mailed or archived as it is.
func WriteHTML(w io.Writer, r *Report, opts HTMLOptions) error {
	body, err := HTMLBody(r, opts)
	if err != nil {
		return err
	}
	t, err := templates(nil)
	if err != nil {
		return fmt.Errorf("report html: %w", err)
	}
	sub := fmt.Sprintf("scan %d · %s · %s", r.Scan.ID, r.Scan.Input, day(r.Scan.StartedAt))
	return t.ExecuteTemplate(w, "page", map[string]any{
		"Title": fmt.Sprintf("AI technologies in scan %d", r.Scan.ID), "Subtitle": sub, "CSS": Stylesheet(), "Body": body,
	})
}
