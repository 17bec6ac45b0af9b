package companies

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aicensus/aicensus/internal/store"
)

// Errors of ParseSize; test with errors.Is.
var (
	// ErrNoSize means the cell is empty or says zero employees (sources
	// such as the YC directory write 0 for "unknown").
	ErrNoSize = errors.New("no size")
	// ErrBadSize means the cell is not a number or range ParseSize knows.
	ErrBadSize = errors.New("unparsable size")
)

// Size is a parsed company size.
type Size struct {
	Bucket store.SizeBucket
	// Employees is the headcount when the cell was a single number, else 0.
	Employees int64
}

// ParseSize maps a size cell to a bucket of store.SizeBuckets:
//
//   - a number ("2200000", "2,200,000", "12 employees", "1.5k") is an exact
//     headcount: its bucket, and Employees set;
//   - a range "LO-HI" (also with spaces, commas, en dashes or "to"): the
//     bucket that is exactly LO-HI, else the bucket holding the midpoint;
//   - an open range "N+", ">N", "over N", "N or more": the bucket of N+1,
//     so "10000+" and "10001+" both mean 10001+;
//   - "<N" and "<=N": the range 1..N-1 and 1..N.
//
// Empty cells and zero give ErrNoSize; anything else ErrBadSize.
func ParseSize(cell string) (Size, error) {
	s := strings.ToLower(strings.TrimSpace(cell))
	for _, w := range []string{"employees", "employee", "people", "staff", "persons"} {
		s = strings.TrimSpace(strings.TrimSuffix(s, w))
	}
	if s == "" || s == "0" {
		return Size{}, ErrNoSize
	}
	s = strings.NewReplacer("\u2013", "-", "\u2014", "-", "\u2212", "-", " to ", "-", "\u2264", "<=", "\u2265", ">=").Replace(s)
	s = strings.Join(strings.Fields(s), "")
	bucket := func(n int64) (Size, error) {
		b, ok := store.BucketOf(n)
		if !ok {
			return Size{}, fmt.Errorf("%w: %q", ErrNoSize, cell)
		}
		return Size{Bucket: b}, nil
	}
	switch {
	case strings.HasSuffix(s, "+"), strings.HasSuffix(s, "ormore"):
		n, err := sizeNumber(strings.TrimSuffix(strings.TrimSuffix(s, "+"), "ormore"), cell)
		if err != nil {
			return Size{}, err
		}
		return bucket(n + 1)
	case strings.HasPrefix(s, ">="):
		n, err := sizeNumber(s[2:], cell)
		if err != nil {
			return Size{}, err
		}
		return bucket(n + 1)
	case strings.HasPrefix(s, ">"), strings.HasPrefix(s, "over"), strings.HasPrefix(s, "morethan"):
		n, err := sizeNumber(strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(s, ">"), "over"), "morethan"), cell)
		if err != nil {
			return Size{}, err
		}
		return bucket(n + 1)
	case strings.HasPrefix(s, "<="):
		n, err := sizeNumber(s[2:], cell)
		if err != nil {
			return Size{}, err
		}
		return rangeBucket(1, n, cell)
	case strings.HasPrefix(s, "<"), strings.HasPrefix(s, "under"), strings.HasPrefix(s, "lessthan"):
		n, err := sizeNumber(strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(s, "<"), "under"), "lessthan"), cell)
		if err != nil {
			return Size{}, err
		}
		return rangeBucket(1, n-1, cell)
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok && lo != "" {
		l, err := sizeNumber(lo, cell)
		if err != nil {
			return Size{}, err
		}
		h, err := sizeNumber(hi, cell)
		if err != nil {
			return Size{}, err
		}
		return rangeBucket(l, h, cell)
	}
	n, err := sizeNumber(s, cell)
	if err != nil {
		return Size{}, err
	}
	sz, err := bucket(n)
	sz.Employees = n
	return sz, err
}

// rangeBucket maps lo..hi to the bucket that is exactly that range, else to
// the bucket of the midpoint.
func rangeBucket(lo, hi int64, cell string) (Size, error) {
	if hi < lo || hi < 1 {
		return Size{}, fmt.Errorf("%w: %q", ErrBadSize, cell)
	}
	lo = max(lo, 1)
	for _, b := range store.SizeBuckets() {
		if b.Min == lo && b.Max == hi {
			return Size{Bucket: b}, nil
		}
	}
	b, _ := store.BucketOf(lo + (hi-lo)/2)
	return Size{Bucket: b}, nil
}

// sizeNumber parses a non-negative count without separators: digits,
// optionally with a decimal part and a k/m suffix ("1.5k"); the result must
// be a whole number.
func sizeNumber(s, cell string) (int64, error) {
	s = strings.NewReplacer(",", "", "_", "", "'", "", "~", "", "approx", "", "about", "").Replace(s)
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "m"):
		mult, s = 1e6, s[:len(s)-1]
	}
	if s == "" || strings.ContainsAny(s, "eE+-") {
		return 0, fmt.Errorf("%w: %q", ErrBadSize, cell)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && mult == 1 {
		if n < 0 {
			return 0, fmt.Errorf("%w: %q", ErrBadSize, cell)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f*mult > 1e12 {
		return 0, fmt.Errorf("%w: %q", ErrBadSize, cell)
	}
	v := f * mult
	if v != float64(int64(v)) {
		return 0, fmt.Errorf("%w: %q (not a whole number)", ErrBadSize, cell)
	}
	return int64(v), nil
}
