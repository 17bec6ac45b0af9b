package hf

import (
	"strings"
	"testing"
)

func TestNextLink(t *testing.T) {
	tests := []struct{ header, want string }{
		{`<https://huggingface.co/api/models?cursor=abc&limit=1000>; rel="next"`, "https://huggingface.co/api/models?cursor=abc&limit=1000"},
		{`<https://x/p1>; rel="prev", <https://x/p3>; rel="next"`, "https://x/p3"},
		{`<https://x/p3>; title="a, b"; REL=next`, "https://x/p3"},
		{`<https://x/a,b>; rel="last next"`, "https://x/a,b"},
		{`</api/models?cursor=Z>; rel=next`, "/api/models?cursor=Z"},
		{`<https://x/p1>; rel="prev"`, ""},
		{`<https://x/p1>; rel="nextpage"`, ""},
		{``, ""},
		{`<unterminated; rel=next`, ""},
	}
	for _, tc := range tests {
		if got := NextLink(tc.header); got != tc.want {
			t.Errorf("NextLink(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func FuzzNextLink(f *testing.F) {
	f.Add(`<https://x/p1>; rel="prev", <https://x/p3>; rel="next"`)
	f.Add(`<a>;rel=next<`)
	f.Fuzz(func(t *testing.T, h string) {
		got := NextLink(h)
		if got != "" && !strings.Contains(h, got) {
			t.Fatalf("NextLink(%q) = %q, not part of the header", h, got)
		}
		if strings.ContainsAny(got, "<>") {
			t.Fatalf("NextLink(%q) = %q contains a delimiter", h, got)
		}
	})
}
