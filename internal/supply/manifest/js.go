package manifest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// packageJSON reads the keys of dependencies, devDependencies,
// peerDependencies and optionalDependencies.
func packageJSON(data []byte) ([]Dep, error) {
	var pj struct {
		Dependencies         map[string]any `json:"dependencies"`
		DevDependencies      map[string]any `json:"devDependencies"`
		PeerDependencies     map[string]any `json:"peerDependencies"`
		OptionalDependencies map[string]any `json:"optionalDependencies"`
	}
	if err := json.Unmarshal(data, &pj); err != nil {
		return nil, fmt.Errorf("package.json: %w", err)
	}
	var out []Dep
	for _, s := range []struct {
		m     map[string]any
		scope string
	}{{pj.Dependencies, ScopeRuntime}, {pj.DevDependencies, ScopeDev}, {pj.PeerDependencies, ScopePeer}, {pj.OptionalDependencies, ScopeOptional}} {
		out = append(out, keys(s.m, NPM, s.scope)...)
	}
	return out, nil
}

// keys turns map keys into sorted deps.
func keys[V any](m map[string]V, eco, scope string) []Dep {
	ks := make([]string, 0, len(m))
	for k := range m {
		if k = strings.TrimSpace(k); k != "" {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	out := make([]Dep, len(ks))
	for i, k := range ks {
		out[i] = Dep{Ecosystem: eco, Name: k, Scope: scope}
	}
	return out
}

// packageLock reads lockfile v2/v3 "packages" ("node_modules/a/node_modules/b"
// → b) and v1 "dependencies" keys.
func packageLock(data []byte) ([]Dep, error) {
	var pl struct {
		Packages     map[string]json.RawMessage `json:"packages"`
		Dependencies map[string]json.RawMessage `json:"dependencies"`
	}
	if err := json.Unmarshal(data, &pl); err != nil {
		return nil, fmt.Errorf("package-lock.json: %w", err)
	}
	names := map[string]bool{}
	for k := range pl.Packages {
		if i := strings.LastIndex(k, "node_modules/"); i >= 0 {
			names[k[i+len("node_modules/"):]] = true
		}
	}
	for k := range pl.Dependencies {
		names[k] = true
	}
	return keys(names, NPM, ScopeLock), nil
}

// yarnLock reads the entry headers of yarn.lock v1 and Berry: unindented
// lines ending in ":" listing "name@range" specifiers.
func yarnLock(data []byte) []Dep {
	names := map[string]bool{}
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == ' ' || line[0] == '#' || !strings.HasSuffix(line, ":") {
			continue
		}
		for spec := range strings.SplitSeq(strings.TrimSuffix(line, ":"), ",") {
			spec = strings.Trim(strings.TrimSpace(spec), `"`)
			if name := npmSpecName(spec); name != "" && name != "__metadata" {
				names[name] = true
			}
		}
	}
	return keys(names, NPM, ScopeLock)
}

// npmSpecName returns the package of "name@range" or "@scope/name@range".
func npmSpecName(spec string) string {
	at := strings.LastIndexByte(spec, '@')
	if at <= 0 {
		return spec
	}
	return spec[:at]
}

// pnpmLock reads importers' dependency keys and the package keys
// ("/name@1.0.0", "name@1.0.0", "/@scope/name/1.0.0" in old versions).
func pnpmLock(data []byte) ([]Dep, error) {
	var pl struct {
		Importers map[string]map[string]map[string]any `yaml:"importers"`
		Packages  map[string]any                       `yaml:"packages"`
		Deps      map[string]any                       `yaml:"dependencies"`
		DevDeps   map[string]any                       `yaml:"devDependencies"`
	}
	if err := yaml.Unmarshal(data, &pl); err != nil {
		return nil, fmt.Errorf("pnpm-lock.yaml: %w", err)
	}
	names := map[string]bool{}
	for _, imp := range pl.Importers {
		for _, section := range imp {
			for k := range section {
				names[k] = true
			}
		}
	}
	for k := range pl.Deps {
		names[k] = true
	}
	for k := range pl.DevDeps {
		names[k] = true
	}
	for k := range pl.Packages {
		k = strings.TrimPrefix(k, "/")
		if i := strings.IndexByte(k, '('); i >= 0 {
			k = k[:i]
		}
		name := npmSpecName(k)
		if name == k && strings.Count(k, "/") >= 1 { // old "/name/1.0.0"
			if i := strings.LastIndexByte(k, '/'); i > 0 {
				name = k[:i]
			}
		}
		if name != "" {
			names[name] = true
		}
	}
	return keys(names, NPM, ScopeLock), nil
}
