package sdk

import "testing"

func TestLookup(t *testing.T) {
	l := Default()
	tests := []struct {
		eco, name, pattern, tier string
	}{
		{"pypi", "OpenAI", "openai", TierA},
		{"pypi", "llama_index.core", "llama-index-core", TierB},
		{"pypi", "Huggingface_Hub", "huggingface-hub", TierC},
		{"pypi", "torch", "torch", TierX},
		{"pypi", "mcp", "mcp", TierMCP},
		{"pypi", "openai-whisper", "", ""},
		{"pypi", "boto3", "", ""},
		{"npm", "@ai-sdk/openai", "@ai-sdk/*", TierB},
		{"npm", "@langchain/core", "@langchain/*", TierB},
		{"npm", "ai", "ai", TierB},
		{"npm", "aio", "", ""},
		{"npm", "@modelcontextprotocol/sdk", "@modelcontextprotocol/sdk", TierMCP},
		{"go", "github.com/sashabaranov/go-openai", "github.com/sashabaranov/go-openai", TierA},
		{"go", "github.com/openai/openai-go/v2", "github.com/openai/openai-go", TierA},
		{"go", "github.com/firebase/genkit/go/plugins/googlegenai", "github.com/firebase/genkit/go", TierB},
		{"go", "github.com/ollama/ollama", "github.com/ollama/ollama", TierC},
		{"go", "github.com/openai/openai-gopher", "", ""},
		{"maven", "dev.langchain4j:langchain4j-open-ai", "dev.langchain4j:langchain4j*", TierB},
		{"maven", "com.anthropic:anthropic-java", "com.anthropic:anthropic-java*", TierA},
		{"maven", "org.springframework.ai:spring-ai-openai-spring-boot-starter", "org.springframework.ai:spring-ai-*", TierB},
		{"nuget", "microsoft.semantickernel.connectors.openai", "Microsoft.SemanticKernel*", TierB},
		{"nuget", "OpenAI", "OpenAI", TierA},
		{"nuget", "OpenAIClient", "", ""},
		{"cargo", "async_openai", "async-openai", TierA},
		{"rubygems", "ruby-openai", "ruby-openai", TierA},
		{"packagist", "openai-php/client", "openai-php/client", TierA},
	}
	for _, tc := range tests {
		e, ok := l.Lookup(tc.eco, tc.name)
		if ok != (tc.tier != "") || e.Pattern != tc.pattern || e.Tier != tc.tier {
			t.Errorf("Lookup(%s, %s) = %+v %v, want %s %s", tc.eco, tc.name, e, ok, tc.pattern, tc.tier)
		}
	}
}
