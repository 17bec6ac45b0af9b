package report_test

import (
	"context"
	"iter"
	"math"
	"path/filepath"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/report"
	"github.com/aicensus/aicensus/internal/store"
)

// Technologies of the hand-made store.
var (
	botpress = model.Detection{Technology: "Botpress", Categories: []string{"AI chatbot", "Bot framework"}, OpenSource: true, License: "MIT", AI: true, Confidence: 100}
	openai   = model.Detection{Technology: "OpenAI", Categories: []string{"AI API"}, License: "proprietary", AI: true, Confidence: 100}
	webui    = model.Detection{Technology: "Open WebUI", Categories: []string{"AI chat UI"}, OpenSource: true, License: "BSD-3-Clause", AI: true, Confidence: 100}
	ga       = model.Detection{Technology: "Google Analytics", Categories: []string{"Analytics"}, License: "proprietary", Confidence: 100}
)

// det returns d with one piece of evidence of class c and version v.
func det(d model.Detection, c model.EvidenceClass, v string) model.Detection {
	d.Version = v
	d.EvidenceClass = c
	d.Evidence = []model.Evidence{{Signal: "html", Pattern: "p", Match: "m", Location: "x", Class: c, Via: model.ViaStatic}}
	return d
}

func res(target, domain string, st model.Status, ds ...model.Detection) model.Result {
	if ds == nil {
		ds = []model.Detection{}
	}
	return model.Result{Target: target, Domain: domain, Status: st, Detections: ds}
}

