// Package scan runs whole scans: it opens the store, creates or resumes the
// scan record, wires the input, the probes (DNS, HTTP, optionally a
// browser) or the archive reader, the detector and the store writer into a
// pipeline, reports progress, and marks the scan done or interrupted. It is
// the application layer under cmd/aicensus; each part lives in its own
// package.
package scan
