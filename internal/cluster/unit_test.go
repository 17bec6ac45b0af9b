package cluster

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/scan"
	"github.com/aicensus/aicensus/internal/store"
)

const testKey = "0123456789abcdef"

func TestDecodeUnit(t *testing.T) {
	valid := Unit{Version: 1, Kind: KindDomains, ID: testKey + ".100.3", Scan: testKey,
		Items: []Item{{Line: 4, Raw: "Example.com", Host: "example.com", Domain: "example.com"}, {Line: 5, Raw: "x y", Err: "bad"}}}
	mutate := func(f func(u *Unit)) []byte {
		u := valid
		u.Items = append([]Item(nil), valid.Items...)
		f(&u)
		b, _ := json.Marshal(u)
		return b
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr string
		unsup   bool
	}{
		{"valid", mutate(func(*Unit) {}), "", false},
		{"not json", []byte("{"), "decode unit", false},
		{"newer version", mutate(func(u *Unit) { u.Version = 2 }), "format version 2", true},
		{"no version", mutate(func(u *Unit) { u.Version = 0 }), "format version 0", true},
		{"id of another scan", mutate(func(u *Unit) { u.ID = "fedcba9876543210.100.3" }), "malformed id", false},
		{"bad key", mutate(func(u *Unit) { u.Scan, u.ID = "../x", "../x.1" }), "malformed id", false},
		{"line 0", mutate(func(u *Unit) { u.Items[0].Line = 0 }), "line 0", false},
		{"valid item without host", mutate(func(u *Unit) { u.Items[0].Host = "" }), "without host", false},
		{"warc without source", mutate(func(u *Unit) { u.Kind, u.Items = KindWARC, nil }), "without source", false},
		{"warc", mutate(func(u *Unit) { u.Kind, u.Items, u.WARC = KindWARC, nil, &WARCFile{Source: "a.warc.gz"} }), "", false},
		{"unknown kind", mutate(func(u *Unit) { u.Kind = "pdf" }), `kind "pdf"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := decodeUnit(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.name == "valid" && !reflect.DeepEqual(*u, valid) {
					t.Errorf("round trip: %+v, want %+v", *u, valid)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if errors.Is(err, ErrUnsupportedUnit) != tt.unsup {
				t.Errorf("errors.Is(ErrUnsupportedUnit) = %v", !tt.unsup)
			}
		})
	}
}

func TestItemRoundTrip(t *testing.T) {
	it := Item{Line: 9, Raw: "bad line", Err: "not a domain"}
	p := it.pipelineItem()
	if p.Err == nil || p.Err.Error() != "not a domain" || itemOf(p) != it {
		t.Errorf("invalid item round trip: %+v -> %+v", it, itemOf(p))
	}
	ok := Item{Line: 1, Raw: "https://A.test/x", Host: "a.test", Domain: "a.test"}
	if p := ok.pipelineItem(); p.Err != nil || itemOf(p) != ok {
		t.Errorf("valid item round trip: %+v", itemOf(p))
	}
}

func FuzzDecodeUnit(f *testing.F) {
	b, _ := json.Marshal(Unit{Version: 1, Kind: KindDomains, ID: testKey + ".2.0", Scan: testKey, Items: []Item{{Line: 1, Raw: "a.test", Host: "a.test", Domain: "a.test"}}})
	f.Add(b)
	f.Add([]byte(`{"v":1,"kind":"warc","id":"` + testKey + `.1.0","scan":"` + testKey + `","warc":{"source":"x"}}`))
	f.Add([]byte(`{"v":1,"kind":"domains","items":[{"l":-1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := decodeUnit(b)
		if err != nil {
			return
		}
		// A unit that passes the checks is usable and re-encodes to the
		// same unit.
		for _, it := range u.Items {
			if it.Line < 1 || it.Err == "" && it.Host == "" {
				t.Fatalf("accepted item %+v", it)
			}
			_ = it.pipelineItem()
		}
		again, err := encodeUnit(u)
		if err != nil {
			t.Fatal(err)
		}
		u2, err := decodeUnit(again)
		if len(u.Items) == 0 {
			u.Items = nil // omitted when empty
		}
		if err != nil || !reflect.DeepEqual(u, u2) {
			t.Fatalf("re-decode: %v %+v %+v", err, u, u2)
		}
	})
}

func sampleResults(n int) []model.Result {
	out := make([]model.Result, n)
	for i := range out {
		out[i] = model.Result{
			ScanID: 3, Target: "site" + strings.Repeat("x", i%7) + ".test", Line: i + 1, Domain: "site.test", Status: model.StatusOK,
			URL: "https://site.test/", HTTPStatus: 200, Redirects: []string{"http://site.test/"},
			Time: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), DurationMS: 12,
			DNS: []model.DNSRecord{{Name: "site.test", Type: "TXT", Value: "openai-domain-verification=dv-x"}},
			Detections: []model.Detection{{Technology: "OpenAI", Categories: []string{"AI"}, AI: true, Confidence: 100,
				EvidenceClass: model.ClassDNSVerification, Evidence: []model.Evidence{{Signal: "dns", Pattern: "p", Match: fmt.Sprintf("dv-%x", sha256.Sum256([]byte{byte(i), byte(i >> 8)})),
					Location: "dns:TXT site.test", Class: model.ClassDNSVerification, Via: model.ViaStatic}}}},
		}
		out[i].Target = strings.Replace(out[i].Target, "site", "site"+string(rune('a'+i%26)), 1)
	}
	return out
}

func TestCodecRoundTripAndSplit(t *testing.T) {
	cd, err := newCodec()
	if err != nil {
		t.Fatal(err)
	}
	defer cd.close()
	in := sampleResults(200)
	for _, limit := range []int{1 << 20, 900, 300} {
		msgs, err := cd.encode(in, limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []model.Result
		for _, m := range msgs {
			if len(m) > limit && limit > 300 {
				t.Errorf("limit %d: message of %d bytes", limit, len(m))
			}
			rs, err := cd.decode(m)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, rs...)
		}
		if len(got) != len(in) {
			t.Fatalf("limit %d: %d results back, want %d", limit, len(got), len(in))
		}
		for i := range in {
			if limit == 300 {
				// Each result alone is over 300 bytes: it must come back as
				// an internal error saying why, never be dropped.
				if got[i].Line != in[i].Line || got[i].Status != model.StatusInternalError || !strings.Contains(got[i].Error, "message limit") {
					t.Fatalf("too large result %d: %+v", i, got[i])
				}
				continue
			}
			if !reflect.DeepEqual(got[i], in[i]) {
				t.Fatalf("limit %d result %d:\n got %+v\nwant %+v", limit, i, got[i], in[i])
			}
		}
		if limit == 900 && len(msgs) < 2 {
			t.Errorf("limit %d: %d message(s), want the results split", limit, len(msgs))
		}
		t.Logf("limit %d: %d messages", limit, len(msgs))
	}
}

func TestCodecRejects(t *testing.T) {
	cd, _ := newCodec()
	defer cd.close()
	for name, rs := range map[string][]model.Result{
		"line 0":       {{ScanID: 1, Target: "a.test", Status: model.StatusOK}},
		"no target":    {{ScanID: 1, Line: 1, Status: model.StatusOK}},
		"odd status":   {{ScanID: 1, Line: 1, Target: "a.test", Status: "fine"}},
		"later broken": {{ScanID: 1, Line: 1, Target: "a.test", Status: model.StatusOK}, {ScanID: 1, Line: -2, Target: "b.test", Status: model.StatusOK}},
	} {
		b, _ := json.Marshal(rs)
		if _, err := cd.decode(cd.enc.EncodeAll(b, nil)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := cd.decode([]byte("not zstd")); err == nil {
		t.Error("garbage accepted")
	}
}

func FuzzDecodeResults(f *testing.F) {
	cd, _ := newCodec()
	defer cd.close()
	msgs, _ := cd.encode(sampleResults(3), 1<<20)
	f.Add(msgs[0])
	f.Add(cd.enc.EncodeAll([]byte(`[{"target":"a","line":1,"status":"ok","detections":null}]`), nil))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0x58})
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := cd.decode(b)
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.Line < 1 || r.Target == "" || !r.Status.Valid() || r.Detections == nil {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}

func TestUnitIndex(t *testing.T) {
	for id, want := range map[string]int{testKey + ".100.7": 7, testKey + ".100.0": 0} {
		if k, ok := unitIndex(id, testKey, 100); !ok || k != want {
			t.Errorf("%s: %d %v", id, k, ok)
		}
	}
	for _, id := range []string{testKey + ".50.7", "fedcba9876543210.100.7", testKey + ".100.x", testKey + ".100.-1", "", testKey} {
		if _, ok := unitIndex(id, testKey, 100); ok {
			t.Errorf("%q accepted", id)
		}
	}
}

func TestScanKey(t *testing.T) {
	at := time.Date(2026, 11, 25, 1, 2, 3, 4000, time.UTC)
	k := scanKey(7, "fp", at)
	if !validKey(k) || k != scanKey(7, "fp", at) {
		t.Fatalf("key %q not valid or not stable", k)
	}
	for _, other := range []string{scanKey(8, "fp", at), scanKey(7, "fq", at), scanKey(7, "fp", at.Add(time.Microsecond))} {
		if other == k {
			t.Errorf("different scans share key %s", k)
		}
	}
}

// TestUnitTable cuts an input into units as the coordinator does (lines
// with comments, blanks, duplicates and invalid entries) and follows their
// completion.
func TestUnitTable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "in.txt")
	lines := []string{"a.test", "# c", "b.test", "", "a.test", "bad domain!", "c.test", "d.test", "e.test"}
	os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644)
	stored := &store.LineSet{}
	stored.Add(1) // a.test
	stored.Add(3) // b.test
	tab, err := buildUnits(scan.LiveConfig{Input: p}, 2, stored)
	if err != nil {
		t.Fatal(err)
	}
	// Items: lines 1, 3, 6, 7, 8, 9 (line 5 is a duplicate).
	want := []unitInfo{{first: 1, n: 2, initial: 2, done: 2}, {first: 6, n: 2}, {first: 8, n: 2}}
	if !reflect.DeepEqual(tab.units, want) || tab.items != 6 || tab.initiallyDone != 2 || tab.doneUnits != 1 {
		t.Fatalf("table %+v items %d done %d", tab.units, tab.items, tab.initiallyDone)
	}
	for line, k := range map[int]int{1: 0, 3: 0, 6: 1, 7: 1, 8: 2, 9: 2, 100: 2} {
		if got := tab.unitOf(line); got != k {
			t.Errorf("unitOf(%d) = %d, want %d", line, got, k)
		}
	}
	tab.failed[1] = "boom"
	tab.handle(8)
	tab.handle(9)
	if tab.complete() || !tab.resolved() {
		t.Errorf("complete %v resolved %v", tab.complete(), tab.resolved())
	}
	if err := tab.failedError(); !errors.Is(err, ErrUnitsFailed) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("failedError = %v", err)
	}
	tab.handle(6)
	tab.handle(7)
	tab.handle(7) // more lines than items never count twice
	if !tab.complete() || len(tab.failed) != 0 {
		t.Errorf("after every line: complete %v, failed %v", tab.complete(), tab.failed)
	}
}