// handmadeStore builds two scans whose every number is computed by hand in
// the tests below, plus company data.
//
// Scan 1: ok domains a b c d e h i (7; c.com has two ok targets), f.com
// dns-only (not ok, OpenAI DNS record), g.com timeout, one invalid line.
//
//	a.com: Botpress embed v2, OpenAI dns-only     b.com: OpenAI api call
//	c.com: Open WebUI app (chat.c.com), Botpress csp (c.com)
//	e.com: Botpress embed v3                      h.com: Google Analytics
//	i.com: OpenAI dns-only                        d.com: nothing
//
// Scan 2: a (Botpress embed), b (OpenAI api call + Botpress embed), c
// timeout, e (nothing), i (OpenAI dns), j (Botpress embed, new).
func handmadeStore(t *testing.T) (*store.Store, int64, int64) {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "hand.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	scan1 := []model.Result{
		res("a.com", "a.com", model.StatusOK, det(botpress, model.ClassPageEmbed, "2"), det(openai, model.ClassDNSVerification, "")),
		res("b.com", "b.com", model.StatusOK, det(openai, model.ClassBrowserAPICall, "")),
		res("chat.c.com", "c.com", model.StatusOK, det(webui, model.ClassSelfHostedApp, "")),
		res("c.com", "c.com", model.StatusOK, det(botpress, model.ClassCSP, "")),
		res("d.com", "d.com", model.StatusOK),
		res("e.com", "e.com", model.StatusOK, det(botpress, model.ClassPageEmbed, "3")),
		res("f.com", "f.com", model.StatusDNSNoAddress, det(openai, model.ClassDNSVerification, "")),
		res("g.com", "g.com", model.StatusTimeout),
		res("h.com", "h.com", model.StatusOK, det(ga, model.ClassPageEmbed, "")),
		res("i.com", "i.com", model.StatusOK, det(openai, model.ClassDNSVerification, "")),
		res("not a domain", "", model.StatusInvalidInput),
	}
	scan2 := []model.Result{
		res("a.com", "a.com", model.StatusOK, det(botpress, model.ClassPageEmbed, "2")),
		res("b.com", "b.com", model.StatusOK, det(botpress, model.ClassPageEmbed, "3"), det(openai, model.ClassBrowserAPICall, "")),
		res("c.com", "c.com", model.StatusTimeout),
		res("e.com", "e.com", model.StatusOK),
		res("i.com", "i.com", model.StatusOK, det(openai, model.ClassDNSVerification, "")),
		res("j.com", "j.com", model.StatusOK, det(botpress, model.ClassPageEmbed, "")),
	}
	var ids []int64
	for i, results := range [][]model.Result{scan1, scan2} {
		sc, err := s.CreateScan(ctx, store.ScanSpec{Kind: store.KindLive, Input: []string{"list1.txt", "list2.txt"}[i], CatalogVersion: "test-catalog"})
		if err != nil {
			t.Fatal(err)
		}
		w, err := s.NewWriter(store.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for j, r := range results {
			r.ScanID, r.Line = sc.ID, j+1
			if err := w.Write(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.SetScanState(ctx, sc.ID, store.ScanDone); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sc.ID)
	}
	companies := []store.Company{
		{Domain: "a.com", Employees: 5, Bucket: "1-10"},
		{Domain: "b.com", Bucket: "11-50"},
		{Domain: "c.com", Bucket: "1-10"},
		{Domain: "e.com", Bucket: "10001+"},
		{Domain: "h.com", Bucket: "51-200"},
		{Domain: "zzz.com", Bucket: "1-10"},
	}
	var seq iter.Seq2[store.Company, error] = func(yield func(store.Company, error) bool) {
		for _, c := range companies {
			if !yield(c, nil) {
				return
			}
		}
	}
	if _, err := s.ImportCompanies(ctx, store.CompanyImport{Source: "hand", File: "hand.csv"}, seq); err != nil {
		t.Fatal(err)
	}
	return s, ids[0], ids[1]
}

func near(a, b float64) bool { return math.Abs(a-b) < 5e-7 }

func checkProp(t *testing.T, what string, p report.Proportion, k, n int64, low, high float64) {
	t.Helper()
	if p.K != k || p.N != n || !near(p.P, float64(k)/float64(n)) || !near(p.Low, low) || !near(p.High, high) {
		t.Errorf("%s = %+v, want %d/%d [%.6f, %.6f]", what, p, k, n, low, high)
	}
}

func tech(t *testing.T, r *report.Report, name string) report.TechRow {
	t.Helper()
	for _, x := range r.Technologies {
		if x.Technology == name {
			return x
		}
	}
	t.Fatalf("no technology %s in %+v", name, r.Technologies)
	return report.TechRow{}
}

func TestHandmadeNumbers(t *testing.T) {
	s, scan1, scan2 := handmadeStore(t)
	r, err := report.Build(context.Background(), s, report.Options{ScanID: scan1, CompareBefore: scan1, CompareAfter: scan2, Universe: 1000})
	if err != nil {
		t.Fatal(err)
	}
	p := r.Population
	if p.OKDomains != 7 || p.Domains != 9 || p.ExcludedAIDomains != 1 || r.Scan.Results != 11 {
		t.Errorf("population %+v, results %d", p, r.Scan.Results)
	}
	// Wilson bounds computed by hand (see stats_test.go for the formula check).
	checkProp(t, "AI", p.AI, 5, 7, 0.358934, 0.917781)
	checkProp(t, "AI running", p.AIRunning, 4, 7, 0.250458, 0.841780)
	if len(r.Technologies) != 3 || r.Technologies[0].Technology != "Botpress" || r.Technologies[1].Technology != "OpenAI" {
		t.Fatalf("technologies (AI only, by domains): %+v", r.Technologies)
	}
	bp := tech(t, r, "Botpress")
	checkProp(t, "Botpress share", bp.Share, 3, 7, 0.158220, 0.749542)
	checkProp(t, "Botpress running", bp.RunningShare, 2, 7, 0.082219, 0.641066)
	if bp.Class(model.ClassPageEmbed) != 2 || bp.Class(model.ClassCSP) != 1 || len(bp.ByClass) != 2 || !bp.OpenSource {
		t.Errorf("Botpress classes %+v", bp.ByClass)
	}
	if len(bp.Versions) != 3 || bp.Versions[0].Domains != 1 {
		t.Errorf("Botpress versions %+v", bp.Versions)
	}
	oa := tech(t, r, "OpenAI")
	if oa.Domains != 3 || oa.Running != 1 || oa.Class(model.ClassDNSVerification) != 2 || oa.Class(model.ClassBrowserAPICall) != 1 {
		t.Errorf("OpenAI %+v", oa)
	}
	if w := tech(t, r, "Open WebUI"); w.Domains != 1 || w.Class(model.ClassSelfHostedApp) != 1 {
		t.Errorf("Open WebUI %+v", w)
	}
	// Open vs closed: open {a, c, e}, closed {a, b, i}, both {a};
	// running: open {a, c, e}, closed {b}, both none.
	oc := r.OpenClosed
	if oc.All.AIDomains != 5 || oc.All.Open != 3 || oc.All.Closed != 3 || oc.All.Both != 1 || oc.All.Ratio != "1:1" || oc.All.OpenOnly != 2 {
		t.Errorf("open/closed all %+v", oc.All)
	}
	if oc.Running.AIDomains != 4 || oc.Running.Open != 3 || oc.Running.Closed != 1 || oc.Running.Both != 0 || oc.Running.Ratio != "1:3" {
		t.Errorf("open/closed running %+v", oc.Running)
	}
	cats := map[string]report.OpenClosedCounts{}
	for _, c := range oc.Categories {
		cats[c.Category] = c.All
	}
	if len(cats) != 4 || cats["AI API"].Closed != 3 || cats["AI chatbot"].Open != 3 || cats["AI chatbot"].Ratio != "0:3" || cats["AI chat UI"].Open != 1 {
		t.Errorf("categories %+v", oc.Categories)
	}
	// Companies: baseline a b c e h matched of 7 OK domains.
	c := r.Companies
	if !c.Available || c.Companies != 6 || len(c.Sources) != 1 {
		t.Fatalf("companies %+v", c)
	}
	checkProp(t, "baseline match rate", c.Baseline.MatchRate, 5, 7, 0.358934, 0.917781)
	checkProp(t, "baseline ≤10", c.Baseline.UpTo10, 2, 5, 0.117621, 0.769276)
	checkProp(t, "baseline ≤50", c.Baseline.UpTo50, 3, 5, 0.230724, 0.882379)
	if c.Baseline.Buckets[0].Share != 0.4 || c.Baseline.Buckets[1].Share != 0.2 || c.Baseline.Buckets[7].Share != 0.2 {
		t.Errorf("baseline buckets %+v", c.Baseline.Buckets)
	}
	groups := map[string]report.SizeRow{}
	for _, g := range c.Groups {
		groups[g.Group] = g
	}
	checkProp(t, "Botpress ≤10", groups["Botpress"].UpTo10, 2, 3, 0.207660, 0.938508)
	if g := groups["any closed AI"]; g.Domains != 3 || g.Matched != 2 || g.UpTo10.P != 0.5 || g.UpTo50.P != 1 {
		t.Errorf("closed group %+v", g)
	}
	if g := groups["any AI"]; g.Domains != 5 || g.Matched != 4 {
		t.Errorf("AI group %+v", g)
	}
	// Compare over a b e i (ok in both).
	cmp := r.Compare
	if cmp == nil || cmp.CommonOK != 4 {
		t.Fatalf("compare %+v", cmp)
	}
	rows := map[string]report.ChangeRow{}
	for _, x := range cmp.Rows {
		rows[x.Technology] = x
	}
	if x := rows["Botpress"]; x.Before != 2 || x.After != 2 || x.Gained != 1 || x.Lost != 1 || x.Net != 0 {
		t.Errorf("Botpress change %+v", x)
	}
	if x := rows["OpenAI"]; x.Before != 3 || x.After != 2 || x.Gained != 0 || x.Lost != 1 {
		t.Errorf("OpenAI change %+v", x)
	}
	if _, ok := rows["Open WebUI"]; ok || len(rows) != 2 {
		t.Errorf("change rows %+v (c.com failed in scan 2)", cmp.Rows)
	}
	// Universe: 9 sampled (a b c d e f g h i) of 1000.
	u := r.Universe
	if u == nil || u.Sample != 9 || !near(u.FPC, math.Sqrt(991.0/999.0)) {
		t.Fatalf("universe %+v", u)
	}
	for _, x := range u.Rows {
		if x.Group == "Botpress" {
			checkProp(t, "universe Botpress", x.Share, 3, 9, 0.120584, 0.645798)
			if math.Abs(x.Estimate-333.3333) > 0.001 || math.Abs(x.Low-120.5838) > 0.001 || math.Abs(x.High-645.7979) > 0.001 {
				t.Errorf("universe Botpress %+v", x)
			}
		}
	}
}

func TestHandmadeFilters(t *testing.T) {
	s, scan1, _ := handmadeStore(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		f         report.Filter
		ok, ai    int64
		botpress  int64
		techs     int
		allTechs  bool
		wantRatio string
	}{
		{name: "running", f: report.Filter{Evidence: "running"}, ok: 7, ai: 4, botpress: 2, techs: 3, wantRatio: "1:3"},
		{name: "dns class", f: report.Filter{Evidence: "dns-verification"}, ok: 7, ai: 2, botpress: 0, techs: 1, wantRatio: "2:0"},
		{name: "open", f: report.Filter{Open: "open"}, ok: 7, ai: 3, botpress: 3, techs: 2, wantRatio: "0:3"},
		{name: "category", f: report.Filter{Category: "AI API"}, ok: 7, ai: 3, botpress: 0, techs: 1, wantRatio: "3:0"},
		{name: "size 1-10", f: report.Filter{Size: "1-10"}, ok: 2, ai: 2, botpress: 2, techs: 3, wantRatio: "1:2"},
		{name: "all technologies", allTechs: true, ok: 7, ai: 5, botpress: 3, techs: 4, wantRatio: "1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := report.Build(ctx, s, report.Options{ScanID: scan1, Filter: tc.f, AllTechnologies: tc.allTechs})
			if err != nil {
				t.Fatal(err)
			}
			var bp int64
			for _, x := range r.Technologies {
				if x.Technology == "Botpress" {
					bp = x.Domains
				}
			}
			if r.Population.OKDomains != tc.ok || r.Population.AI.K != tc.ai || bp != tc.botpress || len(r.Technologies) != tc.techs || r.OpenClosed.All.Ratio != tc.wantRatio {
				t.Errorf("ok %d ai %d botpress %d techs %d ratio %s; want %d %d %d %d %s",
					r.Population.OKDomains, r.Population.AI.K, bp, len(r.Technologies), r.OpenClosed.All.Ratio, tc.ok, tc.ai, tc.botpress, tc.techs, tc.wantRatio)
			}
		})
	}
	if _, err := report.Build(ctx, s, report.Options{Filter: report.Filter{Evidence: "bogus"}}); err == nil {
		t.Error("bad filter accepted")
	}
	if _, err := report.Build(ctx, s, report.Options{ScanID: 99}); err == nil {
		t.Error("missing scan accepted")
	}
	if _, err := report.Build(ctx, s, report.Options{ScanID: scan1, Universe: 5}); err == nil {
		t.Error("universe smaller than the sample accepted")
	}
}
