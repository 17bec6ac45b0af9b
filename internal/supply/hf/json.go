package hf

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// jsonModel holds every field name the known JSON sources use. encoding/json
// matches names case-insensitively, so "modelId" and "modelid" both land.
type jsonModel struct {
	ID                 string   `json:"id"`
	ModelID            string   `json:"modelId"`
	Name               string   `json:"name"`
	Author             string   `json:"author"`
	Downloads          *float64 `json:"downloads"`
	HFDownloads        *float64 `json:"hf_downloads"`
	DownloadsAllTime   *float64 `json:"downloadsAllTime"`
	DownloadsAllTimeSn *float64 `json:"downloads_all_time"`
	Likes              *float64 `json:"likes"`
	HFLikes            *float64 `json:"hf_likes"`
	CreatedAt          string   `json:"createdAt"`
	CreatedAtSn        string   `json:"created_at"`
	Disabled           bool     `json:"disabled"`
}

// ErrNotModels is returned (wrapped) when a JSON document is neither an array
// of model objects nor an object whose values are model objects.
var ErrNotModels = errors.New("not a list of Hugging Face models")

// DecodeJSON reads one JSON document of models from r (gzip is detected and
// undone) and appends them to m. Accepted shapes: an /api/models page (an
// array of objects), an object of objects keyed by anything (model-card
// dumps keyed "1".."N"), and an object with a "models" array. It returns the
// number of models appended; objects lacking every id alias are skipped and
// counted in skipped, non-object values of an object are ignored.
func DecodeJSON(r io.Reader, m *Models) (added, skipped int, err error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return 0, 0, fmt.Errorf("gunzip: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	dec := json.NewDecoder(br)
	tok, err := dec.Token()
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", ErrNotModels, err)
	}
	switch tok {
	case json.Delim('['):
		return decodeArray(dec, m)
	case json.Delim('{'):
		return decodeObject(dec, m)
	}
	return 0, 0, fmt.Errorf("%w: starts with %v", ErrNotModels, tok)
}

func decodeArray(dec *json.Decoder, m *Models) (added, skipped int, err error) {
	for dec.More() {
		var jm jsonModel
		if err := dec.Decode(&jm); err != nil {
			return added, skipped, fmt.Errorf("%w: element %d: %w", ErrNotModels, added+skipped, err)
		}
		if appendJSON(m, &jm) {
			added++
		} else {
			skipped++
		}
	}
	if _, err := dec.Token(); err != nil {
		return added, skipped, fmt.Errorf("%w: %w", ErrNotModels, err)
	}
	return added, skipped, nil
}

func decodeObject(dec *json.Decoder, m *Models) (added, skipped int, err error) {
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return added, skipped, fmt.Errorf("%w: %w", ErrNotModels, err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return added, skipped, fmt.Errorf("%w: key %v: %w", ErrNotModels, key, err)
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		if key == "models" && raw[0] == '[' {
			a, s, err := decodeArray(nestedDecoder(raw), m)
			added, skipped = added+a, skipped+s
			if err != nil {
				return added, skipped, err
			}
			continue
		}
		if raw[0] != '{' {
			continue // metadata of a wrapper object ("next": null, counts)
		}
		var jm jsonModel
		if err := json.Unmarshal(raw, &jm); err != nil {
			return added, skipped, fmt.Errorf("%w: key %v: %w", ErrNotModels, key, err)
		}
		if appendJSON(m, &jm) {
			added++
		} else {
			skipped++
		}
	}
	return added, skipped, nil
}

func nestedDecoder(raw []byte) *json.Decoder {
	d := json.NewDecoder(bytes.NewReader(raw))
	_, _ = d.Token() // the '[' checked by the caller
	return d
}

// appendJSON maps the aliases to canonical fields and appends one row.
func appendJSON(m *Models, jm *jsonModel) bool {
	id := first(jm.ID, jm.ModelID, jm.Name)
	if id == "" {
		return false
	}
	r := Model{ID: id, Author: jm.Author, Disabled: jm.Disabled,
		Downloads:        pick(m, FieldDownloads, "downloads", jm.Downloads, "hf_downloads", jm.HFDownloads),
		DownloadsAllTime: pick(m, FieldDownloadsAllTime, "downloadsAllTime", jm.DownloadsAllTime, "downloads_all_time", jm.DownloadsAllTimeSn),
		Likes:            pick(m, FieldLikes, "likes", jm.Likes, "hf_likes", jm.HFLikes),
		CreatedAt:        Missing,
	}
	if s := first(jm.CreatedAt, jm.CreatedAtSn); s != "" {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			r.CreatedAt = t.Unix()
			m.noteSource(FieldCreatedAt, map[bool]string{true: "createdAt", false: "created_at"}[jm.CreatedAt != ""])
		}
	}
	m.Append(r)
	return true
}

// pick returns the first present alias as a count (Missing when none or when
// the value is negative or not finite) and records its source name.
func pick(m *Models, field, srcA string, a *float64, srcB string, b *float64) int64 {
	v, src := a, srcA
	if v == nil {
		v, src = b, srcB
	}
	if v == nil || math.IsNaN(*v) || *v < 0 || *v > math.MaxInt64/2 {
		return Missing
	}
	m.noteSource(field, src)
	return int64(*v)
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
