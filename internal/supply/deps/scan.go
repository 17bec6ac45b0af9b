package deps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/aicensus/aicensus/internal/supply/manifest"
	"github.com/aicensus/aicensus/internal/supply/sdk"
)

// SkipDirs are directory names never descended into (§3.3).
func SkipDirs() []string {
	return []string{".git", "node_modules", "vendor", "third_party", ".venv", "venv", "site-packages", "dist", "build", ".tox", "__pycache__"}
}

// MaxManifestBytes caps the size of a file read as a manifest.
const MaxManifestBytes = 16 << 20

// Match is one SDK a repository depends on.
type Match struct {
	Ecosystem string `json:"ecosystem"`
	Package   string `json:"package"` // as declared
	SDK       string `json:"sdk"`     // the list entry (pattern)
	Tier      string `json:"tier"`
	File      string `json:"file"` // relative to the repository
	Scope     string `json:"scope"`
}

// Repo is the scan of one checkout.
type Repo struct {
	Name        string    `json:"name"`
	Path        string    `json:"path"`
	Manifests   int       `json:"manifests"`
	ParseErrors []string  `json:"parse_errors,omitempty"`
	Ecosystems  []string  `json:"ecosystems"` // with any manifest
	Matches     []Match   `json:"matches,omitempty"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
}

// Scanner scans checkouts. The zero value uses the default SDK list and
// GOMAXPROCS workers. A Scanner is safe for concurrent use once configured.
type Scanner struct {
	List    *sdk.List
	Workers int
}

// ScanRepos scans each directory as one repository, concurrently; results
// keep the order of dirs. Name is the last two path elements (owner/name)
// when the parent is not the scan root, else the base name.
func (s *Scanner) ScanRepos(ctx context.Context, dirs []string) ([]Repo, error) {
	list := s.List
	if list == nil {
		list = sdk.Default()
	}
	out := make([]Repo, len(dirs))
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, d := range dirs {
		g.Go(func() error {
			r, err := scanRepo(gctx, list, d)
			out[i] = r // each goroutine owns its element
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// RepoName names a checkout directory: "owner/name" from its last two path
// elements, or the base name when the directory has no parent element.
func RepoName(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	base := filepath.Base(abs)
	parent := filepath.Base(filepath.Dir(abs))
	if parent == "/" || parent == "." || parent == "" {
		return base
	}
	return parent + "/" + base
}

// repoScan is the state of one repository's scan.
type repoScan struct {
	list *sdk.List
	dir  string
	r    Repo
	ecos map[string]bool
	seen map[string]bool // files already parsed (requirements includes)
}

func scanRepo(ctx context.Context, list *sdk.List, dir string) (Repo, error) {
	s := &repoScan{list: list, dir: dir, r: Repo{Name: RepoName(dir), Path: dir}, ecos: map[string]bool{}, seen: map[string]bool{}}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return s.r, fmt.Errorf("scan %s: not a directory", dir)
	}
	skip := SkipDirs()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // unreadable entry: skip
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() {
			if p != dir && slices.Contains(skip, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		kind := manifest.Kind(rel)
		if kind == "" {
			return nil
		}
		data, err := readCapped(p)
		if err != nil {
			s.r.ParseErrors = append(s.r.ParseErrors, rel+": "+err.Error())
			return nil
		}
		s.visit(rel, kind, data)
		return nil
	})
	if err != nil {
		return s.r, fmt.Errorf("scan %s: %w", dir, err)
	}
	for e := range s.ecos {
		s.r.Ecosystems = append(s.r.Ecosystems, e)
	}
	slices.Sort(s.r.Ecosystems)
	return s.r, nil
}

// visit parses one manifest, records its SDK matches and follows its
// requirements includes inside the repository.
func (s *repoScan) visit(rel, kind string, data []byte) {
	if s.seen[rel] {
		return
	}
	s.seen[rel] = true
	res, err := manifest.ParseKind(kind, data)
	if err != nil {
		s.r.ParseErrors = append(s.r.ParseErrors, rel+": "+err.Error())
		return
	}
	s.r.Manifests++
	lock := manifest.IsLockfile(kind)
	for _, d := range res.Deps {
		s.ecos[d.Ecosystem] = true
		e, ok := s.list.Lookup(d.Ecosystem, d.Name)
		if !ok {
			continue
		}
		scope := d.Scope
		if lock {
			scope = manifest.ScopeLock
		}
		s.r.Matches = append(s.r.Matches, Match{Ecosystem: d.Ecosystem, Package: d.Name, SDK: e.Pattern, Tier: e.Tier, File: rel, Scope: scope})
	}
	for _, inc := range res.Includes {
		target := path.Clean(path.Join(path.Dir(rel), filepath.ToSlash(inc)))
		if strings.HasPrefix(target, "../") || path.IsAbs(target) || s.seen[target] {
			continue
		}
		data, err := readCapped(filepath.Join(s.dir, filepath.FromSlash(target)))
		if err != nil {
			continue
		}
		s.visit(target, "requirements", data)
	}
}

var errTooLarge = errors.New("larger than the manifest cap")

func readCapped(p string) ([]byte, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxManifestBytes {
		return nil, errTooLarge
	}
	return os.ReadFile(p)
}

// Children returns the immediate subdirectories of dir (not hidden), sorted:
// a directory of checkouts.
func Children(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}
