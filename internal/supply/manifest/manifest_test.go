package manifest

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func names(deps []Dep) string {
	var s []string
	for _, d := range deps {
		s = append(s, d.Ecosystem+":"+d.Name+"/"+d.Scope)
	}
	slices.Sort(s)
	return strings.Join(s, " ")
}

func TestParse(t *testing.T) {
	tests := []struct {
		file, content, want string
	}{
		{"package.json", `{"name":"app","dependencies":{"openai":"^4.0.0","@ai-sdk/openai":"1"},"devDependencies":{"vitest":"1"},"peerDependencies":{"react":"*"},"optionalDependencies":{"fsevents":"2"}}`,
			"npm:@ai-sdk/openai/runtime npm:fsevents/optional npm:openai/runtime npm:react/peer npm:vitest/dev"},
		{"package-lock.json", `{"lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/openai":{"version":"4"},"node_modules/openai/node_modules/@types/node":{}}}`,
			"npm:@types/node/lock npm:openai/lock"},
		{"npm-shrinkwrap.json", `{"lockfileVersion":1,"dependencies":{"langchain":{"version":"0.1"}}}`, "npm:langchain/lock"},
		{"yarn.lock", "# yarn lockfile v1\n\n\"@anthropic-ai/sdk@^0.20.0\":\n  version \"0.20.1\"\n\nollama@^0.5.0, ollama@^0.5.1:\n  version \"0.5.1\"\n", "npm:@anthropic-ai/sdk/lock npm:ollama/lock"},
		{"pnpm-lock.yaml", "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      ai:\n        specifier: ^3.0.0\n        version: 3.0.1\npackages:\n  ai@3.0.1:\n    resolution: {integrity: x}\n  '@langchain/core@0.2.0(openai@4.0.0)':\n    resolution: {integrity: y}\n",
			"npm:@langchain/core/lock npm:ai/lock"},
		{"requirements.txt", "# deps\nopenai>=1.0  # client\nLangChain-Core[all]==0.2; python_version>='3.9'\n-r requirements/base.txt\n-e git+https://github.com/org/pkg.git#egg=mypkg\ngit+https://github.com/x/y.git\n--index-url https://pypi.org/simple\nnumpy \\\n  >=1.0\n./local\n",
			"pypi:LangChain-Core/runtime pypi:mypkg/runtime pypi:numpy/runtime pypi:openai/runtime"},
		{"requirements/dev.in", "pytest\n", "pypi:pytest/runtime"},
		{"pyproject.toml", `[project]
name = "app"
dependencies = ["anthropic>=0.30", "httpx", "pkg @ https://example.org/pkg.whl"]
[project.optional-dependencies]
llm = ["litellm"]
[dependency-groups]
dev = ["pytest", {include-group = "lint"}]
lint = ["ruff"]
[tool.poetry.dependencies]
python = "^3.11"
langgraph = {version = "^0.1", optional = true}
[tool.poetry.group.test.dependencies]
hypothesis = "*"
`, "pypi:anthropic/runtime pypi:httpx/runtime pypi:hypothesis/dev pypi:langgraph/runtime pypi:litellm/optional pypi:pkg/runtime pypi:pytest/dev pypi:ruff/dev"},
		{"Pipfile", "[[source]]\nurl = \"https://pypi.org/simple\"\n[packages]\nopenai = \"*\"\nrequests = {version = \"*\"}\n[dev-packages]\nblack = \"*\"\n", "pypi:black/dev pypi:openai/runtime pypi:requests/runtime"},
		{"Pipfile.lock", `{"_meta":{},"default":{"openai":{"version":"==1.0"}},"develop":{"pytest":{}}}`, "pypi:openai/lock pypi:pytest/lock"},
		{"poetry.lock", "[[package]]\nname = \"cohere\"\nversion = \"5.0\"\n\n[[package]]\nname = \"httpx\"\nversion = \"0.27\"\n", "pypi:cohere/lock pypi:httpx/lock"},
		{"uv.lock", "version = 1\n[[package]]\nname = \"mistralai\"\nversion = \"1.0\"\n", "pypi:mistralai/lock"},
		{"setup.cfg", "[metadata]\nname = x\n[options]\ninstall_requires =\n    groq>=0.4\n    requests; python_version>'3'\n[options.extras_require]\nllm =\n    vllm\n", "pypi:groq/runtime pypi:requests/runtime pypi:vllm/optional"},
		{"setup.py", "from setuptools import setup\nsetup(name='x', install_requires=['replicate>=0.2', \"tqdm\"], extras_require={'gpu': ['torch']})\n", "pypi:replicate/runtime pypi:torch/optional pypi:tqdm/runtime"},
		{"environment.yml", "name: env\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - conda-forge::pytorch>=2\n  - pip\n  - pip:\n    - ollama==0.2\n", "conda:pip/runtime conda:python/runtime conda:pytorch/runtime pypi:ollama/runtime"},
		{"go.mod", "module example.com/app\n\ngo 1.22\n\nrequire github.com/sashabaranov/go-openai v1.20.0\n\nrequire (\n\tgithub.com/tmc/langchaingo v0.1.0\n\tgolang.org/x/text v0.14.0 // indirect\n)\n",
			"go:github.com/sashabaranov/go-openai/runtime go:github.com/tmc/langchaingo/runtime go:golang.org/x/text/indirect"},
		{"Cargo.toml", "[package]\nname = \"x\"\n[dependencies]\nasync-openai = \"0.20\"\nmy_llm = { package = \"rig-core\", version = \"0.1\" }\n[dev-dependencies]\ntokio-test = \"0.4\"\n[build-dependencies]\ncc = \"1\"\n[target.'cfg(unix)'.dependencies]\nnix = \"0.27\"\n[workspace.dependencies]\nserde = \"1\"\n",
			"cargo:async-openai/runtime cargo:cc/build cargo:nix/runtime cargo:rig-core/runtime cargo:serde/runtime cargo:tokio-test/dev"},
		{"Cargo.lock", "version = 3\n[[package]]\nname = \"ollama-rs\"\nversion = \"0.1\"\n", "cargo:ollama-rs/lock"},
		{"pom.xml", `<?xml version="1.0"?><project xmlns="http://maven.apache.org/POM/4.0.0"><groupId>me</groupId><artifactId>app</artifactId>
<dependencyManagement><dependencies><dependency><groupId>dev.langchain4j</groupId><artifactId>langchain4j-bom</artifactId><type>pom</type></dependency></dependencies></dependencyManagement>
<dependencies><dependency><groupId>com.openai</groupId><artifactId>openai-java</artifactId><version>0.8</version></dependency>
<dependency><groupId>junit</groupId><artifactId>junit</artifactId><scope>test</scope></dependency></dependencies></project>`,
			"maven:com.openai:openai-java/runtime maven:dev.langchain4j:langchain4j-bom/runtime maven:junit:junit/dev"},
		{"build.gradle", "dependencies {\n    implementation 'com.google.genai:google-genai:1.0.0'\n    testImplementation group: 'junit', name: 'junit', version: '4.13'\n    // implementation 'commented:out:1'\n    api platform('org.springframework.ai:spring-ai-bom:1.0.0')\n}\n",
			"maven:com.google.genai:google-genai/runtime maven:junit:junit/dev maven:org.springframework.ai:spring-ai-bom/runtime"},
		{"build.gradle.kts", "dependencies {\n    implementation(\"dev.langchain4j:langchain4j-open-ai:0.35.0\")\n    implementation(libs.okhttp)\n}\n", "maven:dev.langchain4j:langchain4j-open-ai/runtime"},
		{"gradle/libs.versions.toml", "[versions]\nlc = \"0.35\"\n[libraries]\nlangchain = { module = \"dev.langchain4j:langchain4j\", version.ref = \"lc\" }\nollama = { group = \"io.github.ollama4j\", name = \"ollama4j\", version = \"1\" }\nokhttp = \"com.squareup.okhttp3:okhttp:4.12.0\"\n",
			"maven:com.squareup.okhttp3:okhttp/runtime maven:dev.langchain4j:langchain4j/runtime maven:io.github.ollama4j:ollama4j/runtime"},
		{"Gemfile", "source 'https://rubygems.org'\ngem 'rails', '~> 7.1'\ngem \"ruby-openai\"\n# gem 'commented'\ngroup :development, :test do\n  gem 'rspec'\nend\ngem 'langchainrb', require: false\n",
			"rubygems:langchainrb/runtime rubygems:rails/runtime rubygems:rspec/dev rubygems:ruby-openai/runtime"},
		{"Gemfile.lock", "GEM\n  remote: https://rubygems.org/\n  specs:\n    anthropic (0.3.0)\n      faraday (>= 1)\n    faraday (2.9.0)\n\nPLATFORMS\n  ruby\n", "rubygems:anthropic/lock rubygems:faraday/lock"},
		{"composer.json", `{"require":{"php":">=8.1","ext-json":"*","openai-php/client":"^0.8"},"require-dev":{"phpunit/phpunit":"^10"}}`, "packagist:openai-php/client/runtime packagist:phpunit/phpunit/dev"},
		{"composer.lock", `{"packages":[{"name":"theodo-group/llphant"}],"packages-dev":[{"name":"phpunit/phpunit"}]}`, "packagist:phpunit/phpunit/lock packagist:theodo-group/llphant/lock"},
		{"src/App.csproj", `<Project Sdk="Microsoft.NET.Sdk"><ItemGroup><PackageReference Include="Microsoft.SemanticKernel" Version="1.0" /><PackageReference Include="OllamaSharp"><Version>2</Version></PackageReference></ItemGroup></Project>`,
			"nuget:Microsoft.SemanticKernel/runtime nuget:OllamaSharp/runtime"},
		{"Directory.Packages.props", `<Project><ItemGroup><PackageVersion Include="Azure.AI.OpenAI" Version="2.0" /></ItemGroup></Project>`, "nuget:Azure.AI.OpenAI/runtime"},
		{"packages.config", `<?xml version="1.0"?><packages><package id="OpenAI" version="1.0" targetFramework="net48" /></packages>`, "nuget:OpenAI/runtime"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			if Kind(tc.file) == "" {
				t.Fatalf("Kind(%q) is empty", tc.file)
			}
			r, err := Parse(tc.file, []byte(tc.content))
			if err != nil {
				t.Fatal(err)
			}
			if got := names(r.Deps); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestRequirementsIncludes(t *testing.T) {
	r, err := Parse("requirements.txt", []byte("-r base.txt\n--requirement=extra.txt\n-c constraints.txt\nflask\n"))
	if err != nil || strings.Join(r.Includes, ",") != "base.txt,extra.txt,constraints.txt" || len(r.Deps) != 1 {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, f := range []string{"package.json", "pyproject.toml", "Cargo.toml", "pom.xml", "go.mod", "composer.json", "Pipfile", "pnpm-lock.yaml", "environment.yml"} {
		if _, err := Parse(f, []byte("{[<<not valid")); err == nil {
			t.Errorf("Parse(%s) accepted garbage", f)
		}
	}
	if _, err := Parse("README.md", nil); !errors.Is(err, ErrUnknownFile) {
		t.Errorf("README.md: %v", err)
	}
	for _, f := range []string{"main.go", "requirements.md", "setup.sh", "build.gradle.bak"} {
		if Kind(f) != "" {
			t.Errorf("Kind(%q) = %q", f, Kind(f))
		}
	}
}

// kinds are the file names FuzzParse feeds.
var kinds = []string{"package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "requirements.txt", "pyproject.toml",
	"Pipfile", "Pipfile.lock", "poetry.lock", "setup.cfg", "setup.py", "environment.yml", "go.mod", "Cargo.toml", "pom.xml",
	"build.gradle", "libs.versions.toml", "Gemfile", "Gemfile.lock", "composer.json", "composer.lock", "a.csproj", "packages.config"}

func FuzzParse(f *testing.F) {
	f.Add(uint8(0), []byte(`{"dependencies":{"openai":"1"}}`))
	f.Add(uint8(5), []byte("[project]\ndependencies=[\"a\"]\n[tool.poetry.dependencies]\nb=\"*\""))
	f.Add(uint8(12), []byte("module m\nrequire x/y v1.0.0 // indirect\n"))
	f.Add(uint8(13), []byte("[dependencies]\na = { package = \"b\" }\n[target.x.dependencies]\nc=\"1\""))
	f.Add(uint8(14), []byte("<project><dependency><groupId>g</groupId><artifactId>a</artifactId></dependency></project>"))
	f.Add(uint8(3), []byte("packages:\n  /a/1.0.0:\n    x: 1\n"))
	f.Add(uint8(4), []byte("-r x\n-e .\nname[extra]>=1 ; marker\n"))
	f.Add(uint8(10), []byte("setup(install_requires=['a', \"b\"], extras_require={'x': ['c']})"))
	f.Add(uint8(17), []byte("group :test do\n gem 'x'\nend\n"))
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		name := kinds[int(k)%len(kinds)]
		r, err := Parse(name, data)
		if err != nil && len(r.Deps) > 0 {
			t.Fatalf("%s: error with deps", name)
		}
		for _, d := range r.Deps {
			if d.Name == "" || d.Ecosystem == "" || d.Scope == "" {
				t.Fatalf("%s: empty field in %+v", name, d)
			}
		}
	})
}
