package testfarm

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteDir(t *testing.T) {
	f := startFarm(t, testConfig(25))
	dir := filepath.Join(t.TempDir(), "out")
	if err := f.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dir, FileCA)), f.CAPEM()) {
		t.Error("ca.pem differs")
	}
	lines := strings.Split(strings.TrimSuffix(string(readFile(t, filepath.Join(dir, FileDomains))), "\n"), "\n")
	if !reflect.DeepEqual(lines, f.Domains()) {
		t.Errorf("domains.txt has %d lines, want %d", len(lines), len(f.Domains()))
	}
	fh, err := os.Open(filepath.Join(dir, FileTruth))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	truth, err := ReadTruth(fh)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(truth, f.Truth()) {
		t.Error("truth.jsonl does not round-trip to Truth()")
	}
	env := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(readFile(t, filepath.Join(dir, FileEnv)))), "\n") {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("bad env line %q", l)
		}
		env[k] = v
	}
	want := map[string]string{
		"FARM_HTTP_PORT":  strconv.Itoa(f.HTTPPort()),
		"FARM_HTTPS_PORT": strconv.Itoa(f.HTTPSPort()),
		"FARM_PORT_MAP":   "80:" + strconv.Itoa(f.HTTPPort()) + ",443:" + strconv.Itoa(f.HTTPSPort()),
		"FARM_DNS":        f.DNSAddr(),
		"FARM_CA":         filepath.Join(dir, FileCA),
		"FARM_DOMAINS":    filepath.Join(dir, FileDomains),
		"FARM_TRUTH":      filepath.Join(dir, FileTruth),
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("env\n got %v\nwant %v", env, want)
	}
}

func TestCloseRemovesOwnDir(t *testing.T) {
	f := startFarm(t, testConfig(3))
	dir := f.Dir()
	if _, err := os.Stat(f.CAFile()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary dir %s still there: %v", dir, err)
	}
	select {
	case <-f.Done():
	default:
		t.Error("Done not closed after Close")
	}
}

func TestLocateData(t *testing.T) {
	if _, _, err := LocateData(t.TempDir()); err == nil {
		t.Error("LocateData found data under an empty temp dir")
	}
	corpus, embeds, err := LocateData("")
	if err != nil {
		t.Skip("shared data not found:", err)
	}
	if !isDir(filepath.Join(corpus, "readability")) || !isDir(embeds) {
		t.Errorf("LocateData = %s, %s", corpus, embeds)
	}
}
