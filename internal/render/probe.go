package render

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/model"
)

// Probe is what the browser evaluates on every page: the catalog's js
// property paths and dom selectors with the attributes and properties their
// rules read. Build it once with NewProbe; it is immutable and safe for
// concurrent use.
type Probe struct {
	// Globals are js property paths ("botpress.init"), sorted, unique.
	Globals []string
	// Selectors are dom selectors as written in the catalog, sorted by CSS.
	Selectors []Selector

	script string // the evaluation expression, built by compile
}

// Selector is one dom selector and what its rules read from each match.
type Selector struct {
	CSS        string   `json:"css"`
	Text       bool     `json:"text,omitempty"`  // a text rule needs textContent
	Attributes []string `json:"attrs,omitempty"` // attribute names
	Properties []string `json:"props,omitempty"` // DOM property names
}

// Limits of what one page's evaluation returns.
const (
	maxElements  = 5    // elements reported per selector
	maxTextBytes = 2000 // textContent kept per element
	maxValue     = 1000 // characters kept per global, attribute or property value
)

// NewProbe collects the js paths and dom selectors of cat.
func NewProbe(cat *catalog.Catalog) *Probe {
	globals := map[string]bool{}
	sels := map[string]*Selector{}
	for _, t := range cat.Technologies() {
		for _, p := range t.Patterns {
			switch p.Signal {
			case catalog.SignalJS:
				globals[p.Key] = true
			case catalog.SignalDOM:
				s := sels[p.Key]
				if s == nil {
					s = &Selector{CSS: p.Key}
					sels[p.Key] = s
				}
				switch p.DOMRule {
				case catalog.DOMText:
					s.Text = true
				case catalog.DOMAttribute:
					if !slices.Contains(s.Attributes, p.Attr) {
						s.Attributes = append(s.Attributes, p.Attr)
					}
				case catalog.DOMProperty:
					if !slices.Contains(s.Properties, p.Attr) {
						s.Properties = append(s.Properties, p.Attr)
					}
				}
			}
		}
	}
	pr := &Probe{}
	for g := range globals {
		pr.Globals = append(pr.Globals, g)
	}
	slices.Sort(pr.Globals)
	for _, s := range sels {
		slices.Sort(s.Attributes)
		slices.Sort(s.Properties)
		pr.Selectors = append(pr.Selectors, *s)
	}
	slices.SortFunc(pr.Selectors, func(a, b Selector) int { return strings.Compare(a.CSS, b.CSS) })
	return pr
}

// evalJS runs in the page. It walks every global path (each step must be an
// object or function holding the next name; getters that throw count as
// undefined), queries every selector (selectors the browser rejects are
// skipped) and serialises the document. Values: strings and numbers as
// text, any other defined value (null included) as "". It uses only
// built-ins captured before the page could replace them where that is
// cheap; a page that sabotages the DOM API only hides itself.
const evalJS = `(function (spec, maxEl, maxText, maxVal, maxHTML) {
  var out = {g: {}, d: {}, h: "", u: ""};
  function str(v) {
    var t = typeof v;
    if (t === "string") return v.length > maxVal ? v.slice(0, maxVal) : v;
    if (t === "number") return String(v);
    return "";
  }
  function get(path) {
    var v = window, parts = path.split(".");
    for (var i = 0; i < parts.length; i++) {
      if (v === null || v === undefined) return undefined;
      var t = typeof v;
      if (t !== "object" && t !== "function") return undefined;
      if (!(parts[i] in v)) return undefined;
      v = v[parts[i]];
    }
    return v;
  }
  var gs = spec.globals || [];
  for (var i = 0; i < gs.length; i++) {
    try {
      var v = get(gs[i]);
      if (v !== undefined) out.g[gs[i]] = str(v);
    } catch (e) {}
  }
  var ss = spec.selectors || [];
  for (var j = 0; j < ss.length; j++) {
    var s = ss[j], els;
    try { els = document.querySelectorAll(s.css); } catch (e) { continue; }
    if (!els || !els.length) continue;
    var list = [];
    for (var k = 0; k < els.length && k < maxEl; k++) {
      var el = els[k], m = {};
      try {
        if (s.text) { var tc = (el.textContent || "").trim(); m.t = tc.length > maxText ? tc.slice(0, maxText) : tc; }
        if (s.attrs) {
          m.a = {};
          for (var a = 0; a < s.attrs.length; a++) {
            var av = el.getAttribute(s.attrs[a]);
            if (av !== null) m.a[s.attrs[a]] = str(av);
          }
        }
        if (s.props) {
          m.p = {};
          for (var p = 0; p < s.props.length; p++) {
            try { var pv = el[s.props[p]]; if (pv !== undefined) m.p[s.props[p]] = str(pv); } catch (e) {}
          }
        }
      } catch (e) {}
      list.push(m);
    }
    out.d[s.css] = list;
  }
  try {
    var de = document.documentElement;
    if (de) { var h = de.outerHTML; out.h = h.length > maxHTML ? h.slice(0, maxHTML) : h; }
  } catch (e) {}
  try { out.u = String(location.href); } catch (e) {}
  return out;
})`

