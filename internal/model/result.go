package model

import "time"

// Result is the stored and exported record for one target of one scan: one
// per input domain for live scans, one per registrable domain (or host) for
// archive scans. Its JSON form is the JSON Lines export record; "target" and
// "detections" mean the same as in `aicensus detect --json`.
type Result struct {
	ScanID     int64       `json:"scan_id,omitempty"`
	Target     string      `json:"target"`          // what was scanned: the normalised input (domain or host)
	Input      string      `json:"input,omitempty"` // the raw input line, when it differs from Target
	Line       int         `json:"line,omitempty"`  // input line number (1-based), 0 for archives
	Domain     string      `json:"domain"`          // registrable domain of Target
	Status     Status      `json:"status"`
	Error      string      `json:"error,omitempty"`
	URL        string      `json:"url,omitempty"` // final URL after redirects
	HTTPStatus int         `json:"http_status,omitempty"`
	Redirects  []string    `json:"redirects,omitempty"` // the redirect chain, first request first
	Pages      int         `json:"pages,omitempty"`     // pages (responses) this result aggregates
	FirstSeen  time.Time   `json:"first_seen,omitzero"` // earliest capture (archives)
	LastSeen   time.Time   `json:"last_seen,omitzero"`  // latest capture (archives)
	Time       time.Time   `json:"time,omitzero"`       // when the target was handled
	DurationMS int64       `json:"duration_ms,omitempty"`
	DNS        []DNSRecord `json:"dns,omitempty"`
	Detections []Detection `json:"detections"`
}
