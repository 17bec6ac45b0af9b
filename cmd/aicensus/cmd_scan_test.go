package main

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/store/storetest"
)

// TestScanWarcClusterCommand runs `aicensus scan --warc --cluster embedded`
// on the sample archives and compares the stored statuses and result count
// with `aicensus scan --warc` on one machine; then checks the usage errors
// of archive scans on a cluster.
func TestScanWarcClusterCommand(t *testing.T) {
	sample, err := filepath.Abs(filepath.Join("..", "..", "testdata", "sample", "sample.warc.gz"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	single, clustered := filepath.Join(dir, "single.duckdb"), filepath.Join(dir, "cluster.duckdb")
	if _, err := runClusterArgs(t, "scan", "--warc", "--no-progress", "--db", single, sample); err != nil {
		t.Fatal(err)
	}
	if _, err := runClusterArgs(t, "scan", "--warc", "--cluster", "embedded", "--workers", "2", "--no-progress", "--db", clustered, sample); err != nil {
		t.Fatal(err)
	}
	read := func(db string) (scan store.Scan, out map[string]int64) {
		storetest.ReadLatest(t, db, func(st *store.Store, sc store.Scan) {
			counts, err := st.StatusCounts(context.Background(), sc.ID)
			if err != nil {
				t.Fatal(err)
			}
			scan, out = sc, map[string]int64{}
			for k, n := range counts {
				out[string(k)] = n
			}
		})
		return scan, out
	}
	sa, ca := read(single)
	sb, cb := read(clustered)
	if sb.Kind != store.KindWARC || sb.State != store.ScanDone || sb.ArchivesRead != 1 {
		t.Errorf("cluster scan: %+v", sb)
	}
	if len(ca) == 0 || !reflect.DeepEqual(ca, cb) || !reflect.DeepEqual(sa.Counters, sb.Counters) {
		t.Errorf("statuses %v vs %v, counters %v vs %v", ca, cb, sa.Counters, sb.Counters)
	}

	for _, bad := range [][]string{
		{"scan", "--warc", "--workers", "2", sample},
		{"scan", "--warc", "--cluster", "embedded", "--unit-size", "3", sample},
		{"scan", "--warc", "--cluster", "embedded", "--parquet", dir, sample},
		{"scan", "--warc", "--cluster", "embedded", "-"},
		{"scan", "--warc", "--cluster", "nats://127.0.0.1:1", "--cluster-dir", dir, sample},
	} {
		_, err := runClusterArgs(t, bad...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: err = %v, want a usage error", bad, err)
		}
	}
}
