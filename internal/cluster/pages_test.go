package cluster

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/store"
)

// noise is n pseudo-random letters (incompressible enough to force splits).
func noise(seed, n int) string {
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(r.IntN(26))
	}
	return string(b)
}

func samplePages(n int) *pageMsg {
	m := &pageMsg{Version: WireVersion, ScanID: 1, Source: "a.warc.gz", Start: 100, Next: 100 + int64(n)*1000,
		Done: true, Counters: map[string]int64{"records_response": int64(n)}}
	for i := range n {
		m.Pages = append(m.Pages, store.Page{Target: fmt.Sprintf("site%d.test", i), URL: fmt.Sprintf("https://site%d.test/", i),
			Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Ref: fmt.Sprintf("a.warc.gz@%d", 100+i*1000),
			Detections: []model.Detection{{Technology: "Chatbase", AI: true, Confidence: 100, Categories: []string{"AI"},
				Evidence: []model.Evidence{{Signal: "html", Pattern: "chatbase", Match: noise(i, 150), Location: "body"}}}}})
		// Handed over out of order, as workers finish them.
		m.Offsets = append(m.Offsets, 100+int64((i*7)%n)*1000)
	}
	return m
}

// TestPagesRoundTripAndSplit: a batch too large for one message is cut at
// record boundaries into messages that cover consecutive ranges and keep
// every page once; the last keeps done and the counters.
func TestPagesRoundTripAndSplit(t *testing.T) {
	cd, err := newCodec()
	if err != nil {
		t.Fatal(err)
	}
	defer cd.close()
	in := samplePages(50)
	parts, data, err := cd.encodePages(in, 1200)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 3 {
		t.Fatalf("%d parts, want a split", len(parts))
	}
	next, pages, ids := in.Start, 0, map[string]bool{}
	for i, d := range data {
		if len(d) > 1200 {
			t.Errorf("part %d: %d bytes", i, len(d))
		}
		m, err := cd.decodePages(d)
		if err != nil {
			t.Fatal(err)
		}
		if m.Start != next || (i == len(data)-1) != m.Done || (m.Done && m.Counters["records_response"] != 50) {
			t.Errorf("part %d covers %d-%d done %v, want start %d", i, m.Start, m.Next, m.Done, next)
		}
		next, pages = m.Next, pages+len(m.Pages)
		ids[m.id("u")] = true
	}
	if next != in.Next || pages != 50 || len(ids) != len(parts) {
		t.Errorf("parts end at %d with %d pages and %d ids", next, pages, len(ids))
	}
	// One page that alone does not fit keeps its place as an error page.
	one := samplePages(1)
	one.Pages[0].Detections[0].Evidence[0].Match = noise(99, 5000)
	_, data, err = cd.encodePages(one, 200)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cd.decodePages(data[0])
	if err != nil || len(m.Pages) != 1 || m.Pages[0].Status != model.StatusInternalError || len(m.Pages[0].Detections) != 0 {
		t.Errorf("oversized page: %+v %v", m, err)
	}
}

func TestWarcUnitIndex(t *testing.T) {
	if k, ok := warcUnitIndex(warcUnitID(testKey, 12), testKey); !ok || k != 12 {
		t.Errorf("%d %v", k, ok)
	}
	for _, bad := range []string{testKey + ".100.3", testKey + ".warc.x", "other.warc.1", testKey + ".warc.-1"} {
		if _, ok := warcUnitIndex(bad, testKey); ok {
			t.Errorf("%s parsed", bad)
		}
	}
}

func FuzzDecodePages(f *testing.F) {
	cd, _ := newCodec()
	defer cd.close()
	_, data, _ := cd.encodePages(samplePages(3), 1<<20)
	f.Add(data[0])
	f.Add(cd.enc.EncodeAll([]byte(`{"v":1,"scan_id":1,"source":"x","start":0,"next":5,"pages":[{"Target":"a"}],"offsets":[1]}`), nil))
	f.Add(cd.enc.EncodeAll([]byte(`{"v":1,"scan_id":1,"source":"x","start":9,"next":5}`), nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := cd.decodePages(b)
		if err != nil {
			return
		}
		if m.Source == "" || m.Start < 0 || m.Next < m.Start || len(m.Offsets) != len(m.Pages) {
			t.Fatalf("accepted %+v", m)
		}
		for i, p := range m.Pages {
			if p.Target == "" || (p.Status != "" && !p.Status.Valid()) || m.Offsets[i] < m.Start || (!m.Done && m.Offsets[i] >= m.Next) {
				t.Fatalf("accepted page %+v at %d", p, m.Offsets[i])
			}
		}
	})
}
