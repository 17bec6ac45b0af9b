package warc

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

// readCorpus reads one corpus file with default options (or skips).
func readCorpus(t *testing.T, rel string, opt Options) ([]*Record, Stats) {
	t.Helper()
	name := filepath.Join(corpusDir, rel)
	data, err := os.ReadFile(name)
	if err != nil {
		t.Skipf("corpus file %s: %v", rel, err)
	}
	r := NewReader(bytes.NewReader(data), rel, 0, opt)
	var recs []*Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, r.Stats()
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
}

func onlyType(recs []*Record, typ string) []*Record {
	var out []*Record
	for _, r := range recs {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

func mustObserve(t *testing.T, r *Record) *model.Observation {
	t.Helper()
	obs, err := r.Decode()
	if err != nil || obs == nil {
		t.Fatalf("%s: Decode: %v, %v", r.Ref(), obs, err)
	}
	return obs
}

func TestChunkedResponse(t *testing.T) {
	recs, _ := readCorpus(t, "library-test-warcs/warcio-example-iana.org-chunked.warc", Options{})
	resp := onlyType(recs, TypeResponse)
	if len(resp) != 1 {
		t.Fatalf("%d responses", len(resp))
	}
	obs := mustObserve(t, resp[0])
	if obs.Host != "www.iana.org" || obs.URL != "http://www.iana.org/" || obs.StatusCode != 200 {
		t.Errorf("observation %s %s %d", obs.Host, obs.URL, obs.StatusCode)
	}
	if got := obs.Headers["transfer-encoding"]; !slices.Equal(got, []string{"chunked"}) {
		t.Errorf("transfer-encoding %v", got)
	}
	if !bytes.HasPrefix(obs.Body, []byte("<!doctype html>")) || !bytes.HasSuffix(bytes.TrimSpace(obs.Body), []byte("</html>")) {
		t.Errorf("body not de-chunked: %.40q ... %.40q", obs.Body, obs.Body[max(0, len(obs.Body)-40):])
	}
	if bytes.Contains(obs.Body, []byte("\r\n001c37\r\n")) || len(obs.Body) != 0x1c37 {
		t.Errorf("body %d bytes, the single chunk is %d", len(obs.Body), 0x1c37)
	}
	want := time.Date(2017, 3, 6, 16, 54, 9, 0, time.UTC)
	if !obs.Time.Equal(want) {
		t.Errorf("time %v, want %v", obs.Time, want)
	}
	// 405 is where `grep -b ^WARC/1.0` finds the second record.
	if !strings.HasSuffix(obs.Ref, "@405 <urn:uuid:a96ae1a5-931d-4c45-96f3-98576d155f8b>") {
		t.Errorf("ref %q", obs.Ref)
	}
}

func TestRevisitRecords(t *testing.T) {
	for _, tc := range []struct {
		file     string
		revisits int
	}{
		{"library-test-warcs/warcio-example.warc.gz", 1},
		{"aut-test-resources/issue-493.warc", 5},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			recs, st := readCorpus(t, tc.file, Options{})
			rv := onlyType(recs, TypeRevisit)
			if len(rv) != tc.revisits || st.Records[TypeRevisit] != int64(tc.revisits) {
				t.Fatalf("%d revisits (stats %d), want %d", len(rv), st.Records[TypeRevisit], tc.revisits)
			}
			for _, r := range rv {
				if r.RefersToTargetURI() == "" && r.RefersTo() == "" {
					t.Errorf("%s: revisit without WARC-Refers-To*", r.Ref())
				}
				if r.RefersToDate().IsZero() && r.RefersTo() == "" {
					t.Errorf("%s: no refers-to date", r.Ref())
				}
				if !strings.Contains(r.Get("warc-profile"), "revisit") {
					t.Errorf("%s: profile %q", r.Ref(), r.Get("WARC-Profile"))
				}
				if r.Block == nil {
					t.Errorf("%s: revisit block not kept", r.Ref())
				}
				if obs, err := r.Decode(); obs != nil || err != nil {
					t.Errorf("%s: revisit decoded to %v %v", r.Ref(), obs, err)
				}
			}
		})
	}
}

func TestPOSTRecords(t *testing.T) {
	recs, st := readCorpus(t, "library-test-warcs/warcio-post-test.warc.gz", Options{})
	if st.Records[TypeRequest] != 3 || st.Records[TypeResponse] != 3 {
		t.Fatalf("stats %v", st)
	}
	for _, r := range onlyType(recs, TypeRequest) {
		if r.Block != nil {
			t.Errorf("%s: request block kept by default", r.Ref())
		}
		if r.Length == 0 {
			t.Errorf("%s: request without length", r.Ref())
		}
	}
	// With every block kept, the requests are POSTs.
	recs, _ = readCorpus(t, "library-test-warcs/warcio-post-test.warc.gz", Options{KeepBlock: func(string) bool { return true }})
	for _, r := range onlyType(recs, TypeRequest) {
		if !bytes.HasPrefix(r.Block, []byte("POST ")) {
			t.Errorf("%s: request block %.20q", r.Ref(), r.Block)
		}
	}
	for _, r := range onlyType(recs, TypeResponse) {
		obs := mustObserve(t, r)
		if obs.Host != "httpbin.org" || obs.StatusCode != 200 || !bytes.Contains(obs.Body, []byte(`"form"`)) {
			t.Errorf("%s: %s %d %.40q", r.Ref(), obs.Host, obs.StatusCode, obs.Body)
		}
	}
}

