// Package manifest parses dependency manifests and lockfiles of the
// ecosystems in §3.3 of ../shared/research/supply-and-agents.md into
// dependency names: npm (package.json, package-lock.json, yarn.lock,
// pnpm-lock.yaml), PyPI (requirements*.txt and *.in, pyproject.toml with PEP
// 621, PEP 735 and Poetry tables, Pipfile, Pipfile.lock, poetry.lock,
// uv.lock, setup.cfg, setup.py, environment.yml), Go (go.mod), Cargo
// (Cargo.toml, Cargo.lock), Maven (pom.xml), Gradle (build.gradle(.kts),
// gradle/libs.versions.toml), RubyGems (Gemfile, Gemfile.lock), Packagist
// (composer.json, composer.lock) and NuGet (*.csproj, *.fsproj, *.vbproj,
// Directory.Packages.props, packages.config).
//
// Structured formats are decoded with their grammar: JSON (encoding/json),
// TOML (github.com/BurntSushi/toml), YAML (go.yaml.in/yaml/v3), XML
// (encoding/xml), go.mod (golang.org/x/mod/modfile). Formats that are code
// or line-oriented (requirements files, Gemfile, build.gradle, setup.py,
// yarn.lock) are read line by line with anchored patterns; setup.py is
// marked low confidence. Parse never panics on any input; a file that does
// not parse returns an error and no dependencies.
package manifest
