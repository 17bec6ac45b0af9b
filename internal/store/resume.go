package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
)

// LineSet is a set of input line numbers (1-based) as a bitmap: 1,000,000
// lines take 125 KB. The zero value is an empty set. A LineSet is not safe
// for concurrent modification; concurrent Has calls are fine.
type LineSet struct {
	words []uint64
	n     int
}

// Add puts line into the set; lines < 1 are ignored.
func (s *LineSet) Add(line int) {
	if line < 1 {
		return
	}
	w := line >> 6
	if w >= len(s.words) {
		s.words = append(s.words, make([]uint64, w+1-len(s.words))...)
	}
	bit := uint64(1) << (line & 63)
	if s.words[w]&bit == 0 {
		s.words[w] |= bit
		s.n++
	}
}

// Has reports whether line is in the set.
func (s *LineSet) Has(line int) bool {
	if line < 1 {
		return false
	}
	w := line >> 6
	return w < len(s.words) && s.words[w]&(uint64(1)<<(line&63)) != 0
}

// Len returns the number of lines in the set.
func (s *LineSet) Len() int { return s.n }

// Max returns the largest line in the set, or 0 when it is empty.
func (s *LineSet) Max() int {
	for w := len(s.words) - 1; w >= 0; w-- {
		if s.words[w] != 0 {
			return w<<6 + 63 - bits.LeadingZeros64(s.words[w])
		}
	}
	return 0
}

// StoredLines returns the input line numbers that have a stored result in
// the scan. A resumed live scan skips these lines: with the Writer's
// (scan, target) check this gives every input exactly once.
func (s *Store) StoredLines(ctx context.Context, scanID int64) (*LineSet, error) {
	set := &LineSet{}
	rows, err := s.db.QueryContext(ctx, `SELECT line FROM results WHERE scan_id = ? AND line IS NOT NULL`, scanID)
	if err != nil {
		return nil, fmt.Errorf("stored lines of scan %d: %w", scanID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var line int
		if err := rows.Scan(&line); err != nil {
			return nil, fmt.Errorf("stored lines of scan %d: %w", scanID, err)
		}
		set.Add(line)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stored lines of scan %d: %w", scanID, err)
	}
	return set, nil
}

// EachStoredTarget calls fn with the target and input line (0 if none) of
// every stored result of the scan, streaming (memory does not grow with the
// scan), in no particular order. An error from fn stops and is returned.
func (s *Store) EachStoredTarget(ctx context.Context, scanID int64, fn func(target string, line int) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT target, line FROM results WHERE scan_id = ?`, scanID)
	if err != nil {
		return fmt.Errorf("stored targets of scan %d: %w", scanID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var target string
		var line sql.NullInt64
		if err := rows.Scan(&target, &line); err != nil {
			return fmt.Errorf("stored targets of scan %d: %w", scanID, err)
		}
		if err := fn(target, int(line.Int64)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("stored targets of scan %d: %w", scanID, err)
	}
	return nil
}
