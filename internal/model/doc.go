// Package model holds the plain data types that flow between aicensus
// stages: what a scanner observed of a target (Observation), what the
// detector concluded (Detection with its Evidence), and the per-target
// envelope that is stored and exported (Result, with a Status).
//
// The package imports nothing from aicensus and does no I/O. Its JSON field
// names are a public contract: `aicensus detect --json`, `aicensus export`
// and users' scripts rely on them, so rename nothing.
package model
