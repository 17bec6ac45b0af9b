package report_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/aicensus/aicensus/internal/report"
)

// The HTML report is one file that works offline: no script, no
// stylesheet or image loaded from anywhere, no absolute or
// protocol-relative URL in any src, href, action or CSS url().
func TestHTMLSelfContained(t *testing.T) {
	s, fx := goldenStore(t)
	r, err := report.Build(context.Background(), s, report.Options{ScanID: fx.FarmA.Scan.ID,
		CompareBefore: fx.FarmA.Scan.ID, CompareAfter: fx.FarmB.Scan.ID, Universe: 100000})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.Write(&b, r, report.FormatHTML); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			counts[n.Data]++
			for _, a := range n.Attr {
				switch strings.ToLower(a.Key) {
				case "src", "href", "action", "xlink:href", "srcset", "poster", "data":
					v := strings.ToLower(strings.TrimSpace(a.Val))
					if strings.HasPrefix(v, "http:") || strings.HasPrefix(v, "https:") || strings.HasPrefix(v, "//") {
						t.Errorf("<%s %s=%q> points to another host", n.Data, a.Key, a.Val)
					}
				}
			}
			if n.Data == "script" || n.Data == "iframe" || n.Data == "img" || (n.Data == "link" && !isIcon(n)) {
				t.Errorf("<%s> in the report", n.Data)
			}
		}
		if n.Type == html.TextNode && n.Parent != nil && n.Parent.Data == "style" {
			css := strings.ToLower(n.Data)
			if strings.Contains(css, "@import") || strings.Contains(css, "url(") {
				t.Error("the stylesheet loads something")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if counts["svg"] != 4 || counts["rect"] < 40 || counts["style"] != 1 {
		t.Errorf("elements %v: want 4 charts with bars and one inline stylesheet", map[string]int{"svg": counts["svg"], "rect": counts["rect"], "style": counts["style"]})
	}
	for _, want := range []string{"Adoption by technology", "Open source vs closed AI", "Company size of matched companies", "Adopters gained and lost", "Wilson score interval"} {
		if !bytes.Contains(b.Bytes(), []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func isIcon(n *html.Node) bool {
	for _, a := range n.Attr {
		if a.Key == "href" && strings.HasPrefix(a.Val, "data:") {
			return true
		}
	}
	return false
}

// Technology names and evidence come from scanned pages: they must be
// escaped in every format that interprets markup.
func TestHTMLEscapesNames(t *testing.T) {
	r := &report.Report{Scan: report.ScanInfo{ID: 1, Input: `<script>alert(1)</script>`},
		Technologies: []report.TechRow{{Technology: `<img src=x onerror=alert(1)>`, AI: true, Domains: 1,
			Share: report.NewProportion(1, 2), Versions: []report.VersionCount{{Version: "<b>", Domains: 1}}}}}
	var b bytes.Buffer
	if err := report.WriteHTML(&b, r, report.HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("<script>alert")) || bytes.Contains(b.Bytes(), []byte("<img src=x")) {
		t.Error("unescaped markup in the HTML report")
	}
	b.Reset()
	if err := report.Write(&b, r, report.FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("<img")) {
		t.Error("unescaped markup in the Markdown report")
	}
}
