package catalog

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
)

// Release names the embedded AI catalog's release; Catalog.Version adds a
// content hash.
const Release = "aicensus-ai-2026.11"

//go:embed data
var embedded embed.FS

// Embedded reads the AI catalog shipped in the binary.
func Embedded() (*Set, error) {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		return nil, err
	}
	s, err := ReadFS(sub, ".", "embedded:internal/catalog/data")
	if err != nil {
		return nil, err
	}
	s.Strict, s.AI = true, true
	return s, nil
}

// Open builds the catalog aicensus runs with: the embedded AI catalog (unless
// noEmbedded) first, then every extra path in order. Problems in all of them
// are reported together.
func Open(noEmbedded bool, paths ...string) (*Catalog, error) {
	var sets []*Set
	var errs []error
	if !noEmbedded {
		s, err := Embedded()
		if err != nil {
			return nil, fmt.Errorf("catalog: embedded: %w", err)
		}
		sets = append(sets, s)
	}
	for _, p := range paths {
		s, err := ReadPath(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sets = append(sets, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(sets) == 0 {
		return nil, errors.New("catalog: no fingerprints: the embedded catalog is disabled and no --catalog given")
	}
	return Build(Release, sets...)
}
