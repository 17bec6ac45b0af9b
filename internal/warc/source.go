package warc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// SourceKind says where a Source's bytes come from.
type SourceKind int

// The source kinds.
const (
	SourceFile  SourceKind = iota // a local file
	SourceHTTP                    // an http:// or https:// URL
	SourceStdin                   // standard input ("-")
)

// String returns "file", "http" or "stdin".
func (k SourceKind) String() string {
	switch k {
	case SourceHTTP:
		return "http"
	case SourceStdin:
		return "stdin"
	}
	return "file"
}

// Source is one archive to read. Name identifies it everywhere: in
// Record.File, in Record.Ref and as the key of resume state; it is the
// path as given or found (cleaned), the URL, or "-" for standard input.
// The zero value is not useful; Expand makes Sources, or build one with a
// Name and Kind.
type Source struct {
	Name string
	Kind SourceKind
}

// Open opens the source positioned at offset (a record or gzip member
// start). A file is opened and seeked; a URL is fetched, with a Range
// request when offset > 0, and the returned reader resumes with another
// Range request when the connection drops (see Options.Retries); standard
// input has offset bytes discarded. Closing the reader releases the source
// (closing does not close os.Stdin). Errors are *Problem of KindOpenError
// (or the context's error).
func (s Source) Open(ctx context.Context, offset int64, opt Options) (io.ReadCloser, error) {
	fail := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &Problem{Kind: KindOpenError, File: s.Name, Offset: offset, Err: err}
	}
	switch s.Kind {
	case SourceHTTP:
		h, err := openHTTP(ctx, opt.client(), s.Name, offset, opt.retries(), opt.idle())
		if err != nil {
			return nil, fail(err)
		}
		return h, nil
	case SourceStdin:
		in := opt.Stdin
		if in == nil {
			in = os.Stdin
		}
		if offset > 0 {
			if _, err := io.CopyN(io.Discard, in, offset); err != nil {
				return nil, fail(fmt.Errorf("skip %d bytes of stdin: %w", offset, err))
			}
		}
		return io.NopCloser(in), nil
	}
	f, err := os.Open(s.Name)
	if err != nil {
		return nil, fail(err)
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, fail(err)
		}
	}
	return f, nil
}

func (o Options) client() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	return &http.Client{}
}

// BadLine is a line of a paths list that Expand skipped.
type BadLine struct {
	List string // the paths list, as given
	Line int    // 1-based line number
	Text string // the line, trimmed
	Err  error  // why it was skipped
}

// Error implements error.
func (b BadLine) Error() string {
	return fmt.Sprintf("%s:%d: %q: %v", b.List, b.Line, b.Text, b.Err)
}

// ErrNoInput is wrapped by Expand's error when a spec names nothing to
// read (a missing path, a glob without matches, a folder without archives).
var ErrNoInput = errors.New("no archive found")

// Expand turns command-line specs into Sources, in order, without
// duplicates. A spec is:
//   - "-": standard input (at most once);
//   - an http:// or https:// URL: a remote archive, or a remote paths list
//     when its name ends in ".paths" or ".paths.gz";
//   - a local file: an archive (any name; the content decides the format),
//     or a paths list when its name ends in ".paths" or ".paths.gz";
//   - a folder: every *.warc, *.warc.gz, *.arc and *.arc.gz below it,
//     recursively, in lexical order;
//   - a glob (filepath.Match syntax): each match as above.
//
// A paths list (Common Crawl's warc.paths / warc.paths.gz, or any list of
// one archive per line) is resolved against base: an http(s) URL (e.g.
// "https://data.commoncrawl.org/") or a local folder. Lines that are
// absolute URLs or absolute paths are used as they are; a relative line
// with an empty base is an error. Blank lines and lines starting with '#'
// are ignored; lines that are not usable archive names (spaces or control
// characters, "..", unsupported URL schemes, not ending in .warc, .arc,
// .wat or .wet with optional .gz, or a local file that does not exist) are
// returned as BadLines and skipped.
//
// The error (wrapping ErrNoInput for inputs that name nothing) is for a
// spec that cannot be used at all; it is meant to be shown as a usage
// error. Expand reads paths lists but opens no archive.
func Expand(ctx context.Context, specs []string, base string, opt Options) ([]Source, []BadLine, error) {
	e := expander{ctx: ctx, base: base, opt: opt, seen: map[string]bool{}}
	for _, spec := range specs {
		if err := e.spec(spec); err != nil {
			return nil, nil, err
		}
	}
	return e.out, e.bad, nil
}

type expander struct {
	ctx  context.Context
	base string
	opt  Options
	seen map[string]bool
	out  []Source
	bad  []BadLine
}

func (e *expander) add(s Source) {
	if !e.seen[s.Name] {
		e.seen[s.Name] = true
		e.out = append(e.out, s)
	}
}

