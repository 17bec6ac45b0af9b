// Package agents attributes pull requests and commits to AI coding agents
// and measures how much of the public work they author, co-author or take
// part in (§4 of ../shared/research/supply-and-agents.md).
//
// Table holds the rules: the identity table (logins, commit e-mails, GitHub
// noreply addresses), agent branch prefixes, PR-body and commit markers,
// trailers, the non-AI automation accounts to exclude, and the
// false-positive guards (no bare words in free text; logins such as
// "claude" that belong to people count only in their [bot] form; e-mails
// match whole addresses, never a domain alone). Every match is a Signal
// naming the agent, the role (author, co-author, reviewer), the rule and the
// evidence text, so every attribution can be explained.
//
// History aggregates first-parent commits (git repositories or the corpus
// CSV, see package gitlog) per repository; Events aggregates GH Archive
// events per pull request and month. Marker-based counts are lower bounds:
// squash merges drop trailers and users disable attribution.
package agents
