package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// readAll drains a Reader over content and returns its items.
func readAll(t testing.TB, content string, opts Options) ([]Item, Stats) {
	t.Helper()
	r, err := NewReader(strings.NewReader(content), opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var items []Item
	for {
		it, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		items = append(items, it)
	}
	return items, r.Stats()
}

// summary renders items as "line:host" or "line:!reason" for comparison.
func summary(items []Item) string {
	var parts []string
	for _, it := range items {
		if it.Err != nil {
			reason := "?"
			for _, r := range append(reasons, ErrLineTooLong, ErrNoColumn) {
				if errors.Is(it.Err, r) {
					reason = r.Error()
				}
			}
			parts = append(parts, fmt.Sprintf("%d:!%s", it.Line, reason))
			continue
		}
		parts = append(parts, fmt.Sprintf("%d:%s", it.Line, it.Target.Host))
	}
	return strings.Join(parts, " ")
}

func TestReader(t *testing.T) {
	tests := []struct {
		name    string
		content string
		opts    Options
		want    string
		format  Format
		header  bool
	}{
		{
			name:    "plain with comments blanks and duplicates",
			content: "# a list\nexample.com\n\n  Example.COM  \nchat.example.com # the chat\nhttps://example.org/x\n",
			want:    "2:example.com 5:chat.example.com 6:example.org",
			format:  FormatPlain,
		},
		{
			name:    "bom and crlf",
			content: "\ufeffexample.com\r\nexample.net\r\n",
			want:    "1:example.com 2:example.net",
			format:  FormatPlain,
		},
		{
			name:    "no final newline",
			content: "example.com\nexample.net",
			want:    "1:example.com 2:example.net",
			format:  FormatPlain,
		},
		{
			name:    "plain header word",
			content: "Domain\r\ngoogle.com\r\nmail.ru\r\n",
			want:    "2:google.com 3:mail.ru",
			format:  FormatPlain,
			header:  true,
		},
		{
			name:    "invalid lines keep their numbers",
			content: "good.com\nnot a domain\n127.0.0.1\nlocalhost\nco.uk\nalso-good.com\n",
			want:    "1:good.com 2:!invalid host name 3:!ip address, not a domain 4:!single-label name, not a public domain 5:co.uk 6:also-good.com",
			format:  FormatPlain,
		},
		{
			name:    "ip allowed",
			content: "127.0.0.1\n",
			opts:    Options{NormalizeOptions: NormalizeOptions{AllowIP: true}},
			want:    "1:127.0.0.1",
			format:  FormatPlain,
		},
		{
			name:    "keep duplicates",
			content: "a.com\nA.com\n",
			opts:    Options{KeepDuplicates: true},
			want:    "1:a.com 2:a.com",
			format:  FormatPlain,
		},
		{
			name:    "tranco without header",
			content: "1,google.com\n2,facebook.com\n3,google.com\n",
			want:    "1:google.com 2:facebook.com",
			format:  FormatCSV,
		},
		{
			name:    "tranco with header",
			content: "rank,domain\n1,google.com\n2,facebook.com\n",
			want:    "2:google.com 3:facebook.com",
			format:  FormatCSV,
			header:  true,
		},
		{
			name:    "csv column by name with quotes and empty cells",
			content: "id,Name,Site\n1,\"Acme, Inc.\",https://acme.example/?utm_source=x\n2,Nobody,\n3,\"Quote \"\"Co\"\"\",\"https://quote.example\"\n",
			opts:    Options{Column: "site"},
			want:    "2:acme.example 4:quote.example",
			format:  FormatCSV,
			header:  true,
		},
		{
			name:    "csv column guessed from header",
			content: "Tool Name,Tool Page URL,Domain\nX,https://dir.example/x,https://x.example/\n",
			want:    "2:x.example",
			format:  FormatCSV,
			header:  true,
		},
		{
			name:    "csv column by index without header",
			content: "a.example,b.example\nc.example,d.example\n",
			opts:    Options{Column: "2"},
			want:    "1:b.example 2:d.example",
			format:  FormatCSV,
		},
		{
			name:    "csv short row",
			content: "rank,domain\n1,a.example\n2\n3,b.example\n",
			want:    "2:a.example 3:!column missing on this line 4:b.example",
			format:  FormatCSV,
			header:  true,
		},
		{
			name:    "csv stray quote costs one line",
			content: "rank,domain\n1,\"a.example\n2,b.example\n",
			want:    "2:a.example 3:b.example",
			format:  FormatCSV,
			header:  true,
		},
		{
			name:    "tsv",
			content: "rank\tdomain\n1\ta.example\n",
			want:    "2:a.example",
			format:  FormatTSV,
			header:  true,
		},
		{
			name:    "forced plain keeps comma lines invalid",
			content: "1,a.example\n",
			opts:    Options{Format: FormatPlain},
			want:    "1:!invalid host name",
			format:  FormatPlain,
		},
		{
			name:    "url with comma stays plain",
			content: "https://a.example/?x=1,2\nb.example\n",
			want:    "1:a.example 2:b.example",
			format:  FormatPlain,
		},
		{
			name:    "line too long",
			content: "a.example\n" + strings.Repeat("x", 200) + "\nb.example\n",
			opts:    Options{MaxLineBytes: 100},
			want:    "1:a.example 2:!line too long 3:b.example",
			format:  FormatPlain,
		},
		{
			name:    "first line too long",
			content: strings.Repeat("x", 200) + "\nb.example",
			opts:    Options{MaxLineBytes: 100},
			want:    "1:!line too long 2:b.example",
			format:  FormatPlain,
		},
		{
			name:   "empty input",
			want:   "",
			format: FormatPlain,
		},
		{
			name:    "header only",
			content: "rank,domain\n",
			want:    "",
			format:  FormatCSV,
			header:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, gz := range []bool{false, true} {
				content := tt.content
				if gz {
					content = gzipString(t, content)
				}
				r, err := NewReader(strings.NewReader(content), tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				if r.Format() != tt.format {
					t.Errorf("gzip=%v: format %v, want %v", gz, r.Format(), tt.format)
				}
				items, st := readAll(t, content, tt.opts)
				if got := summary(items); got != tt.want {
					t.Errorf("gzip=%v:\n got %s\nwant %s", gz, got, tt.want)
				}
				if st.Header != tt.header {
					t.Errorf("gzip=%v: header %v, want %v", gz, st.Header, tt.header)
				}
				if st.Items+st.Invalid != len(items) {
					t.Errorf("gzip=%v: stats %+v do not add up to %d items", gz, st, len(items))
				}
			}
		})
	}
}

func TestReaderLineErrorText(t *testing.T) {
	items, _ := readAll(t, "ok.example\nbad host\n", Options{})
	if len(items) != 2 || items[1].Err == nil {
		t.Fatalf("items = %+v", items)
	}
	var le *LineError
	if !errors.As(items[1].Err, &le) || le.Line != 2 || le.Raw != "bad host" {
		t.Fatalf("error %v is not a *LineError for line 2", items[1].Err)
	}
	if got := items[1].Err.Error(); !strings.HasPrefix(got, `line 2: "bad host": invalid host name`) {
		t.Fatalf("error text %q", got)
	}
}

func TestReaderColumnErrors(t *testing.T) {
	for _, tt := range []struct{ content, column string }{
		{"rank,domain\n1,a.example\n", "website"},
		{"a,b\n1,2\n", ""},
		{"rank,domain\n", "0"},
	} {
		if _, err := NewReader(strings.NewReader(tt.content), Options{Column: tt.column}); err == nil {
			t.Errorf("NewReader(%q, column %q): want an error", tt.content, tt.column)
		}
	}
}

func TestReaderBrokenGzip(t *testing.T) {
	gz := gzipString(t, strings.Repeat("a.example\n", 10000))
	r, err := NewReader(strings.NewReader(gz[:len(gz)/2]), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			t.Fatal("truncated gzip read to a clean EOF")
		}
		if err != nil {
			return
		}
	}
}