func (e *expander) spec(spec string) error {
	switch {
	case spec == "-":
		if e.seen["-"] {
			return errors.New("expand: stdin (-) given twice")
		}
		e.add(Source{Name: "-", Kind: SourceStdin})
		return nil
	case isHTTP(spec):
		if isPathsList(spec) {
			return e.remoteList(spec)
		}
		e.add(Source{Name: spec, Kind: SourceHTTP})
		return nil
	case strings.ContainsAny(spec, "*?["):
		matches, err := filepath.Glob(spec)
		if err != nil {
			return fmt.Errorf("expand %s: %w", spec, err)
		}
		if len(matches) == 0 {
			return fmt.Errorf("expand %s: glob matches nothing: %w", spec, ErrNoInput)
		}
		for _, m := range matches {
			if err := e.path(m); err != nil {
				return err
			}
		}
		return nil
	}
	return e.path(spec)
}

func (e *expander) path(p string) error {
	p = filepath.Clean(p)
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("expand %s: %w", p, ErrNoInput)
		}
		return fmt.Errorf("expand %s: %w", p, err)
	}
	if !fi.IsDir() {
		if isPathsList(p) {
			return e.localList(p)
		}
		e.add(Source{Name: p, Kind: SourceFile})
		return nil
	}
	n := len(e.out)
	err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isFolderArchive(d.Name()) {
			e.add(Source{Name: q, Kind: SourceFile})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("expand %s: %w", p, err)
	}
	if len(e.out) == n {
		return fmt.Errorf("expand %s: no *.warc, *.warc.gz, *.arc or *.arc.gz in folder: %w", p, ErrNoInput)
	}
	return nil
}

func (e *expander) localList(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("expand %s: %w", p, err)
	}
	defer f.Close()
	return e.list(p, f)
}

func (e *expander) remoteList(u string) error {
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("expand %s: %w", u, err)
	}
	resp, err := e.opt.client().Do(req)
	if err != nil {
		return fmt.Errorf("expand %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("expand %s: HTTP %s", u, resp.Status)
	}
	return e.list(u, resp.Body)
}

// list reads a paths list (gzip-compressed or not) and adds its lines.
func (e *expander) list(name string, r io.Reader) error {
	br := bufio.NewReader(r)
	var in io.Reader = br
	if p, _ := br.Peek(2); len(p) == 2 && p[0] == 0x1f && p[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("expand %s: %w", name, err)
		}
		defer gz.Close()
		in = gz
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		src, err := e.resolve(line)
		if errors.Is(err, errNeedBase) {
			return fmt.Errorf("expand %s:%d: %w", name, n, err)
		}
		if err != nil {
			e.bad = append(e.bad, BadLine{List: name, Line: n, Text: line, Err: err})
			continue
		}
		e.add(src)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("expand %s: %w", name, err)
	}
	return nil
}

var errNeedBase = errors.New("a relative path in a paths list needs a base (a folder or an http(s) URL)")

// resolve turns one paths-list line into a Source.
func (e *expander) resolve(line string) (Source, error) {
	if strings.ContainsFunc(line, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return Source{}, errors.New("contains spaces or control characters")
	}
	if u, err := url.Parse(line); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		if !isHTTP(line) {
			return Source{}, fmt.Errorf("unsupported URL scheme %q", u.Scheme)
		}
		if !isArchiveName(u.Path) {
			return Source{}, errors.New("not an archive name (.warc, .arc, .wat, .wet, optionally .gz)")
		}
		return Source{Name: line, Kind: SourceHTTP}, nil
	}
	if slices.Contains(strings.Split(filepath.ToSlash(line), "/"), "..") {
		return Source{}, errors.New(`contains ".."`)
	}
	if !isArchiveName(line) {
		return Source{}, errors.New("not an archive name (.warc, .arc, .wat, .wet, optionally .gz)")
	}
	if filepath.IsAbs(line) {
		return e.localFile(line)
	}
	switch {
	case e.base == "":
		return Source{}, errNeedBase
	case isHTTP(e.base):
		u, err := url.JoinPath(e.base, line)
		if err != nil {
			return Source{}, err
		}
		return Source{Name: u, Kind: SourceHTTP}, nil
	}
	return e.localFile(filepath.Join(e.base, filepath.FromSlash(line)))
}

func (e *expander) localFile(p string) (Source, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return Source{}, err
	}
	if fi.IsDir() {
		return Source{}, errors.New("is a folder")
	}
	return Source{Name: filepath.Clean(p), Kind: SourceFile}, nil
}

func isHTTP(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

func isPathsList(p string) bool {
	if isHTTP(p) {
		if u, err := url.Parse(p); err == nil {
			p = u.Path
		}
	}
	l := strings.ToLower(path.Base(filepath.ToSlash(p)))
	return strings.HasSuffix(l, ".paths") || strings.HasSuffix(l, ".paths.gz")
}

func isFolderArchive(name string) bool {
	l := strings.ToLower(name)
	for _, s := range []string{".warc", ".warc.gz", ".arc", ".arc.gz"} {
		if strings.HasSuffix(l, s) {
			return true
		}
	}
	return false
}

func isArchiveName(name string) bool {
	l := strings.TrimSuffix(strings.ToLower(name), ".gz")
	for _, s := range []string{".warc", ".arc", ".wat", ".wet"} {
		if strings.HasSuffix(l, s) {
			return true
		}
	}
	return false
}
