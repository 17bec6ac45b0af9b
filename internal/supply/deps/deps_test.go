package deps

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkout writes files (relative path → content) under root/name.
func checkout(t *testing.T, root, name string, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(root, name)
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestScan(t *testing.T) {
	root := filepath.Join(t.TempDir(), "acme")
	checkout(t, root, "py-app", map[string]string{
		"requirements.txt":                        "-r requirements/base.txt\nflask\n",
		"requirements/base.txt":                   "anthropic>=0.30\n",
		"pyproject.toml":                          "[project]\nname='x'\ndependencies=['torch']\n",
		".venv/lib/site-packages/openai/setup.py": "setup(install_requires=['openai'])",
	})
	checkout(t, root, "js-app", map[string]string{
		"package.json":                        `{"dependencies":{"@ai-sdk/openai":"1","react":"18"},"devDependencies":{"@modelcontextprotocol/sdk":"1"}}`,
		"node_modules/langchain/package.json": `{"dependencies":{"@langchain/core":"1"}}`,
		"package-lock.json":                   `{"lockfileVersion":3,"packages":{"node_modules/@ai-sdk/openai":{},"node_modules/groq-sdk":{}}}`,
	})
	checkout(t, root, "go-svc", map[string]string{
		"go.mod": "module x\n\ngo 1.22\n\nrequire (\n\tgithub.com/openai/openai-go/v2 v2.0.0 // indirect\n\tgithub.com/spf13/cobra v1.8.0\n)\n",
	})
	checkout(t, root, "java-app", map[string]string{
		"pom.xml":              "<project><dependencies><dependency><groupId>dev.langchain4j</groupId><artifactId>langchain4j-open-ai</artifactId></dependency></dependencies></project>",
		"android/build.gradle": "dependencies {\n  implementation 'com.squareup.okhttp3:okhttp:4.12.0'\n}\n",
	})
	checkout(t, root, "dotnet-app", map[string]string{
		"src/Api/Api.csproj":  `<Project><ItemGroup><PackageReference Include="Microsoft.SemanticKernel.Core" Version="1" /></ItemGroup></Project>`,
		"Cargo.toml":          "[dependencies]\nserde = \"1\"\n",
		"composer.json":       `{"require":{"openai-php/client":"^0.8"}}`,
		"Gemfile":             "gem 'ruby-openai'\n",
		"broken/package.json": `{"dependencies":`,
	})
	checkout(t, root, "docs-only", map[string]string{"README.md": "uses openai"})

	dirs, err := Children(root)
	if err != nil || len(dirs) != 6 {
		t.Fatalf("children %v %v", dirs, err)
	}
	repos, err := (&Scanner{Workers: 3}).ScanRepos(context.Background(), dirs)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Repo{}
	for _, r := range repos {
		byName[r.Name] = r
	}
	if r := byName["acme/py-app"]; r.Manifests != 3 || len(r.Matches) != 2 {
		t.Fatalf("py-app (vendored .venv must be skipped, -r followed): %+v", r)
	}
	if r := byName["acme/dotnet-app"]; len(r.ParseErrors) != 1 || !slices.Contains(r.Ecosystems, "packagist") {
		t.Fatalf("dotnet-app: %+v", r)
	}
	SetCreated(repos, map[string]time.Time{
		"acme/py-app": time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC), "js-app": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		"ACME/java-app": time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), "acme/go-svc": time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC),
	})
	rep := Summarize(repos, Config{})
	// direct: py-app (anthropic), js-app (@ai-sdk/*), java-app (langchain4j), dotnet-app (SK, openai-php, ruby-openai)
	if rep.Repos != 6 || rep.WithManifest != 5 || rep.LLMSDK != 4 || rep.TierX != 1 || rep.MCP != 1 || rep.ParseErrors != 1 {
		t.Fatalf("report %+v", rep)
	}
	if strings.Join(rep.LLMRepos, ",") != "acme/dotnet-app,acme/java-app,acme/js-app,acme/py-app" {
		t.Fatalf("llm repos %v", rep.LLMRepos)
	}
	eco := map[string]int{}
	for _, c := range rep.ByEcosystem {
		eco[c.Key] = c.Repos
	}
	if eco["pypi"] != 1 || eco["npm"] != 1 || eco["maven"] != 1 || eco["nuget"] != 1 || eco["packagist"] != 1 || eco["rubygems"] != 1 || eco["go"] != 0 {
		t.Fatalf("by ecosystem %+v", rep.ByEcosystem)
	}
	if len(rep.Growth) != 2 || rep.Growth[1].Year != 2024 || rep.Growth[1].LLMSDK != 2 || !rep.Growth[1].YoYKnown || rep.Growth[1].YoY != 1 || rep.CreatedUnknown != 1 {
		t.Fatalf("growth %+v unknown %d", rep.Growth, rep.CreatedUnknown)
	}
	lock := Summarize(repos, Config{Lockfiles: true})
	if lock.LLMSDK != 5 { // go-svc's indirect openai-go counts in the transitive variant
		t.Fatalf("lockfile variant %+v", lock)
	}
	sdks := map[string]int{}
	for _, c := range lock.BySDK {
		sdks[c.Key] = c.Repos
	}
	if sdks["npm:groq-sdk"] != 1 || sdks["go:github.com/openai/openai-go"] != 1 {
		t.Fatalf("lockfile sdks %+v", lock.BySDK)
	}
	onlyA := Summarize(repos, Config{Tiers: []string{"A"}})
	if onlyA.LLMSDK != 2 { // py-app (anthropic), dotnet-app (openai-php, ruby-openai)
		t.Fatalf("tier A only: %+v", onlyA)
	}
	if rows := rep.Rows(); len(rows) < 10 {
		t.Fatalf("rows %v", rows)
	}
}

func TestScanErrors(t *testing.T) {
	if _, err := (&Scanner{}).ScanRepos(context.Background(), []string{filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Fatal("a missing directory scanned")
	}
	big := checkout(t, t.TempDir(), "big", map[string]string{"package.json": `{"dependencies":{"openai":"1"}}` + strings.Repeat(" ", MaxManifestBytes)})
	repos, err := (&Scanner{}).ScanRepos(context.Background(), []string{big})
	if err != nil || len(repos[0].ParseErrors) != 1 || repos[0].Manifests != 0 {
		t.Fatalf("oversized manifest: %+v %v", repos, err)
	}
}
