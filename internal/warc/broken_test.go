package warc

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func loadCorpus(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, rel))
	if err != nil {
		t.Skipf("corpus file %s: %v", rel, err)
	}
	return data
}

// memberEnds returns the offsets where gzip members end, from gowarc.
func memberEnds(t *testing.T, data []byte) []int64 {
	var ends []int64
	want := oracle(t, data)
	for i := range want {
		if i+1 < len(want) {
			ends = append(ends, want[i+1].off)
		}
	}
	return append(ends, int64(len(data)))
}

func ids(recs []*Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

// isSubsequence reports whether got appears in want in order.
func isSubsequence(got, want []string) bool {
	i := 0
	for _, g := range got {
		for i < len(want) && want[i] != g {
			i++
		}
		if i == len(want) {
			return false
		}
		i++
	}
	return true
}

// TestTruncatedEveryOffset cuts real archives at every byte: the reader
// returns exactly the records that ended before the cut, counts one
// problem when the cut is inside a record, and never fails.
func TestTruncatedEveryOffset(t *testing.T) {
	for _, rel := range []string{"library-test-warcs/warcio-example.warc.gz", "library-test-warcs/warcio-example-digest.warc"} {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			data := loadCorpus(t, rel)
			full, _ := readAllRecords(t, rel, data, Options{})
			var starts []int64
			for _, r := range full {
				starts = append(starts, r.Offset)
			}
			step := 1
			if !fullCorpus() {
				step = 17
			}
			for cut := 1; cut < len(data); cut += step {
				recs, st := readAllRecords(t, rel, data[:cut], Options{})
				// Records starting at or after the cut cannot be read; the
				// one the cut falls into may still be whole (cut in its
				// trailer), the ones before must all be there.
				before := 0
				for _, s := range starts {
					if s < int64(cut) {
						before++
					}
				}
				if len(recs) < before-1 || len(recs) > before {
					t.Fatalf("cut %d: %d records, %d start before the cut", cut, len(recs), before)
				}
				if !slices.Equal(ids(recs), ids(full[:len(recs)])) {
					t.Fatalf("cut %d: records differ from the full read", cut)
				}
				atBoundary := slices.Contains(starts, int64(cut))
				if !atBoundary && st.ProblemTotal() == 0 && len(recs) < before {
					t.Fatalf("cut %d inside record %d: no problem counted", cut, before)
				}
				if st.ProblemTotal() > 1 {
					t.Fatalf("cut %d: %v, want at most one problem", cut, st.Problems)
				}
			}
		})
	}
}

func TestTruncatedServoArchive(t *testing.T) {
	rel := "servo-warc-tests/Google.warc.gz"
	data := loadCorpus(t, rel)
	ends := memberEnds(t, data)
	cut := len(data) * 2 / 3
	whole := 0
	for _, e := range ends {
		if e <= int64(cut) {
			whole++
		}
	}
	recs, st := readAllRecords(t, rel, data[:cut], Options{})
	if len(recs) != whole || st.Problems[KindTruncatedGzip] != 1 || st.ProblemTotal() != 1 {
		t.Errorf("got %d records %v, want %d and one truncated-gzip", len(recs), st.Problems, whole)
	}
}

func TestCorruptedMember(t *testing.T) {
	rel := "servo-warc-tests/Google.warc.gz"
	data := loadCorpus(t, rel)
	want := oracle(t, data)
	wantIDs := make([]string, len(want))
	for i, w := range want {
		wantIDs[i] = w.id
	}
	ends := memberEnds(t, data)
	for _, k := range []int{1, 5, len(want) / 2, len(want) - 1} {
		t.Run("", func(t *testing.T) {
			c := bytes.Clone(data)
			start, end := want[k].off, ends[k]
			mid := start + (end-start)/2
			for i := mid; i < min(mid+64, end-8); i++ {
				c[i] ^= 0xa5
			}
			recs, st := readAllRecords(t, rel, c, Options{})
			got := ids(recs)
			if !isSubsequence(got, wantIDs) {
				t.Fatalf("records out of order or invented: %v", got)
			}
			if slices.Contains(got, want[k].id) {
				t.Errorf("the corrupted record %d was returned", k)
			}
			if len(recs) < len(want)-2 {
				t.Errorf("%d of %d records survive one corrupted member", len(recs), len(want))
			}
			if st.Problems[KindCorruptGzip] == 0 {
				t.Errorf("problems %v, want corrupt-gzip", st.Problems)
			}
		})
	}
}

func TestGarbageBetweenMembers(t *testing.T) {
	rel := "servo-warc-tests/Baidu.warc.gz"
	data := loadCorpus(t, rel)
	want := oracle(t, data)
	at := want[3].off
	junk := bytes.Repeat([]byte("not a gzip member \x1f\x8b"), 50)
	c := slices.Concat(data[:at], junk, data[at:])
	recs, st := readAllRecords(t, rel, c, Options{})
	if len(recs) != len(want) {
		t.Errorf("%d records, want all %d", len(recs), len(want))
	}
	if st.Problems[KindCorruptGzip] == 0 || st.Problems[KindCorruptGzip] > 3 {
		t.Errorf("problems %v, want a few corrupt-gzip", st.Problems)
	}
	// The records after the junk keep their true offsets.
	if recs[3].Offset != at+int64(len(junk)) {
		t.Errorf("record 3 at %d, want %d", recs[3].Offset, at+int64(len(junk)))
	}
}

func TestBadHeaderPlainResync(t *testing.T) {
	rel := "aut-test-resources/issue-493.warc"
	data := loadCorpus(t, rel)
	full, _ := readAllRecords(t, rel, data, Options{})
	for _, tc := range []struct{ name, old, new string }{
		{"content-length", "Content-Length: 254\r\n", "Content-Length: x54\r\n"},
		{"version", "WARC/1.0\r\nWARC-Type: revisit", "WARX/1.0\r\nWARC-Type: revisit"},
		{"header line", "WARC-Type: revisit\r\n", "WARC-Type revisit \r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := []byte(strings.Replace(string(data), tc.old, tc.new, 1))
			if bytes.Equal(c, data) {
				t.Fatal("pattern not found")
			}
			recs, st := readAllRecords(t, rel, c, Options{})
			if st.Problems[KindBadWARCHeader] != 1 || st.ProblemTotal() != 1 {
				t.Errorf("problems %v", st.Problems)
			}
			if len(recs) != len(full)-1 || !isSubsequence(ids(recs), ids(full)) {
				t.Errorf("%d records, want %d (all but the broken one)", len(recs), len(full)-1)
			}
		})
	}
}

func TestOversizedRecords(t *testing.T) {
	rel := "servo-warc-tests/Google.warc.gz"
	data := loadCorpus(t, rel)
	all, _ := readAllRecords(t, rel, data, Options{})
	const limit = 20 << 10
	var big int64
	var small []string
	for _, r := range all {
		if r.Type == TypeResponse && r.Length > limit {
			big++
		} else {
			small = append(small, r.ID)
		}
	}
	if big == 0 {
		t.Fatal("no response above the limit")
	}
	r := NewReader(bytes.NewReader(data), rel, 0, Options{MaxRecordBytes: limit})
	var got []string
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(rec.Block)) > limit {
			t.Errorf("%s: block of %d bytes over the limit", rec.Ref(), len(rec.Block))
		}
		got = append(got, rec.ID)
	}
	st := r.Stats()
	if st.Problems[KindOversizedRecord] != big || !slices.Equal(got, small) {
		t.Errorf("oversized %d, want %d; %d records, want %d", st.Problems[KindOversizedRecord], big, len(got), len(small))
	}
}
