package hf

import (
	"strings"
)

// Missing marks an absent numeric value or creation time in Models.
const Missing = -1

// Canonical field names, as in the Hub API and the hub-stats Parquet schema.
const (
	FieldDownloads        = "downloads"
	FieldDownloadsAllTime = "downloadsAllTime"
	FieldLikes            = "likes"
	FieldCreatedAt        = "createdAt"
)

// Models is a column table of model metadata: row i of every slice is one
// model. Numeric values and CreatedAt (Unix seconds, UTC) are Missing when
// the input lacks them. The zero value is an empty table ready for Append.
// A Models value is not safe for concurrent mutation.
type Models struct {
	ID               []string
	Author           []string
	Downloads        []int64
	DownloadsAllTime []int64
	Likes            []int64
	CreatedAt        []int64
	Disabled         []bool
	// Sources maps a canonical field (FieldDownloads, ...) to the source
	// column(s) it was read from; a field absent from every input has no
	// entry.
	Sources map[string]string
}

// Model is one row, used to append.
type Model struct {
	ID, Author                         string
	Downloads, DownloadsAllTime, Likes int64 // Missing when absent
	CreatedAt                          int64 // Unix seconds, Missing when absent
	Disabled                           bool
}

// Len returns the number of rows.
func (m *Models) Len() int { return len(m.ID) }

// Append adds one row. An empty Author is taken from the id's owner part.
func (m *Models) Append(r Model) {
	if r.Author == "" {
		r.Author = authorOf(r.ID)
	}
	m.ID = append(m.ID, r.ID)
	m.Author = append(m.Author, r.Author)
	m.Downloads = append(m.Downloads, r.Downloads)
	m.DownloadsAllTime = append(m.DownloadsAllTime, r.DownloadsAllTime)
	m.Likes = append(m.Likes, r.Likes)
	m.CreatedAt = append(m.CreatedAt, r.CreatedAt)
	m.Disabled = append(m.Disabled, r.Disabled)
}

// Row returns row i.
func (m *Models) Row(i int) Model {
	return Model{ID: m.ID[i], Author: m.Author[i], Downloads: m.Downloads[i], DownloadsAllTime: m.DownloadsAllTime[i],
		Likes: m.Likes[i], CreatedAt: m.CreatedAt[i], Disabled: m.Disabled[i]}
}

// noteSource records that canonical field f was read from source column src.
func (m *Models) noteSource(f, src string) {
	if m.Sources == nil {
		m.Sources = map[string]string{}
	}
	old, ok := m.Sources[f]
	switch {
	case !ok || old == "":
		m.Sources[f] = src
	case !containsPart(old, src):
		m.Sources[f] = old + "|" + src
	}
}

func containsPart(list, s string) bool {
	for p := range strings.SplitSeq(list, "|") {
		if p == s {
			return true
		}
	}
	return false
}

// Dedupe keeps the last row of each non-empty ID (later inputs and pages win)
// and returns how many rows it dropped. Rows without an ID are all kept.
func (m *Models) Dedupe() int {
	last := make(map[string]int, m.Len())
	for i, id := range m.ID {
		if id != "" {
			last[id] = i
		}
	}
	if len(last) == m.Len() {
		return 0
	}
	out := Models{Sources: m.Sources}
	for i, id := range m.ID {
		if id == "" || last[id] == i {
			out.Append(m.Row(i))
		}
	}
	dropped := m.Len() - out.Len()
	*m = out
	return dropped
}

// authorOf returns the owner part of an "owner/name" id, or "" for ids
// without an owner (legacy canonical models such as "gpt2").
func authorOf(id string) string {
	if i := strings.IndexByte(id, '/'); i > 0 {
		return id[:i]
	}
	return ""
}
