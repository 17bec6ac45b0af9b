package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
)

// FuzzWriteRoundTrip stores results whose strings are arbitrary bytes (as
// matches cut from untrusted pages are) and reads them back: a commit must
// never fail, and every string must come back as itself with invalid UTF-8
// replaced.
func FuzzWriteRoundTrip(f *testing.F) {
	f.Add("example.com", "cdn.openai.com", "header:server", "1.2", []byte("ok"))
	f.Add("a\x00b", "\xff\xfe", "", "", []byte{0xe2, 0x82})
	f.Add("日本.jp", "ユーザー\xe3\x83", "csp:script-src 'self'", "v\t2", []byte("\x00"))
	s := openTemp(f)
	w, err := s.NewWriter(WriterOptions{BatchSize: 1})
	if err != nil {
		f.Fatal(err)
	}
	line := 0
	f.Fuzz(func(t *testing.T, target, match, location, version string, extra []byte) {
		line++
		// A scan per input keeps each read-back small.
		fuzzRoundTrip(t, s, newScan(t, s, KindLive), w, line, target, match, location, version, extra)
	})
}

func fuzzRoundTrip(t *testing.T, s *Store, sc Scan, w *Writer, line int, target, match, location, version string, extra []byte) {
	ctx := context.Background()
	r := model.Result{ScanID: sc.ID, Target: fmt.Sprintf("%d %s", line, target), Input: string(extra), Line: line,
		Domain: target, Status: model.StatusOK, Error: location, Redirects: []string{match, string(extra)},
		DNS: []model.DNSRecord{{Name: target, Type: "TXT", Value: string(extra)}},
		Detections: []model.Detection{{Technology: "T" + match, Version: version, Categories: []string{location},
			Evidence: []model.Evidence{{Signal: "html", Pattern: string(extra), Match: match, Location: location}}}}}
	if err := w.Write(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := normalize(sanitized(r))
	var got []model.Result
	err := s.Results(ctx, sc.ID, func(x model.Result) error {
		if x.Line == line {
			got = append(got, x)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("line %d stored %d times", line, len(got))
	}
	if !reflect.DeepEqual(got[0], want) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", got[0], want)
	}
}

// sanitized is r as the store gives it back: strings valid UTF-8, empty
// optional strings and lists absent.
func sanitized(r model.Result) model.Result {
	v := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	r.Target, r.Input, r.Domain, r.Error = v(r.Target), v(r.Input), v(r.Domain), v(r.Error)
	var red []string
	for _, s := range r.Redirects {
		red = append(red, v(s))
	}
	r.Redirects = red
	var dns []model.DNSRecord
	for _, d := range r.DNS {
		dns = append(dns, model.DNSRecord{Name: v(d.Name), Type: v(d.Type), Value: v(d.Value)})
	}
	r.DNS = dns
	var ds []model.Detection
	for _, d := range r.Detections {
		d.Technology, d.Version = v(d.Technology), v(d.Version)
		var cats []string
		for _, c := range d.Categories {
			cats = append(cats, v(c))
		}
		d.Categories = cats
		var evs []model.Evidence
		for _, e := range d.Evidence {
			e.Pattern, e.Match, e.Location = v(e.Pattern), v(e.Match), v(e.Location)
			evs = append(evs, e)
		}
		d.Evidence = evs
		ds = append(ds, d)
	}
	r.Detections = ds
	return r
}
