package sdk

import (
	"regexp"
	"strings"
)

// Tiers.
const (
	TierA   = "A"
	TierB   = "B"
	TierC   = "C"
	TierX   = "X"
	TierMCP = "MCP"
)

// LLMTiers are the tiers counted as "LLM SDK" by default.
func LLMTiers() []string { return []string{TierA, TierB, TierC} }

// Entry is one listed package. Pattern ends in "*" for a prefix
// ("@ai-sdk/*", "spring-ai-*").
type Entry struct {
	Ecosystem string `json:"ecosystem"`
	Pattern   string `json:"package"`
	Tier      string `json:"tier"`
}

// List is the package list; build it with Default. It is read-only and
// safe for concurrent use.
type List struct {
	exact  map[string]Entry // ecosystem + "\x00" + normalised name
	prefix []Entry
}

// Default returns the §3.2 list (crates.io, RubyGems and Packagist rows are
// unverified in the research note).
func Default() *List {
	l := &List{exact: map[string]Entry{}}
	add := func(eco, tier string, names ...string) {
		for _, n := range names {
			e := Entry{Ecosystem: eco, Pattern: n, Tier: tier}
			if strings.HasSuffix(n, "*") {
				l.prefix = append(l.prefix, e)
				continue
			}
			l.exact[eco+"\x00"+Normalize(eco, n)] = e
		}
	}
	add("pypi", TierA, "openai", "anthropic", "google-genai", "google-generativeai", "google-cloud-aiplatform", "vertexai",
		"cohere", "mistralai", "groq", "together", "fireworks-ai", "replicate")
	add("pypi", TierB, "langchain", "langchain-core", "langchain-openai", "langchain-anthropic", "langchain-community",
		"langgraph", "llama-index", "llama-index-core", "litellm", "openai-agents", "claude-agent-sdk", "pydantic-ai",
		"crewai", "autogen-agentchat", "pyautogen", "semantic-kernel", "haystack-ai", "dspy", "dspy-ai", "instructor",
		"smolagents", "guidance")
	add("pypi", TierC, "ollama", "huggingface-hub", "llama-cpp-python", "vllm")
	add("pypi", TierX, "torch", "tensorflow", "transformers", "diffusers", "sentence-transformers", "scikit-learn")
	add("pypi", TierMCP, "mcp")
	add("conda", TierX, "pytorch", "tensorflow", "transformers", "scikit-learn")
	add("npm", TierA, "openai", "@anthropic-ai/sdk", "@google/genai", "@google/generative-ai", "cohere-ai",
		"@mistralai/mistralai", "groq-sdk", "together-ai", "replicate", "@aws-sdk/client-bedrock-runtime", "@huggingface/inference")
	add("npm", TierB, "ai", "@ai-sdk/*", "langchain", "@langchain/*", "llamaindex", "@openai/agents", "@anthropic-ai/claude-agent-sdk")
	add("npm", TierC, "ollama")
	add("npm", TierMCP, "@modelcontextprotocol/sdk")
	add("go", TierA, "github.com/openai/openai-go", "github.com/anthropics/anthropic-sdk-go", "github.com/sashabaranov/go-openai",
		"google.golang.org/genai", "github.com/google/generative-ai-go")
	add("go", TierB, "github.com/tmc/langchaingo", "github.com/firebase/genkit/go", "github.com/cloudwego/eino")
	add("go", TierC, "github.com/ollama/ollama")
	add("maven", TierA, "com.openai:openai-java", "com.anthropic:anthropic-java*", "com.google.genai:google-genai")
	add("maven", TierB, "dev.langchain4j:langchain4j*", "org.springframework.ai:spring-ai-*")
	add("maven", TierC, "io.github.ollama4j:ollama4j")
	add("nuget", TierA, "OpenAI", "Azure.AI.OpenAI", "Anthropic", "Google.GenAI")
	add("nuget", TierB, "Microsoft.SemanticKernel*", "Microsoft.Extensions.AI*")
	add("nuget", TierC, "OllamaSharp")
	add("cargo", TierA, "async-openai", "anthropic-sdk")
	add("cargo", TierB, "rig-core", "genai")
	add("cargo", TierC, "ollama-rs")
	add("rubygems", TierA, "ruby-openai", "anthropic")
	add("rubygems", TierB, "langchainrb")
	add("rubygems", TierC, "ollama-ai")
	add("packagist", TierA, "openai-php/client", "anthropic-ai/sdk")
	add("packagist", TierB, "theodo-group/llphant")
	return l
}

var (
	pep503    = regexp.MustCompile(`[-_.]+`)
	goMajor   = regexp.MustCompile(`/v[0-9]+$`)
	goMajorIn = regexp.MustCompile(`/v[0-9]+/`)
)

// Normalize returns the comparable form of a package name: PEP 503 for
// PyPI and conda, lower case for npm, NuGet, Maven, crates, gems and
// Packagist, and for Go the module path without a /vN major suffix.
func Normalize(eco, name string) string {
	name = strings.TrimSpace(name)
	switch eco {
	case "pypi", "conda":
		return pep503.ReplaceAllString(strings.ToLower(name), "-")
	case "go":
		name = goMajorIn.ReplaceAllString(name, "/")
		return goMajor.ReplaceAllString(name, "")
	case "cargo":
		return strings.ReplaceAll(strings.ToLower(name), "_", "-")
	}
	return strings.ToLower(name)
}

// Lookup returns the list entry a dependency matches. Go paths also match
// listed module prefixes (a package inside a listed module).
func (l *List) Lookup(eco, name string) (Entry, bool) {
	n := Normalize(eco, name)
	if e, ok := l.exact[eco+"\x00"+n]; ok {
		return e, true
	}
	for _, e := range l.prefix {
		if e.Ecosystem == eco && strings.HasPrefix(n, Normalize(eco, strings.TrimSuffix(e.Pattern, "*"))) {
			return e, true
		}
	}
	if eco == "go" {
		for p := n; strings.Contains(p, "/"); p = p[:strings.LastIndexByte(p, '/')] {
			if e, ok := l.exact[eco+"\x00"+p]; ok {
				return e, true
			}
		}
	}
	return Entry{}, false
}
