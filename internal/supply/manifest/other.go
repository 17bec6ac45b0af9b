package manifest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
	"golang.org/x/mod/modfile"
)

// goMod reads require directives (single and block); "// indirect" ones get
// ScopeIndirect.
func goMod(data []byte) ([]Dep, error) {
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return nil, fmt.Errorf("go.mod: %w", err)
	}
	out := make([]Dep, 0, len(f.Require))
	for _, r := range f.Require {
		scope := ScopeRuntime
		if r.Indirect {
			scope = ScopeIndirect
		}
		out = append(out, Dep{Go, r.Mod.Path, scope})
	}
	return out, nil
}

// cargoToml reads [dependencies], [dev-dependencies], [build-dependencies],
// [workspace.dependencies] and [target.*.*dependencies], honouring
// `package = "real-name"` renames.
func cargoToml(data []byte) ([]Dep, error) {
	type table = map[string]any
	var ct struct {
		Dependencies      table                        `toml:"dependencies"`
		DevDependencies   table                        `toml:"dev-dependencies"`
		BuildDependencies table                        `toml:"build-dependencies"`
		Workspace         struct{ Dependencies table } `toml:"workspace"`
		Target            map[string]struct {
			Dependencies      table `toml:"dependencies"`
			DevDependencies   table `toml:"dev-dependencies"`
			BuildDependencies table `toml:"build-dependencies"`
		} `toml:"target"`
	}
	if _, err := toml.Decode(string(data), &ct); err != nil {
		return nil, fmt.Errorf("Cargo.toml: %w", err)
	}
	var out []Dep
	add := func(t table, scope string) {
		for _, k := range sortedKeys(t) {
			name := k
			if spec, ok := t[k].(map[string]any); ok {
				if p, ok := spec["package"].(string); ok && p != "" {
					name = p
				}
			}
			out = append(out, Dep{Cargo, name, scope})
		}
	}
	add(ct.Dependencies, ScopeRuntime)
	add(ct.DevDependencies, ScopeDev)
	add(ct.BuildDependencies, ScopeBuild)
	add(ct.Workspace.Dependencies, ScopeRuntime)
	for _, k := range sortedKeys(ct.Target) {
		t := ct.Target[k]
		add(t.Dependencies, ScopeRuntime)
		add(t.DevDependencies, ScopeDev)
		add(t.BuildDependencies, ScopeBuild)
	}
	return out, nil
}

// pomXML reads every <dependency> (dependencies, dependencyManagement,
// plugin dependencies) as groupId:artifactId; scope test maps to dev.
func pomXML(data []byte) ([]Dep, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	var out []Dep
	var stack []string
	var group, artifact, scope string
	inDep := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("pom.xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			if t.Name.Local == "dependency" {
				inDep, group, artifact, scope = true, "", "", ""
			}
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			if t.Name.Local == "dependency" && inDep {
				inDep = false
				if group != "" && artifact != "" {
					s := ScopeRuntime
					if scope == "test" {
						s = ScopeDev
					}
					out = append(out, Dep{Maven, group + ":" + artifact, s})
				}
			}
		case xml.CharData:
			if !inDep || len(stack) < 2 || stack[len(stack)-2] != "dependency" {
				continue
			}
			v := strings.TrimSpace(string(t))
			switch stack[len(stack)-1] {
			case "groupId":
				group = v
			case "artifactId":
				artifact = v
			case "scope":
				scope = v
			}
		}
	}
	return out, nil
}

var (
	gradleConfigs = `(?:implementation|api|compileOnly|runtimeOnly|testImplementation|testRuntimeOnly|testCompileOnly|annotationProcessor|kapt|ksp|compile|testCompile|[a-zA-Z]+Implementation|[a-zA-Z]+Api)`
	gradleString  = regexp.MustCompile(`(?m)^\s*` + gradleConfigs + `\s*\(?\s*(?:platform\(|enforcedPlatform\()?\s*["']([^"':\s]+):([^"':\s]+)(?::[^"']*)?["']`)
	gradleMap     = regexp.MustCompile(`(?m)^\s*` + gradleConfigs + `\s*\(?\s*group\s*[:=]\s*["']([^"']+)["']\s*,\s*name\s*[:=]\s*["']([^"']+)["']`)
)

// gradle reads configuration calls with "group:artifact[:version]" strings
// or group:/name: maps, in Groovy and Kotlin DSL, one per line.
func gradle(data []byte) []Dep {
	var out []Dep
	for _, re := range []*regexp.Regexp{gradleString, gradleMap} {
		for _, m := range re.FindAllSubmatch(data, -1) {
			scope := ScopeRuntime
			if bytes.HasPrefix(bytes.TrimSpace(m[0]), []byte("test")) {
				scope = ScopeDev
			}
			out = append(out, Dep{Maven, string(m[1]) + ":" + string(m[2]), scope})
		}
	}
	return out
}

