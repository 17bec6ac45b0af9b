package pagefile

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "a.html"), []byte("<p>a</p>"), 0o644)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("<p>zipped</p>"))
	zw.Close()
	os.WriteFile(filepath.Join(dir, "sub", "b.html.gz"), gz.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "c.html.gz"), []byte{0x1f, 0x8b, 1, 2, 3}, 0o644)
	os.WriteFile(filepath.Join(dir, "big.html"), bytes.Repeat([]byte("x"), 100), 0o644)

	var got []string
	err := Walk(context.Background(), []string{dir, filepath.Join(dir, "missing"), "-"}, strings.NewReader("stdin page"), 50, func(p Page) error {
		status := "ok"
		if p.Err != nil {
			status = "err"
			if errors.Is(p.Err, ErrTooLarge) {
				status = "too-large"
			}
		}
		got = append(got, filepath.Base(p.Name)+":"+status+":"+string(p.Body[:min(len(p.Body), 13)]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"a.html:ok:<p>a</p>",
		"big.html:too-large:xxxxxxxxxxxxx",
		"b.html.gz:ok:<p>zipped</p>",
		"c.html.gz:err:",
		"missing:err:",
		"-:ok:stdin page",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
