// Package sdk is the list of LLM SDK packages per ecosystem (§3.2 of
// ../shared/research/supply-and-agents.md, our proposal: no source publishes
// Octoverse's list) and the name normalisation each ecosystem needs.
//
// Tiers A (provider SDKs), B (orchestration and agent frameworks) and C
// (local and hosted inference clients) count as "LLM SDK"; tier X (generic
// ML: torch, tensorflow, transformers, ...) and MCP are reported apart.
// boto3 is left out (it counts only when Bedrock is meant, which a manifest
// cannot say).
package sdk