func TestCommonCrawlWhirlwind(t *testing.T) {
	recs, st := readCorpus(t, "commoncrawl-whirlwind/whirlwind.warc.gz", Options{})
	if st.RecordTotal() != 4 {
		t.Fatalf("stats %v", st)
	}
	resp := onlyType(recs, TypeResponse)
	obs := mustObserve(t, resp[0])
	if obs.Host != "an.wikipedia.org" || obs.StatusCode != 200 || !bytes.Contains(obs.Body, []byte("Escopete")) {
		t.Errorf("observation %s %d %.60q", obs.Host, obs.StatusCode, obs.Body)
	}
	// Common Crawl stores bodies decoded and renames the header.
	if obs.Headers["x-crawler-content-encoding"][0] != "gzip" || obs.Headers["content-encoding"] != nil {
		t.Errorf("headers %v", obs.Headers)
	}
	if len(obs.Headers["content-type"]) != 1 {
		t.Errorf("content-type %v", obs.Headers["content-type"])
	}

	_, wat := readCorpus(t, "commoncrawl-whirlwind/whirlwind.warc.wat.gz", Options{})
	_, wet := readCorpus(t, "commoncrawl-whirlwind/whirlwind.warc.wet.gz", Options{})
	if wat.Records[TypeMetadata] != 1 || wat.Records[TypeWarcinfo] != 1 || wet.Records[TypeConversion] != 1 {
		t.Errorf("wat %v, wet %v", wat, wet)
	}
}

func TestDNSRecordsInArchive(t *testing.T) {
	recs, _ := readCorpus(t, "aut-test-resources/example.warc.gz", Options{})
	var dnsObs []*model.Observation
	for _, r := range onlyType(recs, TypeResponse) {
		if strings.HasPrefix(r.TargetURI, "dns:") {
			dnsObs = append(dnsObs, mustObserve(t, r))
		}
	}
	if len(dnsObs) == 0 {
		t.Fatal("no dns: records in example.warc.gz")
	}
	first := dnsObs[0]
	want := []model.DNSRecord{{Name: "www.archive.org", Type: "A", Value: "207.241.229.39"}}
	if first.Host != "www.archive.org" || !slices.Equal(first.DNS, want) || first.URL != "" {
		t.Errorf("first dns observation: host %q url %q %v", first.Host, first.URL, first.DNS)
	}
	// www.adobe.com resolves through a CNAME to www.wip3.adobe.com.
	for _, o := range dnsObs {
		for _, d := range o.DNS {
			if d.Name == "" || d.Type == "" || d.Value == "" || strings.HasSuffix(d.Name, ".") {
				t.Errorf("%s: record %+v", o.Ref, d)
			}
		}
	}
}

func TestResourceAndWgetRecords(t *testing.T) {
	recs, st := readCorpus(t, "aut-test-resources/issue-514.warc", Options{})
	if st.Records[TypeResource] != 2 || st.Records[TypeMetadata] != 1 {
		t.Fatalf("stats %v", st)
	}
	for _, r := range onlyType(recs, TypeResource) {
		// wget writes the target URI in angle brackets.
		if !strings.HasPrefix(r.TargetURI, "metadata://") {
			t.Errorf("target %q", r.TargetURI)
		}
		if obs, err := r.Decode(); obs != nil || err != nil {
			t.Errorf("resource decoded to %v %v", obs, err)
		}
	}
}

// TestARCMatchesWARC reads the same crawl in ARC and WARC form.
func TestARCMatchesWARC(t *testing.T) {
	arcRecs, arcSt := readCorpus(t, "aut-test-resources/example.arc.gz", Options{})
	warcRecs, _ := readCorpus(t, "aut-test-resources/example.warc.gz", Options{})
	// Independent count: gzip members, one per ARC record.
	data, _ := os.ReadFile(filepath.Join(corpusDir, "aut-test-resources/example.arc.gz"))
	members := countGzipMembers(t, data)
	if arcSt.RecordTotal() != int64(members) || arcSt.Records[TypeWarcinfo] != 1 {
		t.Errorf("ARC: %v, %d gzip members", arcSt, members)
	}
	a, w := onlyType(arcRecs, TypeResponse), onlyType(warcRecs, TypeResponse)
	if len(a) != len(w) {
		t.Fatalf("%d ARC responses, %d WARC responses", len(a), len(w))
	}
	var d Decoder
	for i := range a {
		if a[i].TargetURI != w[i].TargetURI {
			t.Errorf("response %d: ARC %s, WARC %s", i, a[i].TargetURI, w[i].TargetURI)
			continue
		}
		ao, aerr := d.Decode(a[i])
		wo, werr := d.Decode(w[i])
		if (aerr == nil) != (werr == nil) || (ao == nil) != (wo == nil) {
			t.Errorf("%s: ARC %v, WARC %v", a[i].TargetURI, aerr, werr)
			continue
		}
		if ao != nil && (ao.StatusCode != wo.StatusCode || !bytes.Equal(ao.Body, wo.Body) || !slices.Equal(ao.DNS, wo.DNS)) {
			t.Errorf("%s: ARC and WARC observations differ", a[i].TargetURI)
		}
		if ao != nil && !ao.Time.Equal(wo.Time) {
			t.Errorf("%s: ARC time %v, WARC %v", a[i].TargetURI, ao.Time, wo.Time)
		}
	}
}

func countGzipMembers(t *testing.T, data []byte) int {
	t.Helper()
	br := bytes.NewReader(data)
	zr, err := gzip.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		zr.Multistream(false)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Fatal(err)
		}
		n++
		if err := zr.Reset(br); err == io.EOF {
			return n
		} else if err != nil {
			t.Fatal(err)
		}
	}
}
