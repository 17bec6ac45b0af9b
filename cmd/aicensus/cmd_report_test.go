package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/report"
)

func runArgs(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(append(args, "--log-level", "error"))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestReportAndCompaniesCommands(t *testing.T) {
	path, first, second := exportStore(t)
	// Company sizes from stdin: x.example is the domain of every result.
	out, err := runArgs(t, "website,employees\nhttps://www.x.example/,7\n,3\n", "companies", "import", "-", "--db", path, "--source", "mine")
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"rows read 2", "imported 1 ", "no-domain 1", "1-10: 2", "matched 1 of the imported domains answered in scan 2"} {
		if !strings.Contains(flat, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	out, err = runArgs(t, "", "report", "--db", path, "--format", "json", "--compare", "1", "2")
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Scan.ID != second || r.Population.OKDomains != 1 || len(r.Technologies) != 1 || r.Compare == nil || r.Compare.Before.ID != first ||
		!r.Companies.Available || r.Companies.Baseline.Matched != 1 {
		t.Errorf("report: %+v", r)
	}
	// --out picks the format from the extension.
	html := filepath.Join(t.TempDir(), "r.html")
	if _, err := runArgs(t, "", "report", "--db", path, "--out", html); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(html)
	if err != nil || !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		t.Errorf("html report: %v %.40q", err, b)
	}
	if fi, err := os.Stat(html); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("html report mode %v %v", fi.Mode(), err)
	}
	out, err = runArgs(t, "", "report", "--db", path, "--scan", "1")
	if err != nil || !strings.Contains(out, "AI TECHNOLOGIES") || !strings.Contains(out, "METHOD") {
		t.Errorf("table report: %v\n%s", err, out)
	}
	for _, bad := range [][]string{
		{"report", "--db", path, "--format", "pdf"},
		{"report", "--db", path, "--compare", "1"},
		{"report", "--db", path, "--evidence", "rumour"},
		{"report", "--db", path, "extra"},
		{"companies", "import", "x.csv", "--db", path, "--size-col", "a", "--employees-col", "b"},
	} {
		_, err := runArgs(t, "", bad...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: %v, want a usage error", bad, err)
		}
	}
	if _, err := runArgs(t, "", "report", "--db", filepath.Join(t.TempDir(), "none.duckdb")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing store: %v", err)
	}
}

func TestServeCommand(t *testing.T) {
	path, _, _ := exportStore(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		root := newRootCommand()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs([]string{"serve", "--db", path, "--addr", addr, "--log-level", "error"})
		done <- root.ExecuteContext(ctx)
	}()
	var res *http.Response
	for range 100 {
		if res, err = http.Get("http://" + addr + "/api/scans"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	var scans []map[string]any
	json.NewDecoder(res.Body).Decode(&scans)
	res.Body.Close()
	if len(scans) != 2 {
		t.Errorf("scans %v", scans)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}
