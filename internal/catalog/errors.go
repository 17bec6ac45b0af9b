package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a catalog: where it is and what is wrong.
type Problem struct {
	File       string
	Technology string // "" for file-level problems
	Field      string // "" when not about one field
	Msg        string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Technology != "" {
		fmt.Fprintf(&b, ": %q", p.Technology)
	}
	if p.Field != "" {
		fmt.Fprintf(&b, ": %s", p.Field)
	}
	b.WriteString(": ")
	b.WriteString(p.Msg)
	return b.String()
}

// LoadError lists every problem found while loading; a catalog with
// problems is refused as a whole.
type LoadError struct {
	Problems []Problem
}

func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "catalog: %d problem(s):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// problems accumulates Problems.
type problems struct{ list []Problem }

func (ps *problems) add(file, tech, field, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: file, Technology: tech, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool {
		a, b := ps.list[i], ps.list[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Technology < b.Technology
	})
	return &LoadError{Problems: ps.list}
}
