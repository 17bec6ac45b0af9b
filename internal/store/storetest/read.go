package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/store"
)

// ReadLatest opens the store file db read-only and calls read with it and
// its latest scan, then closes it; any failure fails t.
func ReadLatest(t testing.TB, db string, read func(st *store.Store, sc store.Scan)) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sc, err := st.LatestScan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	read(st, sc)
}

// LatestResults returns the latest scan in db and every one of its results.
func LatestResults(t testing.TB, db string) (store.Scan, []model.Result) {
	t.Helper()
	var scan store.Scan
	var out []model.Result
	ReadLatest(t, db, func(st *store.Store, sc store.Scan) {
		scan = sc
		if err := st.Results(context.Background(), sc.ID, func(r model.Result) error { out = append(out, r); return nil }); err != nil {
			t.Fatal(err)
		}
	})
	return scan, out
}

// Diff returns up to ten of the lines that occur a different number of
// times in a and b, each prefixed with b's shortfall (+n: n more in a) and
// cut at 300 bytes, for test failure messages.
func Diff(a, b []string) []string {
	in := map[string]int{}
	for _, x := range a {
		in[x]++
	}
	for _, x := range b {
		in[x]--
	}
	var out []string
	for x, n := range in {
		if n != 0 && len(out) < 10 {
			out = append(out, fmt.Sprintf("%+d %.300s", n, x))
		}
	}
	return out
}
