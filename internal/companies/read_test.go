package companies

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"testing"
)

// readAll drains a table, counting records and bad records.
func readAll(t *testing.T, tb table) (records, bad int) {
	t.Helper()
	for i := 0; ; i++ {
		if i > 1<<20 {
			t.Fatal("table does not end")
		}
		_, vals, err := tb.Next()
		if err == io.EOF {
			return
		}
		var re *recordError
		if errors.As(err, &re) {
			bad++
			continue
		}
		if err != nil {
			return
		}
		if len(vals) != len(tb.Columns()) {
			t.Fatalf("%d values for %d columns", len(vals), len(tb.Columns()))
		}
		records++
	}
}

func TestTablesGzipAndLines(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("domain,size\na.com,1-10\n\"b\nc.com\",3\nd.com\n"))
	zw.Close()
	tb, err := newCSVTable(&gz, false)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int64
	for {
		line, vals, err := tb.Next()
		if err != nil {
			break
		}
		lines = append(lines, line)
		if line == 4 && vals[1] != "" {
			t.Errorf("short record padded with %q", vals[1])
		}
	}
	if len(lines) != 3 || lines[0] != 2 || lines[1] != 3 || lines[2] != 5 {
		t.Errorf("record lines %v, want [2 3 5]", lines)
	}
	jt, err := newJSONLTable(bytes.NewReader([]byte("\n{\"domain\":\"a.com\",\"n\":1e3,\"x\":{\"y\":1}}\n\n{\"n\":null}\n")))
	if err != nil {
		t.Fatal(err)
	}
	if c := jt.Columns(); len(c) != 3 || c[0] != "domain" || c[1] != "n" {
		t.Fatalf("columns %v", c)
	}
	line, vals, err := jt.Next()
	if err != nil || line != 2 || vals[0] != "a.com" || vals[1] != "1000" || vals[2] != `{"y":1}` {
		t.Errorf("first record line %d %q %v", line, vals, err)
	}
	line, vals, err = jt.Next()
	if err != nil || line != 4 || vals[0] != "" || vals[1] != "" {
		t.Errorf("second record line %d %q %v", line, vals, err)
	}
	if _, _, err := jt.Next(); err != io.EOF {
		t.Errorf("end: %v", err)
	}
}

func FuzzTables(f *testing.F) {
	f.Add([]byte("domain,size\na.com,1-10\n"), false)
	f.Add([]byte("a\tb\nx\ty\n"), false)
	f.Add([]byte("d,s\n\"unterminated,1\nb.com,2\n"), false)
	f.Add([]byte("{\"domain\":\"a.com\",\"size\":3}\n[1]\n{}\n"), true)
	f.Add([]byte("\xef\xbb\xbfdomain\n\"a\"\"b\".com\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, jsonl bool) {
		var tb table
		var err error
		if jsonl {
			tb, err = newJSONLTable(bytes.NewReader(data))
		} else {
			tb, err = newCSVTable(bytes.NewReader(data), false)
		}
		if err != nil {
			return
		}
		defer tb.Close()
		readAll(t, tb)
	})
}
