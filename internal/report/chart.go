package report

import (
	"fmt"
	"math"
	"strconv"
)

// svgChart is a bar chart drawn as inline SVG by the "chart" template: no
// script, no external file, so it renders offline and in any browser.
// Geometry is computed here from the Report; colours come from CSS classes
// (see style.css).
type svgChart struct {
	ID, Title     string
	Width, Height float64
	Rects         []svgRect
	Lines         []svgLine
	Texts         []svgText
	Legend        []legendItem
}

type svgRect struct {
	X, Y, W, H float64
	Class      string
	Tip        string // tooltip (<title>)
}

type svgLine struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

type svgText struct {
	X, Y   float64
	Anchor string // start, middle, end
	Class  string
	Text   string
}

type legendItem struct{ Class, Label string }

// Chart layout constants (SVG user units, about CSS pixels).
const (
	chartWidth = 860.0
	labelWidth = 200.0
	valueWidth = 150.0
	barHeight  = 18.0
	barGap     = 8.0
	chartTop   = 28.0
	maxBars    = 20
)

func f1(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// niceMax rounds x up to 1, 2 or 5 times a power of ten.
func niceMax(x float64) float64 {
	if x <= 0 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if x <= m*e {
			return m * e
		}
	}
	return 10 * e
}

// newHBar starts a horizontal bar chart with n rows.
func newHBar(id, title string, n int) *svgChart {
	return &svgChart{ID: id, Title: title, Width: chartWidth, Height: chartTop + float64(n)*(barHeight+barGap) + 24}
}

func (c *svgChart) rowY(i int) float64 { return chartTop + float64(i)*(barHeight+barGap) }

func (c *svgChart) label(i int, s string) {
	c.Texts = append(c.Texts, svgText{X: labelWidth - 8, Y: c.rowY(i) + barHeight*0.72, Anchor: "end", Class: "lbl", Text: clip(s, 28)})
}

func (c *svgChart) value(i int, x float64, s string) {
	c.Texts = append(c.Texts, svgText{X: x + 6, Y: c.rowY(i) + barHeight*0.72, Anchor: "start", Class: "val", Text: s})
}

