package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Format is the layout of an input file.
type Format int

// The formats. FormatAuto, the zero value, looks at the first record.
const (
	FormatAuto  Format = iota // plain unless the first record has a tab or comma and is not itself a valid target
	FormatPlain               // one domain or URL per line
	FormatCSV                 // comma-separated, optional header row
	FormatTSV                 // tab-separated, optional header row
)

// String returns the flag spelling of f.
func (f Format) String() string {
	switch f {
	case FormatPlain:
		return "plain"
	case FormatCSV:
		return "csv"
	case FormatTSV:
		return "tsv"
	}
	return "auto"
}

// ParseFormat parses a --format value: auto, plain, csv or tsv.
func ParseFormat(s string) (Format, error) {
	for _, f := range []Format{FormatAuto, FormatPlain, FormatCSV, FormatTSV} {
		if strings.EqualFold(s, f.String()) {
			return f, nil
		}
	}
	return FormatAuto, fmt.Errorf("unknown input format %q (want auto, plain, csv or tsv)", s)
}

// DefaultMaxLineBytes is the default for Options.MaxLineBytes.
const DefaultMaxLineBytes = 64 << 10

// Options configures a Reader. The zero value reads any supported layout,
// guesses the column, rejects IP literals and drops duplicates.
type Options struct {
	// Format forces a layout; FormatAuto guesses from the first record.
	Format Format
	// Column names the CSV/TSV column holding the domain or URL: a header
	// name (case-insensitive) or a 1-based index. Empty means: the first
	// header among domain, host, hostname, url, website, site, origin (in
	// that order of preference), the only column, or, without a header, the
	// first column whose first value is a valid target.
	Column string
	// NormalizeOptions are passed to Normalize for every record.
	NormalizeOptions
	// KeepDuplicates yields every valid record, even when its Target.Host
	// was seen before. By default later duplicates are skipped and counted
	// in Stats.Duplicates.
	KeepDuplicates bool
	// MaxLineBytes caps one physical line (default DefaultMaxLineBytes);
	// longer lines become ErrLineTooLong items.
	MaxLineBytes int
}

// Item is one record of the input: a valid target or an invalid line.
type Item struct {
	// Line is the 1-based physical line number of the record.
	Line int
	// Raw is the trimmed text of the record's domain field (the whole line
	// for plain lists), cut to 512 bytes.
	Raw string
	// Target is the normalised target; zero when Err is set.
	Target Target
	// Err is nil for a valid target; otherwise a *LineError whose reason
	// matches one of the Err* sentinels. The scanner records such an item
	// as an invalid-input result.
	Err error
}

// LineError says why one input line is not a usable target.
type LineError struct {
	Line int    // 1-based line number
	Raw  string // the offending text, cut to 512 bytes
	Err  error  // the reason; matches one of the Err* sentinels
}

func (e *LineError) Error() string {
	return fmt.Sprintf("line %d: %q: %v", e.Line, e.Raw, e.Err)
}

// Unwrap returns the reason.
func (e *LineError) Unwrap() error { return e.Err }

// Stats counts what a Reader has seen so far.
type Stats struct {
	Lines      int  // physical lines read
	Items      int  // valid items returned
	Invalid    int  // invalid items returned
	Duplicates int  // valid records skipped because their host was seen before
	Skipped    int  // blank lines, comments and empty cells
	Header     bool // whether the first record was a header row
}

// Reader streams Items from a domain list. It is not safe for concurrent
// use. Memory: one line buffer plus, unless KeepDuplicates, a set of the
// distinct hosts returned so far.
type Reader struct {
	opts   Options
	br     *bufio.Reader
	closer io.Closer
	format Format
	column int // 0-based CSV/TSV column
	seen   *hostSet
	stats  Stats
	line   int
	// pending is a first record read during detection and not yet yielded.
	pending    record
	hasPending bool
	fields     []string
	bomChecked bool
}

