package warctest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Page is one real HTML page of the shared corpus.
type Page struct {
	File string // path of the .html.gz file
	URL  string // the page's URL from the manifest, or a synthesised https://page-N.<set>.example/
	Host string // URL's host
	HTML []byte // the page, decompressed
}

// LoadPages reads up to limit pages (all when limit <= 0) of one corpus
// set, e.g. "../../../shared/corpus/html/trafilatura", in manifest order.
// Pages without a usable http(s) URL in the manifest get a unique
// synthetic one. It
// returns an error wrapping fs.ErrNotExist when the set is absent, so
// callers can skip.
func LoadPages(dir string, limit int) ([]Page, error) {
	f, err := os.Open(filepath.Join(dir, "manifest.csv"))
	if err != nil {
		return nil, fmt.Errorf("load pages %s: %w", dir, err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("load pages %s: %w", dir, err)
	}
	if len(rows) < 2 || len(rows[0]) < 3 || rows[0][0] != "file" || rows[0][1] != "url" {
		return nil, fmt.Errorf("load pages %s: unexpected manifest header %v", dir, rows[0])
	}
	set := filepath.Base(filepath.Clean(dir))
	var pages []Page
	for i, row := range rows[1:] {
		if limit > 0 && len(pages) >= limit {
			break
		}
		p := Page{File: filepath.Join(dir, row[0]), URL: row[1]}
		u, err := url.Parse(p.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			p.URL = fmt.Sprintf("https://page-%d.%s.example/", i+1, set)
			u, _ = url.Parse(p.URL)
		}
		p.Host = strings.ToLower(u.Hostname())
		if p.HTML, err = gunzipFile(p.File); err != nil {
			return nil, fmt.Errorf("load pages %s: %w", dir, err)
		}
		pages = append(pages, p)
	}
	return pages, nil
}

func gunzipFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return io.ReadAll(zr)
}

// Embed is one AI embed snippet of research/ai-embeds.
type Embed struct {
	Name string // file name without .html, e.g. "chatbase"
	HTML []byte // the snippet, including its first-line source comment
}

// LoadEmbeds reads every *.html snippet in dir (e.g.
// "../../../shared/research/ai-embeds"), sorted by name.
func LoadEmbeds(dir string) ([]Embed, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.html"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("load embeds %s: %w", dir, os.ErrNotExist)
	}
	sort.Strings(names)
	out := make([]Embed, 0, len(names))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("load embeds: %w", err)
		}
		out = append(out, Embed{Name: strings.TrimSuffix(filepath.Base(n), ".html"), HTML: b})
	}
	return out, nil
}

// Inject returns a copy of page with snippet inserted before the first
// "</head>" (case-insensitive), else before "</body>", else at the end.
func Inject(page, snippet []byte) []byte {
	lower := bytes.ToLower(page)
	i := bytes.Index(lower, []byte("</head>"))
	if i < 0 {
		i = bytes.Index(lower, []byte("</body>"))
	}
	if i < 0 {
		i = len(page)
	}
	out := make([]byte, 0, len(page)+len(snippet)+1)
	out = append(out, page[:i]...)
	out = append(out, snippet...)
	out = append(out, '\n')
	return append(out, page[i:]...)
}

// ErrNoCorpus reports whether err means the shared corpus is absent.
func ErrNoCorpus(err error) bool { return errors.Is(err, os.ErrNotExist) }