// axis draws ticks at 0, max/2 and max under the plot area, formatted by f.
func (c *svgChart) axis(n int, plot float64, max float64, f func(float64) string) {
	y := c.rowY(n) + 2
	c.Lines = append(c.Lines, svgLine{labelWidth, chartTop - 4, labelWidth, y, "axis"})
	for _, t := range []float64{0, 0.5, 1} {
		x := labelWidth + t*plot
		c.Lines = append(c.Lines, svgLine{x, y, x, y + 4, "axis"})
		c.Texts = append(c.Texts, svgText{X: x, Y: y + 16, Anchor: "middle", Class: "tick", Text: f(t * max)})
	}
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// adoptionChart: one bar per technology, the running share dark and the
// rest of the detected share light, with the 95% interval of the detected
// share as a whisker.
func adoptionChart(r *Report) *svgChart {
	rows := r.Technologies
	if len(rows) > maxBars {
		rows = rows[:maxBars]
	}
	c := newHBar("chart-adoption", "Adoption by technology (share of domains that answered)", len(rows))
	c.Legend = []legendItem{{"c-run", "running"}, {"c-det", "detected, not running (CSP or DNS only)"}, {"c-ci", "95% interval"}}
	var top float64
	for _, t := range rows {
		top = math.Max(top, t.Share.High)
	}
	top = niceMax(top)
	plot := chartWidth - labelWidth - valueWidth
	x := func(p float64) float64 { return labelWidth + p/top*plot }
	for i, t := range rows {
		y := c.rowY(i)
		c.label(i, t.Technology)
		c.Rects = append(c.Rects,
			svgRect{labelWidth, y, x(t.RunningShare.P) - labelWidth, barHeight, "c-run",
				fmt.Sprintf("%s: running on %d domains (%s)", t.Technology, t.Running, pct(t.RunningShare.P))},
			svgRect{x(t.RunningShare.P), y, x(t.Share.P) - x(t.RunningShare.P), barHeight, "c-det",
				fmt.Sprintf("%s: detected on %d domains (%s, 95%% CI %s), %d not running", t.Technology, t.Domains, pct(t.Share.P), ci(t.Share), t.Domains-t.Running)})
		mid := y + barHeight/2
		c.Lines = append(c.Lines, svgLine{x(t.Share.Low), mid, x(t.Share.High), mid, "c-ci"},
			svgLine{x(t.Share.Low), mid - 4, x(t.Share.Low), mid + 4, "c-ci"},
			svgLine{x(t.Share.High), mid - 4, x(t.Share.High), mid + 4, "c-ci"})
		c.value(i, x(t.Share.High), fmt.Sprintf("%d (%s)", t.Domains, pct(t.Share.P)))
	}
	c.axis(len(rows), plot, top, func(v float64) string { return f1(v*100) + "%" })
	return c
}

// openClosedChart: 100% stacked bars of AI domains (open only, both,
// closed only) for all evidence, running only, and each category.
func openClosedChart(r *Report) *svgChart {
	type bar struct {
		label string
		c     OpenClosedCounts
	}
	bars := []bar{{"all evidence", r.OpenClosed.All}, {"running only", r.OpenClosed.Running}}
	for i, cat := range r.OpenClosed.Categories {
		if i == maxBars-2 {
			break
		}
		bars = append(bars, bar{cat.Category, cat.All})
	}
	c := newHBar("chart-openclosed", "Open source vs closed AI (share of domains with AI)", len(bars))
	c.Legend = []legendItem{{"c-open", "open source only"}, {"c-both", "both"}, {"c-closed", "closed only"}}
	plot := chartWidth - labelWidth - valueWidth
	for i, b := range bars {
		y := c.rowY(i)
		c.label(i, b.label)
		x := labelWidth
		for _, seg := range []struct {
			n     int64
			class string
			what  string
		}{{b.c.OpenOnly, "c-open", "open source only"}, {b.c.Both, "c-both", "both"}, {b.c.ClosedOnly, "c-closed", "closed only"}} {
			if b.c.AIDomains == 0 {
				break
			}
			w := float64(seg.n) / float64(b.c.AIDomains) * plot
			c.Rects = append(c.Rects, svgRect{x, y, w, barHeight, seg.class, fmt.Sprintf("%s: %d of %d domains with AI %s", b.label, seg.n, b.c.AIDomains, seg.what)})
			x += w
		}
		c.value(i, labelWidth+plot, fmt.Sprintf("%s (%d)", b.c.Ratio, b.c.AIDomains))
	}
	c.axis(len(bars), plot, 1, func(v float64) string { return f1(v*100) + "%" })
	return c
}

// sizesChart: 100% stacked bars of matched companies by size bucket for the
// baseline and each group.
func sizesChart(r *Report) *svgChart {
	groups := append([]SizeRow{r.Companies.Baseline}, r.Companies.Groups...)
	if len(groups) > maxBars {
		groups = groups[:maxBars]
	}
	c := newHBar("chart-sizes", "Company size of matched companies (share per bucket)", len(groups))
	for i, b := range r.Companies.Buckets {
		c.Legend = append(c.Legend, legendItem{fmt.Sprintf("c-b%d", i), b})
	}
	plot := chartWidth - labelWidth - valueWidth
	for i, g := range groups {
		y := c.rowY(i)
		c.label(i, g.Group)
		x := labelWidth
		for j, b := range g.Buckets {
			w := b.Share * plot
			if w > 0 {
				c.Rects = append(c.Rects, svgRect{x, y, w, barHeight, fmt.Sprintf("c-b%d", j),
					fmt.Sprintf("%s: %d of %d matched companies have %s employees (%s)", g.Group, b.Companies, g.Matched, b.Bucket, pct(b.Share))})
			}
			x += w
		}
		c.value(i, labelWidth+plot, fmt.Sprintf("≤10: %s (n=%d)", pct(g.UpTo10.P), g.Matched))
	}
	c.axis(len(groups), plot, 1, func(v float64) string { return f1(v*100) + "%" })
	return c
}

// changeChart: per technology, domains lost to the left and gained to the
// right of a centre line.
func changeChart(r *Report) *svgChart {
	rows := r.Compare.Rows
	if len(rows) > maxBars {
		rows = rows[:maxBars]
	}
	c := newHBar("chart-change", "Adopters gained and lost between the scans", len(rows))
	c.Legend = []legendItem{{"c-lost", "lost"}, {"c-gained", "gained"}}
	var top int64 = 1
	for _, x := range rows {
		top = max(top, x.Gained, x.Lost)
	}
	scale := niceMax(float64(top))
	plot := chartWidth - labelWidth - valueWidth
	half := plot / 2
	mid := labelWidth + half
	for i, x := range rows {
		y := c.rowY(i)
		c.label(i, x.Technology)
		wl, wg := float64(x.Lost)/scale*half, float64(x.Gained)/scale*half
		c.Rects = append(c.Rects,
			svgRect{mid - wl, y, wl, barHeight, "c-lost", fmt.Sprintf("%s: lost %d domains", x.Technology, x.Lost)},
			svgRect{mid, y, wg, barHeight, "c-gained", fmt.Sprintf("%s: gained %d domains", x.Technology, x.Gained)})
		c.value(i, labelWidth+plot, fmt.Sprintf("+%d / −%d", x.Gained, x.Lost))
	}
	n := len(rows)
	c.Lines = append(c.Lines, svgLine{mid, chartTop - 4, mid, c.rowY(n) + 2, "axis"})
	for _, t := range []float64{-1, 0, 1} {
		xx := mid + t*half
		c.Texts = append(c.Texts, svgText{X: xx, Y: c.rowY(n) + 18, Anchor: "middle", Class: "tick", Text: strconv.FormatFloat(math.Abs(t*scale), 'f', 0, 64)})
	}
	return c
}

// charts returns the report's charts by name (section.Chart).
func charts(r *Report) map[string]*svgChart {
	m := map[string]*svgChart{"adoption": adoptionChart(r), "openclosed": openClosedChart(r)}
	if r.Companies.Available {
		m["sizes"] = sizesChart(r)
	}
	if r.Compare != nil {
		m["change"] = changeChart(r)
	}
	return m
}
