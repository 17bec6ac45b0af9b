package catalog

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
)

// Set is the raw content of one catalog file or folder: read and parsed as
// JSON, not yet validated. Build turns Sets into a Catalog.
type Set struct {
	// Name is the file or folder path used in problem reports.
	Name string
	// Strict requires the aicensus fields (open_source, license, sources)
	// on every technology; it is set for the embedded AI catalog.
	Strict bool
	// AI marks every technology of the set as an AI technology unless the
	// technology says "ai": false.
	AI bool

	categories map[string]json.RawMessage
	techs      []rawTech
	hash       [sha256.Size]byte
	probs      problems
}

// rawTech is one technology as read, with the file it came from.
type rawTech struct {
	name   string
	file   string
	fields map[string]json.RawMessage
	keys   []string // field names in file order
}

// ReadPath reads a Wappalyzer-format catalog from a file or a folder on
// disk. A folder holds categories.json and technologies/*.json (or the
// webappanalyzer layout src/technologies/*.json); a file holds either a
// technologies object or {"categories": {...}, "technologies": {...}}.
func ReadPath(p string) (*Set, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", p, err)
	}
	if st.IsDir() {
		return ReadFS(os.DirFS(p), ".", p)
	}
	return ReadFS(os.DirFS(filepath.Dir(p)), filepath.Base(p), p)
}

// ReadFS is ReadPath over an fs.FS: root is a folder or file inside fsys and
// name is how problems refer to it.
func ReadFS(fsys fs.FS, root, name string) (*Set, error) {
	s := &Set{Name: name, categories: map[string]json.RawMessage{}}
	h := sha256.New()
	st, err := fs.Stat(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", name, err)
	}
	var files []string
	if st.IsDir() {
		for _, dir := range []string{"technologies", "src/technologies"} {
			m, _ := fs.Glob(fsys, path.Join(root, dir, "*.json"))
			files = append(files, m...)
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("catalog %s: no technologies/*.json in folder", name)
		}
		sort.Strings(files)
		for _, c := range []string{"categories.json", "src/categories.json"} {
			if b, err := fs.ReadFile(fsys, path.Join(root, c)); err == nil {
				h.Write(b)
				s.readCategories(displayName(name, root, path.Join(root, c)), b)
				break
			}
		}
	} else {
		files = []string{root}
	}
	// Files are decoded in parallel (the webappanalyzer database is 27
	// files, 3.7 MB), then merged in file order.
	parts := make([]*Set, len(files))
	contents := make([][]byte, len(files))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, f := range files {
		g.Go(func() error {
			b, err := fs.ReadFile(fsys, f)
			if err != nil {
				return fmt.Errorf("catalog %s: %w", name, err)
			}
			part := &Set{categories: map[string]json.RawMessage{}}
			part.readTechnologies(displayName(name, root, f), b, !st.IsDir())
			parts[i], contents[i] = part, b
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, part := range parts {
		h.Write([]byte(files[i]))
		h.Write(contents[i])
		s.techs = append(s.techs, part.techs...)
		s.probs.list = append(s.probs.list, part.probs.list...)
		for k, v := range part.categories {
			s.categories[k] = v
		}
	}
	copy(s.hash[:], h.Sum(nil))
	return s, nil
}

func displayName(name, root, file string) string {
	if file == root {
		return name
	}
	return filepath.Join(name, strings.TrimPrefix(strings.TrimPrefix(file, root), "/"))
}

// jsonProblem turns a decoding error into a message with line and column.
func jsonProblem(b []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(b)) {
		return err.Error()
	}
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(b[:off], '\n'))
	return fmt.Sprintf("line %d column %d: %v", line, col, err)
}

func (s *Set) readCategories(file string, b []byte) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		s.probs.add(file, "", "", "invalid JSON: %s", jsonProblem(b, err))
		return
	}
	for k, v := range m {
		s.categories[k] = v
	}
}

func (s *Set) readTechnologies(file string, b []byte, single bool) {
	var top orderedObject
	if err := json.Unmarshal(b, &top); err != nil {
		s.probs.add(file, "", "", "invalid JSON: %s", jsonProblem(b, err))
		return
	}
	if single {
		if raw, ok := top.get("technologies"); ok {
			if cats, ok := top.get("categories"); ok {
				s.readCategories(file, cats)
			}
			top = orderedObject{}
			if err := json.Unmarshal(raw, &top); err != nil {
				s.probs.add(file, "", "technologies", "invalid JSON: %v", err)
				return
			}
		}
	}
	// One decode of the whole object (validated once); a technology that is
	// not an object is found again on the slow path to name it.
	var techs map[string]map[string]json.RawMessage
	if err := json.Unmarshal(top.raw, &techs); err != nil {
		for _, kv := range top.items {
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(kv.value, &fields); err != nil {
				s.probs.add(file, kv.key, "", "want a JSON object: %v", err)
			}
		}
		return
	}
	for _, kv := range top.items {
		fields := techs[kv.key]
		t := rawTech{name: kv.key, file: file, fields: fields}
		for k := range fields {
			t.keys = append(t.keys, k)
		}
		sort.Strings(t.keys)
		s.techs = append(s.techs, t)
	}
}

// orderedObject is a JSON object with its keys in a deterministic (sorted)
// order, so that patterns and problems come out the same way every time.
type orderedObject struct {
	items []keyValue
	raw   []byte // the object as decoded
}

type keyValue struct {
	key   string
	value json.RawMessage
}

func (o *orderedObject) get(k string) (json.RawMessage, bool) {
	for _, kv := range o.items {
		if kv.key == k {
			return kv.value, true
		}
	}
	return nil, false
}

func (o *orderedObject) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("want an object, got null")
	}
	o.raw = b
	o.items = make([]keyValue, 0, len(m))
	for k, v := range m {
		o.items = append(o.items, keyValue{key: k, value: v})
	}
	sort.Slice(o.items, func(i, j int) bool { return o.items[i].key < o.items[j].key })
	return nil
}

// categoryID parses a category key.
func categoryID(k string) (int, error) { return strconv.Atoi(k) }
