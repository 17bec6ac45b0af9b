package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

func det(tech, version string, conf int, ev ...model.Evidence) model.Detection {
	d := model.Detection{Technology: tech, Version: version, Categories: []string{"AI chatbot"}, AI: true,
		License: "proprietary", Confidence: conf, Evidence: ev}
	if cs := d.Classes(); len(cs) > 0 {
		d.EvidenceClass = cs[0]
	}
	return d
}

func ev(signal, match, location string, class model.EvidenceClass) model.Evidence {
	return model.Evidence{Signal: signal, Pattern: match, Match: match, Location: location, Class: class, Via: model.ViaStatic}
}

func TestFinalizeArchiveScan(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	sc := newScan(t, s, KindWARC)
	w, err := s.NewWriter(WriterOptions{BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	at := func(h int) time.Time { return baseTime.Add(time.Duration(h) * time.Hour) }
	page := func(target, url string, h int, ref string, ds ...model.Detection) Page {
		return Page{Target: target, Domain: target, Host: "www." + target, URL: url, HTTPStatus: 200, Time: at(h), Ref: ref, Detections: ds}
	}
	batches := []PageBatch{
		{ScanID: sc.ID, Source: "a.warc.gz", NextOffset: 100, Counters: map[string]int64{"broken.gzip": 1}, Pages: []Page{
			page("shop.example", "https://www.shop.example/", 3, "a.warc.gz@0",
				det("Intercom", "1.2", 50, ev("scriptSrc", "widget.intercom.io", "", model.ClassPageEmbed))),
			page("shop.example", "https://www.shop.example/about", 1, "a.warc.gz@50",
				det("Intercom", "1.2.3", 80, ev("scriptSrc", "widget.intercom.io", "https://widget.intercom.io/x.js", model.ClassPageEmbed)),
				det("OpenAI", "", 100, ev("csp", "api.openai.com", "csp:connect-src", model.ClassCSP))),
		}},
		{ScanID: sc.ID, Source: "a.warc.gz", NextOffset: 300, Done: true, Counters: map[string]int64{"broken.gzip": 2, "records": 5}, Pages: []Page{
			page("shop.example", "https://www.shop.example/x", 5, "a.warc.gz@100",
				det("Intercom", "2.0", 60, ev("scriptSrc", "widget.intercom.io", "a.warc.gz@100 https://widget.intercom.io/y.js", model.ClassPageEmbed),
					ev("headers", "intercom", "header:x-intercom", model.ClassHeader))),
			{Target: "broken.example", Domain: "broken.example", Host: "broken.example", Status: model.StatusParseError,
				Error: "bad http header", Time: at(2), Ref: "a.warc.gz@200"},
		}},
		{ScanID: sc.ID, Source: "b.warc.gz", NextOffset: 40, Pages: []Page{
			page("blog.example", "https://blog.example/", 4, "b.warc.gz@0"),
			{Target: "broken.example", Domain: "broken.example", Host: "broken.example", Status: model.StatusNotCaptured,
				Time: at(9), Ref: "b.warc.gz@20"},
		}},
	}
	for _, b := range batches {
		if err := w.WritePages(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cps, err := s.Checkpoints(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, b := cps["a.warc.gz"], cps["b.warc.gz"]
	if len(cps) != 2 || a.NextOffset != 300 || !a.Done || a.Pages != 4 || b.NextOffset != 40 || b.Done || b.Pages != 2 ||
		!reflect.DeepEqual(a.Counters, map[string]int64{"broken.gzip": 3, "records": 5}) || len(b.Counters) != 0 {
		t.Errorf("checkpoints %+v", cps)
	}

	st, err := s.FinalizeArchiveScan(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st != (FinalizeStats{Pages: 6, Results: 3, Detections: 2, Evidence: 3}) {
		t.Errorf("stats %+v", st)
	}
	first := collect(t, s, sc.ID)
	byTarget := map[string]model.Result{}
	for _, r := range first {
		byTarget[r.Target] = r
	}
	shop := byTarget["shop.example"]
	wantShop := model.Result{
		ScanID: sc.ID, Target: "shop.example", Domain: "shop.example", Status: model.StatusOK,
		URL: "https://www.shop.example/x", HTTPStatus: 200, Pages: 3, FirstSeen: at(1), LastSeen: at(5), Time: at(5),
		Detections: []model.Detection{
			{Technology: "Intercom", Version: "1.2.3", Categories: []string{"AI chatbot"}, License: "proprietary", AI: true,
				Confidence: 80, EvidenceClass: model.ClassPageEmbed, Evidence: []model.Evidence{
					// Earliest capture of the pattern (page at hour 1), location names the record.
					{Signal: "scriptSrc", Pattern: "widget.intercom.io", Match: "widget.intercom.io",
						Location: "a.warc.gz@50 https://widget.intercom.io/x.js", Class: model.ClassPageEmbed, Via: model.ViaStatic},
					{Signal: "headers", Pattern: "intercom", Match: "intercom", Location: "a.warc.gz@100 header:x-intercom",
						Class: model.ClassHeader, Via: model.ViaStatic},
				}},
			{Technology: "OpenAI", Categories: []string{"AI chatbot"}, License: "proprietary", AI: true, Confidence: 100,
				EvidenceClass: model.ClassCSP, Evidence: []model.Evidence{
					{Signal: "csp", Pattern: "api.openai.com", Match: "api.openai.com", Location: "a.warc.gz@50 csp:connect-src",
						Class: model.ClassCSP, Via: model.ViaStatic},
				}},
		},
	}
	if !reflect.DeepEqual(shop, wantShop) {
		t.Errorf("shop.example:\n got %+v\nwant %+v", shop, wantShop)
	}
	broken := byTarget["broken.example"]
	if broken.Status != model.StatusNotCaptured || broken.Pages != 2 || len(broken.Detections) != 0 {
		t.Errorf("broken.example: %+v (want the latest page's status)", broken)
	}
	if blog := byTarget["blog.example"]; blog.Status != model.StatusOK || blog.Pages != 1 || blog.URL != "https://blog.example/" {
		t.Errorf("blog.example: %+v", blog)
	}
	var running, classes string
	if err := s.DB().QueryRow(`SELECT string_agg(technology || '=' || running, ',' ORDER BY technology),
		string_agg(array_to_string(classes, '+'), ',' ORDER BY technology) FROM detections WHERE scan_id = ?`, sc.ID).Scan(&running, &classes); err != nil {
		t.Fatal(err)
	}
	if running != "Intercom=true,OpenAI=false" || classes != "page-embed+header,csp" {
		t.Errorf("running %q classes %q", running, classes)
	}
	got, err := s.Scan(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ArchivesRead != 1 || got.Counters["broken.gzip"] != 3 || got.Counters["records"] != 5 {
		t.Errorf("scan after finalize: %+v", got)
	}

	// Idempotent: a second run gives the same results.
	if _, err := s.FinalizeArchiveScan(ctx, sc.ID); err != nil {
		t.Fatal(err)
	}
	second := collect(t, s, sc.ID)
	if !reflect.DeepEqual(sortedByTarget(first), sortedByTarget(second)) {
		t.Errorf("second finalize differs:\n%+v\n%+v", first, second)
	}
	var n int
	if err := s.DB().QueryRow(`SELECT (SELECT count(*) FROM results) + (SELECT count(*) FROM detections) + (SELECT count(*) FROM evidence)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3+2+3 {
		t.Errorf("%d rows after two finalizes, want 8", n)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func sortedByTarget(rs []model.Result) map[string]model.Result {
	m := map[string]model.Result{}
	for _, r := range rs {
		m[r.Target] = r
	}
	return m
}

func TestPageBatchValidation(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	w, err := s.NewWriter(WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i, b := range []PageBatch{
		{Source: "a"},
		{ScanID: 1},
		{ScanID: 1, Source: "a", NextOffset: -1},
		{ScanID: 1, Source: "a", Pages: []Page{{}}},
		{ScanID: 1, Source: "a", Pages: []Page{{Target: "x", Status: "weird"}}},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if err := w.WritePages(ctx, b); err == nil {
				t.Errorf("WritePages(%+v) accepted", b)
			}
		})
	}
}

// TestFinalizeIgnoresArrivalOrder: captures of one target in the same
// second, from different archives, give the same result whichever archive
// a worker delivered first.
func TestFinalizeIgnoresArrivalOrder(t *testing.T) {
	ctx := context.Background()
	batch := func(scanID int64, src, url, version string) PageBatch {
		return PageBatch{ScanID: scanID, Source: src, NextOffset: 10, Done: true, Pages: []Page{{
			Target: "same.example", Domain: "same.example", Host: "same.example", URL: url, HTTPStatus: 200,
			Time: baseTime, Ref: src + "@0",
			Detections: []model.Detection{det("Intercom", version, 50,
				ev("scriptSrc", "widget.intercom.io", url, model.ClassPageEmbed))},
		}}}
	}
	var got [][]model.Result
	for _, order := range [][]string{{"a.warc.gz", "b.warc.gz"}, {"b.warc.gz", "a.warc.gz"}} {
		s := openTemp(t)
		sc := newScan(t, s, KindWARC)
		w, err := s.NewWriter(WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range order {
			if err := w.WritePages(ctx, batch(sc.ID, src, "https://same.example/"+src, "1."+src[:1])); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(ctx); err != nil { // separate commits: arrival order decides pid
				t.Fatal(err)
			}
		}
		if _, err := s.FinalizeArchiveScan(ctx, sc.ID); err != nil {
			t.Fatal(err)
		}
		got = append(got, collect(t, s, sc.ID))
	}
	if len(got[0]) != 1 || !reflect.DeepEqual(got[0], got[1]) {
		t.Errorf("results depend on arrival order:\n a first %+v\n b first %+v", got[0], got[1])
	}
}
