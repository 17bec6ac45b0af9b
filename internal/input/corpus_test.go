package input

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// corpusDir holds the real domain lists (see ../../../shared/corpus/README.md).
const corpusDir = "../../../shared/corpus/domains"

func corpusFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(corpusDir, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus file %s not available: %v", p, err)
	}
	return p
}

// gunzipLines returns the lines of a gzip file, line endings removed.
func gunzipLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		lines = append(lines, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// csvColumn returns the values of one column of a gzip CSV file, read with
// encoding/csv (an implementation independent of the Reader's).
func csvColumn(t testing.TB, path string, col int, header bool) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(zr)
	cr.FieldsPerRecord = -1
	var out []string
	for i := 0; ; i++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && header {
			continue
		}
		out = append(out, rec[col])
	}
}

// distinct counts distinct non-empty values and empty ones.
func distinct(values []string) (n, empty int) {
	set := map[string]bool{}
	for _, v := range values {
		if v == "" {
			empty++
			continue
		}
		set[v] = true
	}
	return len(set), empty
}

// TestCorpusLists reads the four real lists as they are and checks the
// reader's counts against counts computed here by simpler, independent means
// (bufio.Scanner, encoding/csv, net/url).
func TestCorpusLists(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		count func(t *testing.T, path string) (items, invalid, empty int)
		first string // the first item's host
		line  int    // and its line
	}{
		{
			name: "tranco top10k (header Domain, CRLF)",
			file: "tranco-top10k/top-10k.csv.gz",
			count: func(t *testing.T, p string) (int, int, int) {
				lines := gunzipLines(t, p)
				if lines[0] != "Domain" {
					t.Fatalf("unexpected header %q", lines[0])
				}
				for i := range lines {
					lines[i] = strings.ToLower(lines[i])
				}
				n, empty := distinct(lines[1:])
				return n, 0, empty
			},
			first: "google.com", line: 2,
		},
		{
			name: "cloudflare radar top100k (header domain)",
			file: "cloudflare-radar-top100k/100k.csv.gz",
			count: func(t *testing.T, p string) (int, int, int) {
				lines := gunzipLines(t, p)
				if lines[0] != "domain" {
					t.Fatalf("unexpected header %q", lines[0])
				}
				n, empty := distinct(lines[1:])
				return n, 0, empty
			},
			first: "0.sb", line: 2,
		},
		{
			name: "alexa top100k (rank,domain without header, some paths)",
			file: "alexa-top100k-2015/top-100k.csv.gz",
			count: func(t *testing.T, p string) (int, int, int) {
				hosts := csvColumn(t, p, 1, false)
				ips := 0
				for i, h := range hosts {
					h, _, _ = strings.Cut(h, "/")
					if net.ParseIP(h) != nil {
						ips++ // invalid by default
						h = ""
					}
					hosts[i] = strings.ToLower(h)
				}
				n, _ := distinct(hosts)
				return n, ips, 0
			},
			first: "google.com", line: 1,
		},
		{
			name: "ai tool directory (column Domain, utm URLs, empty cells)",
			file: "ai-tool-directories/FINAL_LIST.csv.gz",
			count: func(t *testing.T, p string) (int, int, int) {
				urls := csvColumn(t, p, 8, true)
				for i, s := range urls {
					if s == "" {
						continue
					}
					u, err := url.Parse(s)
					if err != nil {
						t.Fatalf("row %d: %v", i, err)
					}
					urls[i] = strings.ToLower(u.Hostname())
				}
				n, empty := distinct(urls)
				return n, 0, empty
			},
			first: "mypeas.ai", line: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := corpusFile(t, tt.file)
			wantItems, wantInvalid, wantEmpty := tt.count(t, path)
			r, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var first Item
			for {
				it, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if it.Err != nil {
					if !errors.Is(it.Err, ErrIPLiteral) {
						t.Errorf("invalid item: %v", it.Err)
					}
					continue
				}
				if first.Line == 0 {
					first = it
				}
			}
			st := r.Stats()
			t.Logf("%s: %+v", r.Format(), st)
			if st.Items != wantItems || st.Invalid != wantInvalid {
				t.Errorf("items %d invalid %d; want %d valid, %d invalid", st.Items, st.Invalid, wantItems, wantInvalid)
			}
			if st.Skipped != wantEmpty {
				t.Errorf("skipped %d; want %d empty cells", st.Skipped, wantEmpty)
			}
			if first.Target.Host != tt.first || first.Line != tt.line {
				t.Errorf("first item %+v; want %s on line %d", first, tt.first, tt.line)
			}
		})
	}
}
