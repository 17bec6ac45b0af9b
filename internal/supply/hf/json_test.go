package hf

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
)

func TestDecodeJSONShapes(t *testing.T) {
	tests := []struct {
		name          string
		doc           string
		added, skip   int
		wantDownloads []int64
		wantAllTime   []int64
		wantSources   map[string]string
		wantAuthors   []string
		wantCreated   []int64
	}{
		{
			name: "api page",
			doc: `[{"_id":"x","id":"openai/gpt-oss-20b","author":"openai","downloads":5,"downloadsAllTime":70,"likes":3,"createdAt":"2025-08-04T16:30:00.000Z"},
			       {"id":"gpt2","downloads":0,"createdAt":"2022-03-02T23:29:04.000Z"}]`,
			added: 2, wantDownloads: []int64{5, 0}, wantAllTime: []int64{70, Missing},
			wantSources: map[string]string{FieldDownloads: "downloads", FieldDownloadsAllTime: "downloadsAllTime", FieldLikes: "likes", FieldCreatedAt: "createdAt"},
			wantAuthors: []string{"openai", ""}, wantCreated: []int64{1754325000, PlaceholderCreatedAt},
		},
		{
			name:  "model card dump keyed by number, float counts",
			doc:   `{"1":{"modelId":"a/b","downloads":2.0,"likes":0.0},"2":{"modelId":"c/d","downloads":40.0},"3":"junk","4":{"tags":[]}}`,
			added: 2, skip: 1, wantDownloads: []int64{2, 40}, wantAllTime: []int64{Missing, Missing},
			wantSources: map[string]string{FieldDownloads: "downloads", FieldLikes: "likes"},
			wantAuthors: []string{"a", "c"}, wantCreated: []int64{Missing, Missing},
		},
		{
			name:  "llmfit list with hf_ aliases",
			doc:   `[{"name":"brain-bzh/reve","provider":"brain-bzh","hf_downloads":34113,"hf_likes":0,"release_date":null}]`,
			added: 1, wantDownloads: []int64{34113}, wantAllTime: []int64{Missing},
			wantSources: map[string]string{FieldDownloads: "hf_downloads", FieldLikes: "hf_likes"},
			wantAuthors: []string{"brain-bzh"}, wantCreated: []int64{Missing},
		},
		{
			name:  "object with models array and negative count",
			doc:   `{"models":[{"id":"o/m","downloads":-3,"created_at":"2024-01-01T00:00:00+02:00"}],"next":null}`,
			added: 1, wantDownloads: []int64{Missing}, wantAllTime: []int64{Missing},
			wantSources: map[string]string{FieldCreatedAt: "created_at"},
			wantAuthors: []string{"o"}, wantCreated: []int64{1704060000},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, gz := range []bool{false, true} {
				var in bytes.Buffer
				if gz {
					zw := gzip.NewWriter(&in)
					zw.Write([]byte(tc.doc))
					zw.Close()
				} else {
					in.WriteString(tc.doc)
				}
				m := &Models{}
				added, skipped, err := DecodeJSON(&in, m)
				if err != nil {
					t.Fatal(err)
				}
				if added != tc.added || skipped != tc.skip {
					t.Fatalf("added, skipped = %d, %d; want %d, %d", added, skipped, tc.added, tc.skip)
				}
				if !equal(m.Downloads, tc.wantDownloads) || !equal(m.DownloadsAllTime, tc.wantAllTime) || !equal(m.CreatedAt, tc.wantCreated) {
					t.Fatalf("downloads %v all-time %v created %v", m.Downloads, m.DownloadsAllTime, m.CreatedAt)
				}
				if strings.Join(m.Author, ",") != strings.Join(tc.wantAuthors, ",") {
					t.Fatalf("authors %q", m.Author)
				}
				if len(m.Sources) != len(tc.wantSources) {
					t.Fatalf("sources %v, want %v", m.Sources, tc.wantSources)
				}
				for k, v := range tc.wantSources {
					if m.Sources[k] != v {
						t.Fatalf("sources %v, want %v", m.Sources, tc.wantSources)
					}
				}
			}
		})
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDecodeJSONRejects(t *testing.T) {
	for _, doc := range []string{``, `3`, `"x"`, `[1,2]`, `[{"id":"a"}`, `{"1":{"id":5}}`} {
		_, _, err := DecodeJSON(strings.NewReader(doc), &Models{})
		if !errors.Is(err, ErrNotModels) {
			t.Errorf("DecodeJSON(%q) error = %v, want ErrNotModels", doc, err)
		}
	}
}

func TestDedupe(t *testing.T) {
	m := &Models{}
	for i, id := range []string{"a/x", "b/y", "a/x", "", ""} {
		m.Append(Model{ID: id, Downloads: int64(i), DownloadsAllTime: Missing, Likes: Missing, CreatedAt: Missing})
	}
	if d := m.Dedupe(); d != 1 || m.Len() != 4 || m.Downloads[1] != 2 {
		t.Fatalf("Dedupe dropped %d, rows %v", d, m.Downloads)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`[{"id":"a/b","downloads":1,"downloadsAllTime":2,"createdAt":"2024-01-01T00:00:00Z"}]`))
	f.Add([]byte(`{"1":{"modelId":"x/y","downloads":2.0}}`))
	f.Add([]byte(`{"models":[{"name":"n","hf_downloads":1e300}]}`))
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		m := &Models{}
		added, skipped, err := DecodeJSON(bytes.NewReader(data), m)
		if added != m.Len() {
			t.Fatalf("added %d but %d rows", added, m.Len())
		}
		if err == nil && added+skipped < 0 {
			t.Fatal("negative counts")
		}
		for i := range m.Len() {
			if m.ID[i] == "" {
				t.Fatal("row without id")
			}
			if m.Downloads[i] < Missing || m.DownloadsAllTime[i] < Missing || m.Likes[i] < Missing {
				t.Fatalf("negative count below Missing: %+v", m.Row(i))
			}
		}
	})
}
