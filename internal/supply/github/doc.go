// Package github measures the open-source AI project supply on GitHub from
// repository metadata (§1 of ../shared/research/supply-and-agents.md): it
// loads repositories from JSON lines, CSV or Parquet (full_name, topics,
// stars, created_at, fork, archived, language, under common aliases),
// classifies AI repositories by topic (the three OECD/Gonzalez seed topics
// plus an expansion set, optionally grown by topic co-occurrence), and
// reports the share at or above a star threshold (10 by default) and counts
// by creation year. Stars come from the metadata or, as an upper-bound
// variant, from counting GH Archive WatchEvents.
package github
