package manifest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"
)

// pep508Name matches the distribution name at the start of a PEP 508
// requirement.
var pep508Name = regexp.MustCompile(`^\s*([A-Za-z0-9][A-Za-z0-9._-]*)`)

// reqName returns the distribution name of a PEP 508 string or a
// requirements line ("name[extra]>=1; marker"), "" when none.
func reqName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "#egg="); i >= 0 { // git+https://…#egg=name
		s = s[i+5:]
		if j := strings.IndexAny(s, "&# "); j >= 0 {
			s = s[:j]
		}
	} else if strings.Contains(s, "://") || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") {
		if at := strings.Index(s, " @ "); at > 0 { // "name @ https://…"
			s = s[:at]
		} else {
			return ""
		}
	}
	m := pep508Name.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// requirements reads a pip requirements file: one requirement per line,
// comments and options skipped, "-r"/"-c" includes returned.
func requirements(data []byte) ([]Dep, []string) {
	var deps []Dep
	var includes []string
	// Joined continuation lines.
	text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\\\n", " ")
	for line := range strings.SplitSeq(text, "\n") {
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if f := strings.Fields(line); f[0] == "-r" || f[0] == "-c" || f[0] == "--requirement" || f[0] == "--constraint" {
			if len(f) > 1 {
				includes = append(includes, f[1])
			}
			continue
		}
		for _, p := range []string{"--requirement=", "--constraint="} {
			if rest, ok := strings.CutPrefix(line, p); ok {
				includes = append(includes, strings.TrimSpace(rest))
				line = ""
			}
		}
		if line == "" || strings.HasPrefix(line, "-") { // -e, -i, --hash …
			if strings.HasPrefix(line, "-e ") || strings.HasPrefix(line, "--editable") {
				if n := reqName(line[strings.IndexByte(line, ' ')+1:]); n != "" && strings.Contains(line, "#egg=") {
					deps = append(deps, Dep{PyPI, n, ScopeRuntime})
				}
			}
			continue
		}
		if n := reqName(line); n != "" {
			deps = append(deps, Dep{PyPI, n, ScopeRuntime})
		}
	}
	return deps, includes
}

