// Package ghatest writes synthetic GH Archive events for tests and
// benchmarks, in the public schema of the GitHub Events API as archived by
// gharchive.org: the envelope (id, type, actor, repo, payload, public,
// created_at, org) and full pre-2025-10-07 payloads (pull_request objects
// with their head and base repositories, push commits with messages), or the
// trimmed payloads GitHub has sent since, when Trimmed is set.
//
// Like net/http/httptest it exists only to be imported by tests.
package ghatest
