package github

import (
	"slices"
	"strings"
)

// SeedTopics are the three topics OECD.AI adds to Gonzalez et al.'s list.
func SeedTopics() []string {
	return []string{"machine-learning", "deep-learning", "artificial-intelligence"}
}

// ExpansionTopics is the §1.2 expansion set (our proposal; the 439-label
// Gonzalez list was not found).
func ExpansionTopics() []string {
	return []string{"ai", "ml", "neural-network", "neural-networks", "pytorch", "tensorflow", "keras", "jax",
		"scikit-learn", "transformers", "huggingface", "llm", "llms", "large-language-models", "gpt", "chatgpt",
		"openai", "langchain", "llama", "rag", "retrieval-augmented-generation", "generative-ai", "genai", "nlp",
		"natural-language-processing", "computer-vision", "reinforcement-learning", "diffusion", "stable-diffusion",
		"object-detection", "image-classification", "speech-recognition", "ai-agents", "agents", "agent", "mcp",
		"prompt-engineering", "embeddings", "vector-database", "machine-learning-algorithms", "data-science"}
}

// Classifier decides which repositories are AI by topic. The zero value
// matches nothing; build it with NewClassifier. It is read-only after
// construction and safe for concurrent use.
type Classifier struct {
	topics map[string]bool
}

// NewClassifier returns a classifier for the given topics (normalised).
func NewClassifier(topics []string) *Classifier {
	c := &Classifier{topics: map[string]bool{}}
	for _, t := range topics {
		if n := NormalizeTopic(t); n != "" {
			c.topics[n] = true
		}
	}
	return c
}

// Topics returns the classifier's topics, sorted.
func (c *Classifier) Topics() []string {
	out := make([]string, 0, len(c.topics))
	for t := range c.topics {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// IsAI reports whether any of topics is a classifier topic.
func (c *Classifier) IsAI(topics []string) bool {
	for _, t := range topics {
		if c.topics[t] {
			return true
		}
	}
	return false
}

// Expansion is a topic added by co-occurrence.
type Expansion struct {
	Topic string  `json:"topic"`
	With  int     `json:"with_seed"` // repositories carrying it and a seed topic
	Total int     `json:"total"`     // repositories carrying it
	Ratio float64 `json:"ratio"`     // With / Total
}

// Expand grows the classifier, Gonzalez-style: a topic is added when at
// least minRepos repositories carry it together with a seed topic and at
// least minRatio of the repositories carrying it do. It returns the added
// topics, most frequent first. Forks are ignored.
func (c *Classifier) Expand(repos []Repo, seed []string, minRepos int, minRatio float64) []Expansion {
	seedSet := NewClassifier(seed)
	with, total := map[string]int{}, map[string]int{}
	for _, r := range repos {
		if r.Fork {
			continue
		}
		hasSeed := seedSet.IsAI(r.Topics)
		for _, t := range uniq(r.Topics) {
			total[t]++
			if hasSeed {
				with[t]++
			}
		}
	}
	var out []Expansion
	for t, w := range with {
		if c.topics[t] || w < minRepos {
			continue
		}
		ratio := float64(w) / float64(total[t])
		if ratio >= minRatio {
			out = append(out, Expansion{Topic: t, With: w, Total: total[t], Ratio: ratio})
		}
	}
	slices.SortFunc(out, func(a, b Expansion) int {
		if a.With != b.With {
			return b.With - a.With
		}
		return strings.Compare(a.Topic, b.Topic)
	})
	for _, e := range out {
		c.topics[e.Topic] = true
	}
	return out
}

func uniq(ts []string) []string {
	if len(ts) < 2 {
		return ts
	}
	s := slices.Clone(ts)
	slices.Sort(s)
	return slices.Compact(s)
}
