package warc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aicensus/aicensus/internal/warc/warctest"
)

func names(srcs []Source) []string {
	var out []string
	for _, s := range srcs {
		out = append(out, s.Kind.String()+":"+s.Name)
	}
	return out
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a/1.warc.gz", "a/b/2.warc", "a/b/3.arc.gz", "a/notes.txt", "a/4.WARC.GZ", "c/5.warc.gz"} {
		writeFile(t, filepath.Join(dir, f), []byte("x"))
	}
	list := "crawl/x.warc.gz\n\n# comment\na/1.warc.gz\nhas space.warc.gz\n../etc/passwd.warc\nnot-an-archive.txt\nftp://h/x.warc.gz\nhttps://h.example/y.warc.gz\nmissing.warc.gz\n" + filepath.Join(dir, "c/5.warc.gz") + "\n"
	writeFile(t, filepath.Join(dir, "warc.paths"), []byte(list))
	writeFile(t, filepath.Join(dir, "gz/warc.paths.gz"), warctest.Gzip([]byte(list)))
	writeFile(t, filepath.Join(dir, "crawl/x.warc.gz"), []byte("x"))

	ctx := context.Background()
	got, bad, err := Expand(ctx, []string{filepath.Join(dir, "a"), filepath.Join(dir, "c", "*.warc.gz"), "-", filepath.Join(dir, "a", "1.warc.gz"), "https://h.example/z.warc.gz"}, "", Options{})
	if err != nil || len(bad) != 0 {
		t.Fatal(err, bad)
	}
	want := []string{
		"file:" + filepath.Join(dir, "a/1.warc.gz"), "file:" + filepath.Join(dir, "a/4.WARC.GZ"),
		"file:" + filepath.Join(dir, "a/b/2.warc"), "file:" + filepath.Join(dir, "a/b/3.arc.gz"),
		"file:" + filepath.Join(dir, "c/5.warc.gz"), "stdin:-", "http:https://h.example/z.warc.gz",
	}
	if !slices.Equal(names(got), want) {
		t.Errorf("got  %q\nwant %q", names(got), want)
	}

	for _, listName := range []string{"warc.paths", "gz/warc.paths.gz"} {
		t.Run(listName, func(t *testing.T) {
			got, bad, err := Expand(ctx, []string{filepath.Join(dir, listName)}, dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"file:" + filepath.Join(dir, "crawl/x.warc.gz"), "file:" + filepath.Join(dir, "a/1.warc.gz"), "http:https://h.example/y.warc.gz", "file:" + filepath.Join(dir, "c/5.warc.gz")}
			if !slices.Equal(names(got), want) {
				t.Errorf("got  %q\nwant %q", names(got), want)
			}
			var lines []int
			for _, b := range bad {
				lines = append(lines, b.Line)
				if b.List != filepath.Join(dir, listName) || b.Err == nil || b.Text == "" {
					t.Errorf("bad line %+v", b)
				}
			}
			if !slices.Equal(lines, []int{5, 6, 7, 8, 10}) {
				t.Errorf("bad lines %v, want 5 6 7 8 10: %v", lines, bad)
			}
		})
	}

	t.Run("http base", func(t *testing.T) {
		got, bad, err := Expand(ctx, []string{filepath.Join(dir, "warc.paths")}, "https://data.commoncrawl.org/", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Name != "https://data.commoncrawl.org/crawl/x.warc.gz" || got[0].Kind != SourceHTTP || len(got) != 5 {
			t.Errorf("got %q", names(got))
		}
		if len(bad) != 4 { // missing.warc.gz is not checked remotely
			t.Errorf("bad %v", bad)
		}
	})

	for _, tc := range []struct {
		name  string
		specs []string
		base  string
		noIn  bool
	}{
		{"missing file", []string{filepath.Join(dir, "nope.warc.gz")}, "", true},
		{"empty glob", []string{filepath.Join(dir, "*.nothing")}, "", true},
		{"folder without archives", []string{filepath.Join(dir, "crawl", "..", "gz")}, "", true},
		{"stdin twice", []string{"-", "-"}, "", false},
		{"list needs base", []string{filepath.Join(dir, "warc.paths")}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Expand(ctx, tc.specs, tc.base, Options{})
			if err == nil || errors.Is(err, ErrNoInput) != tc.noIn {
				t.Errorf("err %v (no-input %v)", err, tc.noIn)
			}
		})
	}
}

func TestExpandRemoteList(t *testing.T) {
	list := warctest.Gzip([]byte("crawl-data/CC-MAIN-2024-22/segments/1/warc/a.warc.gz\ncrawl-data/b.warc.gz\nbad line.warc.gz\n"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/crawl-data/CC-MAIN-2024-22/warc.paths.gz" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(list)
	}))
	defer srv.Close()
	got, bad, err := Expand(context.Background(), []string{srv.URL + "/crawl-data/CC-MAIN-2024-22/warc.paths.gz"}, srv.URL, Options{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http:" + srv.URL + "/crawl-data/CC-MAIN-2024-22/segments/1/warc/a.warc.gz", "http:" + srv.URL + "/crawl-data/b.warc.gz"}
	if !slices.Equal(names(got), want) || len(bad) != 1 || bad[0].Line != 3 {
		t.Errorf("got %q, bad %v", names(got), bad)
	}
	if _, _, err := Expand(context.Background(), []string{srv.URL + "/other/warc.paths"}, srv.URL, Options{HTTPClient: srv.Client()}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing remote list: %v", err)
	}
}

func TestSourceOpen(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "x.warc")
	writeFile(t, name, []byte("0123456789"))
	ctx := context.Background()
	rc, err := Source{Name: name, Kind: SourceFile}.Open(ctx, 4, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "456789" {
		t.Errorf("file at 4: %q", b)
	}
	rc, err = Source{Name: "-", Kind: SourceStdin}.Open(ctx, 3, Options{Stdin: strings.NewReader("abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(rc)
	if string(b) != "def" {
		t.Errorf("stdin at 3: %q", b)
	}
	_, err = Source{Name: filepath.Join(dir, "missing"), Kind: SourceFile}.Open(ctx, 0, Options{})
	var p *Problem
	if !errors.As(err, &p) || p.Kind != KindOpenError || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
