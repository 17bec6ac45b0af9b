package hf

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// Input reports what one input contributed.
type Input struct {
	Source  string `json:"source"`
	Format  string `json:"format"` // "parquet", "json" or "api"
	Models  int    `json:"models"`
	Skipped int    `json:"skipped"` // JSON objects without an id
	Pages   int    `json:"pages,omitempty"`
}

// Loader reads model metadata from files and URLs. Fetcher walks URLs (the
// zero Fetcher when nil). A Loader is not safe for concurrent use.
type Loader struct {
	Fetcher *Fetcher
}

// Load reads every input (a Parquet file or glob, a JSON file, or an http(s)
// URL of /api/models) into one table and drops duplicate ids when there is
// more than one input or page (the last copy wins). Model IDs of a single
// Parquet input are not kept (see LoadParquet). It returns the table,
// per-input counts and the number of duplicates dropped.
func (l *Loader) Load(ctx context.Context, inputs []string) (*Models, []Input, int, error) {
	all := &Models{}
	var ins []Input
	pages := 0
	for _, in := range inputs {
		m, info, err := l.loadOne(ctx, in, len(inputs) > 1)
		if err != nil {
			return nil, nil, 0, err
		}
		ins = append(ins, info)
		pages += max(info.Pages, 1)
		if len(inputs) == 1 {
			all = m
			break
		}
		all.appendAll(m)
	}
	dups := 0
	if pages > 1 {
		dups = all.Dedupe()
	}
	return all, ins, dups, nil
}

func (l *Loader) loadOne(ctx context.Context, in string, keepIDs bool) (*Models, Input, error) {
	if strings.HasPrefix(in, "http://") || strings.HasPrefix(in, "https://") {
		return l.loadURL(ctx, in)
	}
	if isParquet(in) {
		m, err := LoadParquet(ctx, in, keepIDs)
		if err != nil {
			return nil, Input{}, err
		}
		return m, Input{Source: in, Format: "parquet", Models: m.Len()}, nil
	}
	f, err := os.Open(in)
	if err != nil {
		return nil, Input{}, fmt.Errorf("open %s: %w", in, err)
	}
	defer f.Close()
	m := &Models{}
	added, skipped, err := DecodeJSON(f, m)
	if err != nil {
		return nil, Input{}, fmt.Errorf("read %s: %w", in, err)
	}
	return m, Input{Source: in, Format: "json", Models: added, Skipped: skipped}, nil
}

func (l *Loader) loadURL(ctx context.Context, u string) (*Models, Input, error) {
	f := l.Fetcher
	if f == nil {
		f = &Fetcher{}
	}
	m := &Models{}
	info := Input{Source: u, Format: "api"}
	n, err := f.Fetch(ctx, u, func(pageURL string, body []byte) error {
		added, skipped, err := DecodeJSON(bytes.NewReader(body), m)
		info.Models += added
		info.Skipped += skipped
		if err != nil {
			return fmt.Errorf("page %s: %w", pageURL, err)
		}
		return nil
	})
	info.Pages = n
	if err != nil {
		return nil, info, err
	}
	return m, info, nil
}

// isParquet reports whether path names Parquet: a .parquet suffix, a glob,
// or a file starting with the PAR1 magic.
func isParquet(path string) bool {
	if strings.HasSuffix(strings.ToLower(path), ".parquet") || strings.ContainsAny(path, "*?[") {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	return err == nil && string(magic[:]) == "PAR1"
}

// appendAll appends every row of o and merges its Sources.
func (m *Models) appendAll(o *Models) {
	for i := range o.Len() {
		m.Append(o.Row(i))
	}
	for f, src := range o.Sources {
		for p := range strings.SplitSeq(src, "|") {
			m.noteSource(f, p)
		}
	}
}
