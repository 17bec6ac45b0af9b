// Package gittest builds small real git repositories for tests with the git
// binary: commits with chosen authors, dates and messages (trailers
// included), branches, --no-ff merges and tags. Like net/http/httptest it
// exists only to be imported by tests.
package gittest
