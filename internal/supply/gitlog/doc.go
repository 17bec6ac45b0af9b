// Package gitlog reads commit metadata for agent attribution from two
// sources in one shape (Commit): a git repository, through `git log` run with
// os/exec, and the first-parent commit CSV of the shared corpus
// (corpus/prs/git-history-agent-repos). For both it keeps, per first-parent
// commit of HEAD, the author and committer, the subject, the trailers, the
// "generated with/by" lines, the pull request number taken from the subject,
// and for merge commits the authors and co-authors of the merged branch.
package gitlog
