// Package blame computes the Aider-style share of new lines per release
// written by agent-attributed commits (§4.5 of
// ../shared/research/supply-and-agents.md, after Aider's scripts/blame.py):
// for each interval between consecutive vX.Y.0 tags (or the latest such tag
// and HEAD), every line of the files at the interval's end that `git blame
// -M100 -C100 -C -C start..end` assigns to a commit inside the interval is a
// new line; the share is the fraction of those lines whose commit the agent
// rules attribute to an agent (author or co-author signal).
//
// It needs a git checkout with full history and tags (not a shallow clone)
// and the git binary; it reads only, through os/exec. It is a share of the
// new lines that survive to the release, not of the code base.
package blame
