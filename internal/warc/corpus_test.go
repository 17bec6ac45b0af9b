package warc

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	gowarc "github.com/internetarchive/gowarc"
)

const corpusDir = "../../../shared/corpus/warc"

// fullCorpus reports whether tests read the whole corpus. With -short or
// -race they read the archives under 1 MB only: the race detector adds
// nothing to single-goroutine reads and makes them ten times slower.
func fullCorpus() bool { return !testing.Short() && !raceEnabled }

// corpusGlob returns the corpus files matching pattern (all, or the small
// ones; see fullCorpus).
func corpusGlob(pattern string) []string {
	m, _ := filepath.Glob(filepath.Join(corpusDir, pattern))
	if fullCorpus() {
		return m
	}
	var small []string
	for _, f := range m {
		if fi, err := os.Stat(f); err == nil && fi.Size() < 1<<20 {
			small = append(small, f)
		}
	}
	return small
}

// corpusFiles returns every archive of the shared WARC corpus, or skips.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*/*.warc", "*/*.warc.gz", "*/*.wat.gz", "*/*.wet.gz"} {
		files = append(files, corpusGlob(pat)...)
	}
	if len(files) == 0 {
		t.Skipf("shared WARC corpus not found at %s", corpusDir)
	}
	return files
}

type seen struct {
	typ, id, uri string
	off          int64
}

// readAllRecords reads a file with our reader (keeping every block).
func readAllRecords(t testing.TB, name string, data []byte, opt Options) ([]*Record, Stats) {
	t.Helper()
	if opt.KeepBlock == nil {
		opt.KeepBlock = func(string) bool { return true }
	}
	r := NewReader(bytes.NewReader(data), name, 0, opt)
	var recs []*Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: Next: %v", name, err)
		}
		recs = append(recs, rec)
	}
	return recs, r.Stats()
}

// oracle reads a file with internetarchive/gowarc, an independent reader.
func oracle(t testing.TB, data []byte) []seen {
	t.Helper()
	r, err := gowarc.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []seen
	for {
		rec, err := r.ReadRecord()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("gowarc: %v", err)
		}
		out = append(out, seen{
			typ: rec.Header.Get("WARC-Type"), id: rec.Header.Get("WARC-Record-ID"),
			uri: strings.Trim(rec.Header.Get("WARC-Target-URI"), "<>"), off: rec.Offset,
		})
		rec.Content.Close()
	}
	return out
}

// grepTypes counts "WARC-Type:" lines after decompressing with the
// standard library: a second, naive count.
func grepTypes(t testing.TB, data []byte) map[string]int64 {
	t.Helper()
	var in io.Reader = bytes.NewReader(data)
	if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(in)
		if err != nil {
			t.Fatal(err)
		}
		in = zr
	}
	counts := map[string]int64{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "WARC-Type: "); ok {
			counts[strings.TrimSpace(v)]++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return counts
}

func TestCorpusRecordCounts(t *testing.T) {
	for _, f := range corpusFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			recs, st := readAllRecords(t, f, data, Options{})
			if st.ProblemTotal() != 0 {
				t.Errorf("problems on a clean archive: %v", st.Problems)
			}
			want := oracle(t, data)
			if len(recs) != len(want) {
				t.Fatalf("read %d records, gowarc reads %d", len(recs), len(want))
			}
			gz := data[0] == 0x1f
			for i, w := range want {
				g := recs[i]
				if g.Type != w.typ || g.ID != w.id || g.TargetURI != w.uri {
					t.Errorf("record %d: got %s %s %s, gowarc %s %s %s", i, g.Type, g.ID, g.TargetURI, w.typ, w.id, w.uri)
				}
				if gz && g.Offset != w.off {
					t.Errorf("record %d: offset %d, gowarc %d", i, g.Offset, w.off)
				}
				if !gz && !bytes.HasPrefix(data[g.Offset:], []byte("WARC/")) {
					t.Errorf("record %d: offset %d is not a WARC/ line", i, g.Offset)
				}
				if int64(len(g.Block)) != g.Length {
					t.Errorf("record %d: block %d bytes, Content-Length %d", i, len(g.Block), g.Length)
				}
			}
			grep := grepTypes(t, data)
			for typ, n := range grep {
				if st.Records[typ] != n {
					t.Errorf("%s: %d records, %d WARC-Type lines", typ, st.Records[typ], n)
				}
			}
			if st.RecordTotal() != int64(len(recs)) || st.Bytes != int64(len(data)) {
				t.Errorf("stats %v: total %d bytes %d, want %d records %d bytes", st, st.RecordTotal(), st.Bytes, len(recs), len(data))
			}
		})
	}
}

// TestCorpusSourceTotals checks the totals the corpus's SOURCE.md files
// state.
func TestCorpusSourceTotals(t *testing.T) {
	corpusFiles(t)
	if !fullCorpus() {
		t.Skip("reads the whole corpus; not with -short or -race")
	}
	sum := func(glob string) Stats {
		var total Stats
		files, _ := filepath.Glob(filepath.Join(corpusDir, glob))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, st := readAllRecords(t, f, data, Options{})
			total.Add(st)
		}
		return total
	}
	servo := sum("servo-warc-tests/*.warc.gz")
	if servo.RecordTotal() != 2884 || servo.Records[TypeResponse] != 1442 {
		t.Errorf("servo: %v, SOURCE.md says 2,884 records, 1,442 responses", servo)
	}
	aut := sum("aut-test-resources/example.warc.gz")
	want := map[string]int64{"response": 299, "request": 261, "metadata": 261, "warcinfo": 1}
	for k, v := range want {
		if aut.Records[k] != v {
			t.Errorf("aut example.warc.gz %s: %d, SOURCE.md says %d", k, aut.Records[k], v)
		}
	}
	if n := sum("aut-test-resources/issue-493.warc"); n.RecordTotal() != 32 || n.Records[TypeRevisit] != 5 {
		t.Errorf("issue-493: %v, SOURCE.md says 32 records incl. 5 revisits", n)
	}
	if n := sum("library-test-warcs/*.warc*"); n.RecordTotal() != 23 {
		t.Errorf("library-test-warcs: %v, SOURCE.md says 23 records", n)
	}
}

