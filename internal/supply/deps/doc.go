// Package deps scans repository checkouts for dependency manifests (package
// manifest) and reports the repositories that depend on an LLM SDK (package
// sdk): per SDK, per tier and per ecosystem, with tier X (generic ML) and MCP
// apart, and new-repository growth year over year when creation dates are
// known (§3 of ../shared/research/supply-and-agents.md).
//
// A repository counts when any direct dependency (manifests; go.mod
// "// indirect" and lockfiles excluded) matches; the lockfile variant also
// counts lockfile entries (transitive). Vendored and generated directories
// are skipped. A manifest that does not parse is counted as a parse error
// and skipped; it never stops the scan.
package deps
