// Package pagefile reads saved web pages from disk or stdin for
// `aicensus detect`: files, folders (walked recursively, in lexical order)
// and "-" for stdin; gzip-compressed files are decompressed transparently,
// within a size cap.
package pagefile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultMaxBytes caps a page read (after decompression).
const DefaultMaxBytes = 32 << 20

// ErrTooLarge reports a page over the cap; the first MaxBytes are kept.
var ErrTooLarge = errors.New("page larger than the read cap")

// Page is one saved page, or the reason it could not be read.
type Page struct {
	Name string // path as given or found, "-" for stdin
	Body []byte
	Err  error // read or decompression failure; Body may hold what was read
}

// Walk calls fn for every page under paths, in order. A page that cannot be
// read is passed with Err set; Walk stops only when fn returns an error or
// ctx ends. maxBytes <= 0 means DefaultMaxBytes.
func Walk(ctx context.Context, paths []string, stdin io.Reader, maxBytes int64, fn func(Page) error) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == "-" {
			body, err := read(stdin, maxBytes)
			if err := fn(Page{Name: "-", Body: body, Err: err}); err != nil {
				return err
			}
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			if err := fn(Page{Name: p, Err: err}); err != nil {
				return err
			}
			continue
		}
		if !st.IsDir() {
			if err := fn(readFile(p, maxBytes)); err != nil {
				return err
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			if err != nil {
				return fn(Page{Name: path, Err: err})
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			return fn(readFile(path, maxBytes))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func readFile(path string, maxBytes int64) Page {
	f, err := os.Open(path)
	if err != nil {
		return Page{Name: path, Err: err}
	}
	defer f.Close()
	body, err := read(f, maxBytes)
	return Page{Name: path, Body: body, Err: err}
}

// read returns up to maxBytes of r, gunzipping it when it starts with the
// gzip magic bytes.
func read(r io.Reader, maxBytes int64) ([]byte, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		return limited(zr, maxBytes)
	}
	return limited(br, maxBytes)
}

func limited(r io.Reader, maxBytes int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return body, err
	}
	if int64(len(body)) > maxBytes {
		return body[:maxBytes], ErrTooLarge
	}
	return body, nil
}
