// Package gharchive streams GH Archive files (one GitHub Events API event per
// line, usually .json.gz) and decodes the fields the supply and agent
// metrics use: PullRequestEvent, PullRequestReviewEvent,
// PullRequestReviewCommentEvent, IssueCommentEvent, PushEvent, WatchEvent
// and CreateEvent (§5 of ../shared/research/supply-and-agents.md). Every
// other event type, and every field not named in Event, is skipped.
//
// A line that is not a JSON event is counted as malformed and skipped; it
// never stops a read. Payloads trimmed by GitHub on 2025-10-07 (no PR body,
// no push commits) decode with those fields empty.
package gharchive
