package manifest

import (
	"errors"
	"path"
	"strings"
)

// Ecosystems.
const (
	NPM       = "npm"
	PyPI      = "pypi"
	Go        = "go"
	Maven     = "maven"
	NuGet     = "nuget"
	Cargo     = "cargo"
	RubyGems  = "rubygems"
	Packagist = "packagist"
	Conda     = "conda"
)

// Scopes of a dependency.
const (
	ScopeRuntime  = "runtime"
	ScopeDev      = "dev"
	ScopeOptional = "optional"
	ScopePeer     = "peer"
	ScopeBuild    = "build"
	ScopeIndirect = "indirect" // go.mod // indirect
	ScopeLock     = "lock"     // from a lockfile: direct or transitive
)

// Dep is one declared dependency. Name is as written (normalisation is the
// SDK list's job); for Maven and Gradle it is "group:artifact".
type Dep struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Scope     string `json:"scope"`
}

// Result is what one file declared. Includes lists other files a
// requirements file pulls in with -r/-c (relative to it), for the caller to
// resolve within the repository.
type Result struct {
	Deps     []Dep
	Includes []string
	// LowConfidence marks results read from code (setup.py).
	LowConfidence bool
}

// ErrUnknownFile is returned (wrapped) by Parse for a file name no parser
// handles; Kind reports "" for such names.
var ErrUnknownFile = errors.New("not a known manifest")

// Kind returns the parser name for a file path ("package.json",
// "requirements", "csproj", ...) or "" when the file is not a manifest.
// Lockfile kinds end in ".lock" or are package-lock.json / pnpm-lock.yaml.
func Kind(p string) string {
	base := path.Base(strings.ReplaceAll(p, "\\", "/"))
	lower := strings.ToLower(base)
	switch lower {
	case "package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml",
		"pyproject.toml", "pipfile", "pipfile.lock", "poetry.lock", "uv.lock", "setup.cfg", "setup.py",
		"environment.yml", "environment.yaml", "go.mod", "cargo.toml", "cargo.lock", "pom.xml",
		"build.gradle", "build.gradle.kts", "gemfile", "gemfile.lock", "composer.json", "composer.lock",
		"directory.packages.props", "packages.config":
		if lower == "npm-shrinkwrap.json" {
			return "package-lock.json"
		}
		if lower == "environment.yaml" {
			return "environment.yml"
		}
		return lower
	case "libs.versions.toml":
		return "libs.versions.toml"
	}
	switch ext := path.Ext(lower); {
	case ext == ".csproj" || ext == ".fsproj" || ext == ".vbproj":
		return "csproj"
	case strings.HasPrefix(lower, "requirements") && (ext == ".txt" || ext == ".in"):
		return "requirements"
	case ext == ".in" && lower != "manifest.in": // pip-tools inputs
		return "requirements"
	case ext == ".txt" && strings.Contains(path.Dir(strings.ToLower(strings.ReplaceAll(p, "\\", "/"))), "requirements"):
		return "requirements"
	}
	return ""
}

// IsLockfile reports whether a kind is a lockfile (transitive variant).
func IsLockfile(kind string) bool {
	switch kind {
	case "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "pipfile.lock", "poetry.lock", "uv.lock",
		"cargo.lock", "gemfile.lock", "composer.lock":
		return true
	}
	return false
}

// Parse parses the content of the file at path p (only its name is used).
func Parse(p string, data []byte) (Result, error) { return ParseKind(Kind(p), data) }

// ParseKind parses data as a manifest of the given kind (see Kind), for
// files whose name does not say it (a requirements file included by -r).
func ParseKind(kind string, data []byte) (Result, error) {
	var (
		r   Result
		err error
	)
	switch kind {
	case "package.json":
		r.Deps, err = packageJSON(data)
	case "package-lock.json":
		r.Deps, err = packageLock(data)
	case "yarn.lock":
		r.Deps = yarnLock(data)
	case "pnpm-lock.yaml":
		r.Deps, err = pnpmLock(data)
	case "requirements":
		r.Deps, r.Includes = requirements(data)
	case "pyproject.toml":
		r.Deps, err = pyproject(data)
	case "pipfile":
		r.Deps, err = pipfile(data)
	case "pipfile.lock":
		r.Deps, err = pipfileLock(data)
	case "poetry.lock", "uv.lock":
		r.Deps, err = tomlPackages(data, PyPI)
	case "cargo.lock":
		r.Deps, err = tomlPackages(data, Cargo)
	case "setup.cfg":
		r.Deps = setupCfg(data)
	case "setup.py":
		r.Deps, r.LowConfidence = setupPy(data), true
	case "environment.yml":
		r.Deps, err = environmentYML(data)
	case "go.mod":
		r.Deps, err = goMod(data)
	case "cargo.toml":
		r.Deps, err = cargoToml(data)
	case "pom.xml":
		r.Deps, err = pomXML(data)
	case "build.gradle", "build.gradle.kts":
		r.Deps = gradle(data)
	case "libs.versions.toml":
		r.Deps, err = gradleCatalog(data)
	case "gemfile":
		r.Deps = gemfile(data)
	case "gemfile.lock":
		r.Deps = gemfileLock(data)
	case "composer.json":
		r.Deps, err = composerJSON(data)
	case "composer.lock":
		r.Deps, err = composerLock(data)
	case "csproj", "directory.packages.props", "packages.config":
		r.Deps, err = nugetXML(data)
	default:
		return Result{}, ErrUnknownFile
	}
	if err != nil {
		return Result{}, err
	}
	return r, nil
}