// Open opens path ("-" for stdin) and returns a Reader over it. The caller
// must Close it.
func Open(path string, opts Options) (*Reader, error) {
	if path == "-" {
		return NewReader(os.Stdin, opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open input: %w", err)
	}
	r, err := NewReader(f, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader returns a Reader over r, which may be gzip-compressed. It reads
// up to the first record to detect the format and header, and fails only on
// an I/O error or when opts.Column cannot be resolved. Close does not close
// r.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	peek := bufio.NewReader(r)
	src := io.Reader(peek)
	if magic, _ := peek.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(peek)
		if err != nil {
			return nil, fmt.Errorf("read gzip input: %w", err)
		}
		src = zr
	}
	// A line longer than the buffer makes ReadSlice fail with
	// ErrBufferFull, which is how over-long lines are found.
	br := bufio.NewReaderSize(src, opts.MaxLineBytes+2)
	rd := &Reader{opts: opts, br: br, format: opts.Format}
	if !opts.KeepDuplicates {
		rd.seen = newHostSet()
	}
	if err := rd.detect(); err != nil {
		return nil, err
	}
	return rd, nil
}

// Format returns the layout in use (after auto-detection).
func (r *Reader) Format() Format { return r.format }

// Stats returns the counts so far.
func (r *Reader) Stats() Stats { return r.stats }

// Close closes the file opened by Open; it is a no-op for NewReader.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// Next returns the next item: a valid target or an invalid line (Item.Err
// set). It returns io.EOF after the last item, and another error only when
// reading the underlying stream fails (an I/O or gzip error), after which
// the Reader is unusable.
func (r *Reader) Next() (Item, error) {
	for {
		rec, err := r.nextRecord()
		if err != nil {
			return Item{}, err
		}
		it, ok := r.item(rec)
		if ok {
			return it, nil
		}
	}
}

// record is one non-blank, non-comment physical line without its ending.
type record struct {
	text    string // the line, or its first 512 bytes when tooLong
	tooLong bool   // the line exceeded Options.MaxLineBytes
}

// nextRecord returns the next record, the pending first record first.
func (r *Reader) nextRecord() (record, error) {
	if r.hasPending {
		r.hasPending = false
		return r.pending, nil
	}
	for {
		rec, err := r.readLine()
		if err != nil {
			return record{}, err
		}
		if t := strings.TrimSpace(rec.text); !rec.tooLong && (t == "" || t[0] == '#') {
			r.stats.Skipped++
			continue
		}
		return rec, nil
	}
}

// readLine reads one physical line (LF or CR LF; a UTF-8 BOM is stripped
// from the first). An over-long line is consumed whole and returned cut.
func (r *Reader) readLine() (record, error) {
	b, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		rec := record{text: string(b[:min(len(b), 512)]), tooLong: true}
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.br.ReadSlice('\n')
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return record{}, fmt.Errorf("read input line %d: %w", r.line+1, err)
		}
		r.line++
		r.stats.Lines++
		r.bomChecked = true
		return rec, nil
	}
	if err != nil && (len(b) == 0 || !errors.Is(err, io.EOF)) {
		if errors.Is(err, io.EOF) {
			return record{}, io.EOF
		}
		return record{}, fmt.Errorf("read input line %d: %w", r.line+1, err)
	}
	r.line++
	r.stats.Lines++
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if !r.bomChecked {
		r.bomChecked = true
		b = bytes.TrimPrefix(b, []byte("\ufeff"))
	}
	if len(b) > r.opts.MaxLineBytes {
		// Only reachable when the buffer is larger than the cap (bufio
		// reuses a large enough reader).
		return record{text: string(b[:min(len(b), 512)]), tooLong: true}, nil
	}
	return record{text: string(b)}, nil
}

// item turns one record into an Item; ok is false when the record yields
// nothing (empty cell, duplicate).
func (r *Reader) item(rec record) (Item, bool) {
	if rec.tooLong {
		return r.invalid(rec.text, ErrLineTooLong), true
	}
	line := rec.text
	raw, ok := r.field(line)
	if !ok {
		return r.invalid(line, fmt.Errorf("%w: want column %d", ErrNoColumn, r.column+1)), true
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		r.stats.Skipped++
		return Item{}, false
	}
	t, err := Normalize(raw, r.opts.NormalizeOptions)
	if err != nil {
		return r.invalid(raw, err), true
	}
	if r.seen != nil && !r.seen.add(t.Host) {
		r.stats.Duplicates++
		return Item{}, false
	}
	r.stats.Items++
	return Item{Line: r.line, Raw: cut(raw), Target: t}, true
}

func (r *Reader) invalid(raw string, err error) Item {
	r.stats.Invalid++
	raw = cut(raw)
	return Item{Line: r.line, Raw: raw, Err: &LineError{Line: r.line, Raw: raw, Err: err}}
}