// TestServoCDXJ checks offsets, URLs and HTTP statuses against the pywb
// CDXJ index shipped with each servo archive.
func TestServoCDXJ(t *testing.T) {
	files := corpusGlob("servo-warc-tests/*.warc.gz")
	if len(files) == 0 {
		t.Skip("servo-warc-tests not found")
	}
	var d Decoder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		recs, _ := readAllRecords(t, f, data, Options{})
		byOff := map[int64]*Record{}
		next := map[int64]int64{} // offset -> next record's offset
		for i, r := range recs {
			if r.Type == TypeResponse {
				byOff[r.Offset] = r
			}
			end := int64(len(data))
			if i+1 < len(recs) {
				end = recs[i+1].Offset
			}
			next[r.Offset] = end
		}
		groups := map[string][]cdxEntry{}
		for _, e := range readCDXJ(t, strings.TrimSuffix(f, ".warc.gz")+".cdxj") {
			groups[e.Filename] = append(groups[e.Filename], e)
		}
		// The index of the kept file is the group whose entries all match
		// (Yahoo's index also lists a second recording that is not kept).
		var best []cdxEntry
		for _, entries := range groups {
			matched := 0
			for _, e := range entries {
				if r := byOff[e.off]; r != nil && r.TargetURI == e.URL {
					matched++
				}
			}
			if matched > len(best) && matched == len(entries) {
				best = entries
			}
		}
		for _, e := range best {
			r := byOff[e.off]
			if got := next[e.off] - e.off; got != e.length {
				t.Errorf("%s@%d: member length %d, cdxj %d", f, e.off, got, e.length)
			}
			obs, err := d.Decode(r)
			if obs == nil {
				t.Errorf("%s@%d: no observation: %v", f, e.off, err)
				continue
			}
			if strconv.Itoa(obs.StatusCode) != e.Status {
				t.Errorf("%s@%d: status %d, cdxj %s", f, e.off, obs.StatusCode, e.Status)
			}
		}
		// Tmall's index lists 145 of its 161 responses, Yahoo's 150 of 185;
		// the others list all.
		if responses := len(byOff); len(best) < responses*8/10 {
			t.Errorf("%s: only %d of %d responses found in a CDXJ index", f, len(best), responses)
		}
	}
}

type cdxEntry struct {
	URL      string `json:"url"`
	Status   string `json:"status"`
	Offset   string `json:"offset"`
	Length   string `json:"length"`
	Filename string `json:"filename"`
	off      int64
	length   int64
}

func readCDXJ(t *testing.T, name string) []cdxEntry {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var out []cdxEntry
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		i := strings.Index(line, ` {"`) + 1
		var e cdxEntry
		if err := json.Unmarshal([]byte(line[i:]), &e); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e.off, _ = strconv.ParseInt(e.Offset, 10, 64)
		e.length, _ = strconv.ParseInt(e.Length, 10, 64)
		out = append(out, e)
	}
	return out
}

func TestCorpusDecodeAll(t *testing.T) {
	// Every response of the corpus decodes to an Observation or a counted
	// problem; count what the corpus holds so regressions show.
	var obsN, dnsN int
	problems := map[Kind]int{}
	var d Decoder
	for _, f := range corpusFiles(t) {
		data, _ := os.ReadFile(f)
		recs, _ := readAllRecords(t, f, data, Options{})
		for _, r := range recs {
			obs, err := d.Decode(r)
			var p *Problem
			if err != nil && !errors.As(err, &p) {
				t.Fatalf("%s: error is not a *Problem: %v", r.Ref(), err)
			}
			if p != nil {
				problems[p.Kind]++
				t.Logf("%s: %v", r.Ref(), p)
			}
			if r.Type != TypeResponse && (obs != nil || err != nil) {
				t.Errorf("%s: %s record gave %v %v", r.Ref(), r.Type, obs, err)
			}
			if obs == nil {
				continue
			}
			if obs.Ref != r.Ref() || !obs.Time.Equal(r.Date) || obs.Host == "" {
				t.Errorf("%s: observation %q %v host %q", r.Ref(), obs.Ref, obs.Time, obs.Host)
			}
			if len(obs.DNS) > 0 {
				dnsN++
			} else {
				obsN++
			}
		}
	}
	t.Logf("%d HTTP observations, %d DNS observations, problems %v", obsN, dnsN, problems)
	if obsN == 0 || (dnsN == 0 && fullCorpus()) {
		t.Errorf("%d HTTP and %d DNS observations; the corpus has both", obsN, dnsN)
	}
	if problems[KindBadHTTP] > 0 || problems[KindBadDNS] > 0 {
		t.Errorf("parse problems on real archives: %v", problems)
	}
}