// gradleCatalog reads [libraries] of gradle/libs.versions.toml: "g:a:v"
// strings, {module = "g:a"} and {group = "g", name = "a"} tables.
func gradleCatalog(data []byte) ([]Dep, error) {
	var cat struct {
		Libraries map[string]any `toml:"libraries"`
	}
	if _, err := toml.Decode(string(data), &cat); err != nil {
		return nil, fmt.Errorf("libs.versions.toml: %w", err)
	}
	var out []Dep
	for _, k := range sortedKeys(cat.Libraries) {
		var ga string
		switch v := cat.Libraries[k].(type) {
		case string:
			ga = v
		case map[string]any:
			if m, ok := v["module"].(string); ok {
				ga = m
			} else if g, ok := v["group"].(string); ok {
				if n, ok := v["name"].(string); ok {
					ga = g + ":" + n
				}
			}
		}
		if parts := strings.Split(ga, ":"); len(parts) >= 2 && parts[0] != "" && parts[1] != "" {
			out = append(out, Dep{Maven, parts[0] + ":" + parts[1], ScopeRuntime})
		}
	}
	return out, nil
}

var gemLine = regexp.MustCompile(`^\s*gem\s*\(?\s*["']([A-Za-z0-9_.-]+)["']`)

// gemfile reads `gem "name"` lines; gems inside a development or test group
// block get ScopeDev.
func gemfile(data []byte) []Dep {
	var out []Dep
	depth, devDepth := 0, -1
	for line := range strings.SplitSeq(string(data), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "#") {
			continue
		}
		if strings.HasPrefix(t, "group ") && strings.HasSuffix(t, " do") {
			depth++
			if devDepth < 0 && (strings.Contains(t, ":development") || strings.Contains(t, ":test")) {
				devDepth = depth
			}
			continue
		}
		if strings.HasSuffix(t, " do") || strings.HasSuffix(t, " do |") {
			depth++
			continue
		}
		if t == "end" {
			if depth == devDepth {
				devDepth = -1
			}
			depth = max(depth-1, 0)
			continue
		}
		if m := gemLine.FindStringSubmatch(t); m != nil {
			scope := ScopeRuntime
			if devDepth >= 0 || strings.Contains(t, ":development") || strings.Contains(t, ":test") {
				scope = ScopeDev
			}
			out = append(out, Dep{RubyGems, m[1], scope})
		}
	}
	return out
}

// gemfileLock reads the gem specs ("    name (version)") of GEM sections.
func gemfileLock(data []byte) []Dep {
	names := map[string]bool{}
	inSpecs := false
	for line := range strings.SplitSeq(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		switch {
		case line == "" || line[0] != ' ':
			inSpecs = false
		case strings.TrimSpace(line) == "specs:":
			inSpecs = true
		case inSpecs && strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     "):
			name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			if name != "" {
				names[name] = true
			}
		}
	}
	return keys(names, RubyGems, ScopeLock)
}

// composerJSON reads the keys of require and require-dev, skipping php and
// ext-* platform packages.
func composerJSON(data []byte) ([]Dep, error) {
	var cj struct {
		Require    map[string]any `json:"require"`
		RequireDev map[string]any `json:"require-dev"`
	}
	if err := json.Unmarshal(data, &cj); err != nil {
		return nil, fmt.Errorf("composer.json: %w", err)
	}
	var out []Dep
	for _, d := range append(keys(cj.Require, Packagist, ScopeRuntime), keys(cj.RequireDev, Packagist, ScopeDev)...) {
		if d.Name != "php" && !strings.HasPrefix(d.Name, "ext-") && !strings.HasPrefix(d.Name, "lib-") {
			out = append(out, d)
		}
	}
	return out, nil
}

// composerLock reads packages[].name and packages-dev[].name.
func composerLock(data []byte) ([]Dep, error) {
	var cl struct {
		Packages    []struct{ Name string } `json:"packages"`
		PackagesDev []struct{ Name string } `json:"packages-dev"`
	}
	if err := json.Unmarshal(data, &cl); err != nil {
		return nil, fmt.Errorf("composer.lock: %w", err)
	}
	names := map[string]bool{}
	for _, p := range append(cl.Packages, cl.PackagesDev...) {
		if p.Name != "" {
			names[p.Name] = true
		}
	}
	return keys(names, Packagist, ScopeLock), nil
}

// nugetXML reads <PackageReference Include="X">, <PackageVersion
// Include="X"> and packages.config <package id="X">.
func nugetXML(data []byte) ([]Dep, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	var out []Dep
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("nuget xml: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := ""
		switch se.Name.Local {
		case "PackageReference", "PackageVersion", "GlobalPackageReference":
			attr = "Include"
		case "package":
			attr = "id"
		default:
			continue
		}
		for _, a := range se.Attr {
			if strings.EqualFold(a.Name.Local, attr) && strings.TrimSpace(a.Value) != "" {
				out = append(out, Dep{NuGet, strings.TrimSpace(a.Value), ScopeRuntime})
			}
		}
	}
}