// pyproject reads PEP 621 [project] dependencies and optional-dependencies,
// PEP 735 [dependency-groups], and Poetry's dependency tables.
func pyproject(data []byte) ([]Dep, error) {
	var pp struct {
		Project struct {
			Dependencies         []string            `toml:"dependencies"`
			OptionalDependencies map[string][]string `toml:"optional-dependencies"`
		} `toml:"project"`
		DependencyGroups map[string][]any `toml:"dependency-groups"`
		Tool             struct {
			Poetry struct {
				Dependencies    map[string]any `toml:"dependencies"`
				DevDependencies map[string]any `toml:"dev-dependencies"`
				Group           map[string]struct {
					Dependencies map[string]any `toml:"dependencies"`
				} `toml:"group"`
			} `toml:"poetry"`
		} `toml:"tool"`
	}
	if _, err := toml.Decode(string(data), &pp); err != nil {
		return nil, fmt.Errorf("pyproject.toml: %w", err)
	}
	var out []Dep
	add := func(req, scope string) {
		if n := reqName(req); n != "" {
			out = append(out, Dep{PyPI, n, scope})
		}
	}
	for _, r := range pp.Project.Dependencies {
		add(r, ScopeRuntime)
	}
	for _, g := range sortedKeys(pp.Project.OptionalDependencies) {
		for _, r := range pp.Project.OptionalDependencies[g] {
			add(r, ScopeOptional)
		}
	}
	for _, g := range sortedKeys(pp.DependencyGroups) {
		for _, r := range pp.DependencyGroups[g] {
			if s, ok := r.(string); ok { // tables are {include-group = "…"}
				add(s, ScopeDev)
			}
		}
	}
	poetry := pp.Tool.Poetry
	for _, d := range keys(poetry.Dependencies, PyPI, ScopeRuntime) {
		if !strings.EqualFold(d.Name, "python") {
			out = append(out, d)
		}
	}
	out = append(out, keys(poetry.DevDependencies, PyPI, ScopeDev)...)
	for _, g := range sortedKeys(poetry.Group) {
		out = append(out, keys(poetry.Group[g].Dependencies, PyPI, ScopeDev)...)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// pipfile reads the keys of [packages] and [dev-packages].
func pipfile(data []byte) ([]Dep, error) {
	var pf struct {
		Packages    map[string]any `toml:"packages"`
		DevPackages map[string]any `toml:"dev-packages"`
	}
	if _, err := toml.Decode(string(data), &pf); err != nil {
		return nil, fmt.Errorf("Pipfile: %w", err)
	}
	return append(keys(pf.Packages, PyPI, ScopeRuntime), keys(pf.DevPackages, PyPI, ScopeDev)...), nil
}

// pipfileLock reads the keys of "default" and "develop".
func pipfileLock(data []byte) ([]Dep, error) {
	var pl struct {
		Default map[string]json.RawMessage `json:"default"`
		Develop map[string]json.RawMessage `json:"develop"`
	}
	if err := json.Unmarshal(data, &pl); err != nil {
		return nil, fmt.Errorf("Pipfile.lock: %w", err)
	}
	return append(keys(pl.Default, PyPI, ScopeLock), keys(pl.Develop, PyPI, ScopeLock)...), nil
}

// tomlPackages reads the names of [[package]] tables (poetry.lock, uv.lock,
// Cargo.lock).
func tomlPackages(data []byte, eco string) ([]Dep, error) {
	var lf struct {
		Package []struct {
			Name string `toml:"name"`
		} `toml:"package"`
	}
	if _, err := toml.Decode(string(data), &lf); err != nil {
		return nil, fmt.Errorf("lockfile: %w", err)
	}
	names := map[string]bool{}
	for _, p := range lf.Package {
		if p.Name != "" {
			names[p.Name] = true
		}
	}
	return keys(names, eco, ScopeLock), nil
}

// setupCfg reads install_requires in [options] and the lists of
// [options.extras_require] (INI with indented continuation lines).
func setupCfg(data []byte) []Dep {
	var out []Dep
	section, key := "", ""
	for line := range strings.SplitSeq(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";") {
			continue
		}
		if strings.HasPrefix(trimmed, "[") && strings.HasSuffix(trimmed, "]") {
			section, key = strings.ToLower(strings.Trim(trimmed, "[] ")), ""
			continue
		}
		value := trimmed
		if line[0] != ' ' && line[0] != '\t' {
			k, v, ok := strings.Cut(trimmed, "=")
			if !ok {
				k, v, ok = strings.Cut(trimmed, ":")
			}
			if !ok {
				key = ""
				continue
			}
			key, value = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		}
		scope := ""
		switch {
		case section == "options" && key == "install_requires":
			scope = ScopeRuntime
		case section == "options.extras_require" && key != "":
			scope = ScopeOptional
		}
		if scope == "" {
			continue
		}
		if n := reqName(value); n != "" { // "a; python_version<'3'": the name only
			out = append(out, Dep{PyPI, n, scope})
		}
	}
	return out
}

var (
	setupList   = regexp.MustCompile(`(?s)(install_requires|extras_require|tests_require|setup_requires)\s*=\s*(\[.*?\]|\{.*?\})`)
	stringConst = regexp.MustCompile(`["']([^"'\n]+)["']`)
)

// setupPy reads string literals of install_requires=[…] and friends (low
// confidence: setup.py is code; lists built at run time are missed).
func setupPy(data []byte) []Dep {
	var out []Dep
	for _, m := range setupList.FindAllStringSubmatch(string(data), -1) {
		body := m[2]
		for _, s := range stringConst.FindAllStringSubmatch(body, -1) {
			if strings.HasPrefix(m[2], "{") && strings.Contains(body, s[0]+":") {
				continue // a dict key (extra name)
			}
			if n := reqName(s[1]); n != "" {
				scope := ScopeRuntime
				if m[1] != "install_requires" {
					scope = ScopeOptional
				}
				out = append(out, Dep{PyPI, n, scope})
			}
		}
	}
	return out
}

// environmentYML reads conda dependencies and the pip: sub-list.
func environmentYML(data []byte) ([]Dep, error) {
	var env struct {
		Dependencies []any `yaml:"dependencies"`
	}
	if err := yaml.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("environment.yml: %w", err)
	}
	var out []Dep
	for _, d := range env.Dependencies {
		switch x := d.(type) {
		case string:
			name := x
			if i := strings.LastIndex(name, "::"); i >= 0 { // channel::name
				name = name[i+2:]
			}
			if n := condaName(name); n != "" {
				out = append(out, Dep{Conda, n, ScopeRuntime})
			}
		case map[string]any:
			if pip, ok := x["pip"].([]any); ok {
				for _, p := range pip {
					if s, ok := p.(string); ok {
						if n := reqName(s); n != "" {
							out = append(out, Dep{PyPI, n, ScopeRuntime})
						}
					}
				}
			}
		}
	}
	return out, nil
}

// condaName strips the version spec of "name=1.2" / "name>=1".
func condaName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "=<>! "); i >= 0 {
		s = s[:i]
	}
	return s
}