// field extracts the domain field of a record; ok is false when the record
// has too few fields.
func (r *Reader) field(line string) (string, bool) {
	switch r.format {
	case FormatCSV, FormatTSV:
		r.fields = splitFields(r.fields[:0], line, r.delim())
		if r.column >= len(r.fields) {
			return "", false
		}
		return r.fields[r.column], true
	}
	if i := inlineComment(line); i >= 0 {
		line = line[:i]
	}
	return line, true
}

// inlineComment returns the index of a "#" that starts a comment in a plain
// line (preceded by white space), or -1.
func inlineComment(line string) int {
	for i := 1; i < len(line); i++ {
		if line[i] == '#' && (line[i-1] == ' ' || line[i-1] == '\t') {
			return i
		}
	}
	return -1
}

func (r *Reader) delim() byte {
	if r.format == FormatTSV {
		return '\t'
	}
	return ','
}

func cut(s string) string {
	const max = 512
	if len(s) > max {
		return s[:max]
	}
	return s
}

// headerNames are the column names tried, in order, when Options.Column is
// empty.
var headerNames = []string{"domain", "host", "hostname", "url", "website", "site", "origin"}

// detect reads the first record, settles the format, header and column, and
// keeps the record pending unless it is a header.
func (r *Reader) detect() error {
	first, err := r.nextRecord()
	if errors.Is(err, io.EOF) {
		if r.format == FormatAuto {
			r.format = FormatPlain
		}
		return nil
	}
	if err != nil {
		return err
	}
	r.pending = first
	if first.tooLong {
		if r.format == FormatAuto {
			r.format = FormatPlain
		}
		r.hasPending = true
		return nil
	}
	if r.format == FormatAuto {
		r.format = guessFormat(first.text, r.opts.NormalizeOptions)
	}
	if r.format == FormatPlain {
		r.hasPending = !r.plainHeader(first.text)
		return nil
	}
	return r.detectColumns(first.text)
}

// guessFormat picks plain, CSV or TSV from the first record.
func guessFormat(first string, o NormalizeOptions) Format {
	if _, err := Normalize(first, o); err == nil {
		return FormatPlain
	}
	switch {
	case strings.IndexByte(first, '\t') >= 0:
		return FormatTSV
	case strings.IndexByte(first, ',') >= 0:
		return FormatCSV
	}
	return FormatPlain
}

// plainHeader reports whether the first line of a plain list is a header
// (a known column name or Options.Column) and records it.
func (r *Reader) plainHeader(first string) bool {
	name := strings.TrimSpace(first)
	if (r.opts.Column != "" && strings.EqualFold(name, r.opts.Column)) || isHeaderName(name) {
		r.stats.Header = true
		return true
	}
	return false
}

func isHeaderName(s string) bool {
	for _, h := range headerNames {
		if strings.EqualFold(strings.TrimSpace(s), h) {
			return true
		}
	}
	return false
}

// detectColumns decides whether the first CSV/TSV record is a header and
// which column holds the target.
func (r *Reader) detectColumns(first string) error {
	fields := splitFields(nil, first, r.delim())
	header := true
	for _, f := range fields {
		if _, err := Normalize(f, r.opts.NormalizeOptions); err == nil {
			header = false
			break
		}
	}
	col := strings.TrimSpace(r.opts.Column)
	n, numErr := strconv.Atoi(col)
	switch {
	case col != "" && numErr == nil:
		if n < 1 {
			return fmt.Errorf("input column %q: want a name or a 1-based index", col)
		}
		r.column = n - 1
	case col != "":
		r.column = indexFold(fields, col)
		if r.column < 0 {
			return fmt.Errorf("input column %q not in the first line %q", col, cut(first))
		}
		header = true
	case header:
		r.column = guessHeaderColumn(fields)
		if r.column < 0 {
			return fmt.Errorf("cannot tell which input column holds the domain (header %q); name it with --column", cut(first))
		}
	default:
		for i, f := range fields {
			if _, err := Normalize(f, r.opts.NormalizeOptions); err == nil {
				r.column = i
				break
			}
		}
	}
	r.stats.Header = header
	r.hasPending = !header
	return nil
}

func guessHeaderColumn(fields []string) int {
	for _, h := range headerNames {
		if i := indexFold(fields, h); i >= 0 {
			return i
		}
	}
	if len(fields) == 1 {
		return 0
	}
	return -1
}

func indexFold(fields []string, name string) int {
	for i, f := range fields {
		if strings.EqualFold(strings.TrimSpace(f), name) {
			return i
		}
	}
	return -1
}
