package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"

	"github.com/aicensus/aicensus/internal/report"
)

//go:embed assets/dashboard.html.tmpl
var assets embed.FS

// pages renders the dashboard's HTML pages.
type pages struct{ t *template.Template }

func newPages() (*pages, error) {
	t, err := template.New("dashboard").Funcs(template.FuncMap{
		"css": report.Stylesheet,
		"pct": func(p float64) string { return fmt.Sprintf("%.1f%%", p*100) },
		"ci":  func(p report.Proportion) string { return fmt.Sprintf("%.1f–%.1f%%", p.Low*100, p.High*100) },
		"add": func(a, b int) int { return a + b },
	}).ParseFS(assets, "assets/dashboard.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("web templates: %w", err)
	}
	return &pages{t: t}, nil
}

// render executes the named page into a buffer, so a template error never
// sends half a page.
func (p *pages) render(w http.ResponseWriter, name string, d pageData) {
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, name, d); err != nil {
		http.Error(w, "template: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	w.Write(b.Bytes())
}