func gzipString(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("rank,domain\n1,a.example\n2,\"b.example\n"), "")
	f.Add([]byte("\ufeff# c\r\nexample.com # x\r\n\r\n"), "")
	f.Add([]byte("a\tb\n1\tc.example\n"), "b")
	f.Add([]byte("id,url\n1,\"x\"\"y\",z\n"), "2")
	f.Fuzz(func(t *testing.T, data []byte, column string) {
		r, err := NewReader(bytes.NewReader(data), Options{Column: column, MaxLineBytes: 64})
		if err != nil {
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		prev := 0
		for {
			it, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if it.Line <= prev || it.Line > lines {
				t.Fatalf("line %d after %d (input has %d lines)", it.Line, prev, lines)
			}
			prev = it.Line
			if (it.Err == nil) == (it.Target.Host == "") {
				t.Fatalf("item %+v: exactly one of Err and Target must be set", it)
			}
		}
	})
}

func FuzzSplitFields(f *testing.F) {
	f.Add("a,b,c", byte(','))
	f.Add(`"a,b",c,"d""e"`, byte(','))
	f.Add("x\ty\t\"z", byte('\t'))
	f.Fuzz(func(t *testing.T, line string, delim byte) {
		fields := splitFields(nil, line, delim)
		if len(fields) == 0 {
			t.Fatal("no fields")
		}
		if !strings.Contains(line, `"`) && strings.Join(fields, string([]byte{delim})) != line {
			t.Fatalf("unquoted %q split into %q", line, fields)
		}
		if n := strings.Count(line, string([]byte{delim})) + 1; len(fields) > n {
			t.Fatalf("%q: %d fields, more than %d delimiters+1", line, len(fields), n)
		}
	})
}