// compile builds the evaluation expression for p with the given HTML cap.
func (p *Probe) compile(maxHTML int) string {
	spec := struct {
		Globals   []string   `json:"globals"`
		Selectors []Selector `json:"selectors"`
	}{p.Globals, p.Selectors}
	b, err := json.Marshal(spec)
	if err != nil {
		// Strings and slices of strings always marshal.
		panic("render: marshal probe: " + err.Error())
	}
	return fmt.Sprintf("%s(%s,%d,%d,%d,%d)", evalJS, b, maxElements, maxTextBytes, maxValue, maxHTML)
}

// evalResult is what evalJS returns.
type evalResult struct {
	Globals map[string]string     `json:"g"`
	DOM     map[string][]evalElem `json:"d"`
	HTML    string                `json:"h"`
	URL     string                `json:"u"`
}

type evalElem struct {
	Text  string            `json:"t"`
	Attrs map[string]string `json:"a"`
	Props map[string]string `json:"p"`
}

// decodeEval parses evalJS's JSON into the Rendered fields it fills
// (Globals, DOM, HTML) and the document URL. The bytes come from the page,
// so nothing is trusted: only keys the probe asked for are kept, strings are
// cut to the caps on UTF-8 boundaries and invalid UTF-8 is replaced.
func (p *Probe) decodeEval(b []byte, maxHTML int) (*model.Rendered, string, error) {
	var res evalResult
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, "", err
	}
	r := &model.Rendered{Globals: map[string]string{}, DOM: map[string][]model.DOMMatch{}}
	for _, g := range p.Globals {
		if v, ok := res.Globals[g]; ok {
			r.Globals[g] = clean(v, 4*maxValue)
		}
	}
	for _, s := range p.Selectors {
		els, ok := res.DOM[s.CSS]
		if !ok || len(els) == 0 {
			continue
		}
		els = els[:min(len(els), maxElements)]
		ms := make([]model.DOMMatch, len(els))
		for i, e := range els {
			ms[i].Text = clean(e.Text, 4*maxTextBytes)
			ms[i].Attributes = keep(e.Attrs, s.Attributes)
			ms[i].Properties = keep(e.Props, s.Properties)
		}
		r.DOM[s.CSS] = ms
	}
	if res.HTML != "" {
		r.HTML = []byte(clean(res.HTML, maxHTML))
	}
	return r, clean(res.URL, 8192), nil
}

// keep returns the entries of m whose keys are in names (nil when none).
func keep(m map[string]string, names []string) map[string]string {
	var out map[string]string
	for _, n := range names {
		if v, ok := m[n]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[n] = clean(v, 4*maxValue)
		}
	}
	return out
}

// clean cuts s to at most n bytes on a rune boundary and replaces invalid
// UTF-8.
func clean(s string, n int) string {
	if len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
