package store

import (
	"context"
	"errors"
	"iter"
	"path/filepath"
	"testing"
)

func companyRows(cs ...Company) iter.Seq2[Company, error] {
	return func(yield func(Company, error) bool) {
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}

type resolved struct {
	bucket, source string
	employees      int64
	nSources       int
	conflict       bool
}

func readCompanies(t *testing.T, s *Store) map[string]resolved {
	t.Helper()
	rows, err := s.DB().Query(`SELECT domain, size_bucket, source, coalesce(employees, 0), n_sources, conflict FROM companies`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]resolved{}
	for rows.Next() {
		var d string
		var r resolved
		if err := rows.Scan(&d, &r.bucket, &r.source, &r.employees, &r.nSources, &r.conflict); err != nil {
			t.Fatal(err)
		}
		out[d] = r
	}
	return out
}

func TestBucketOf(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{{1, "1-10"}, {10, "1-10"}, {11, "11-50"}, {50, "11-50"}, {51, "51-200"}, {500, "201-500"},
		{1000, "501-1000"}, {5000, "1001-5000"}, {10000, "5001-10000"}, {10001, "10001+"}, {2_200_000, "10001+"}} {
		b, ok := BucketOf(tc.n)
		if !ok || b.Label != tc.want {
			t.Errorf("BucketOf(%d) = %v %v, want %s", tc.n, b, ok, tc.want)
		}
	}
	if _, ok := BucketOf(0); ok {
		t.Error("BucketOf(0) ok")
	}
}

func TestImportCompaniesResolution(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "c.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Source "ranges": ranges only; a.com twice (the larger wins within a source).
	st, err := s.ImportCompanies(ctx, CompanyImport{Source: "ranges", File: "r.csv", Format: "csv", Counters: map[string]int64{"rows": 4}},
		companyRows(
			Company{Domain: "a.com", Bucket: "11-50", Line: 2},
			Company{Domain: "a.com", Bucket: "51-200", Line: 3},
			Company{Domain: "b.com", Bucket: "1-10", Line: 4},
			Company{Domain: "c.com", Bucket: "10001+", Line: 5},
		))
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 4 || st.Domains != 3 || st.Companies != 3 || st.Conflicts != 0 {
		t.Errorf("first import %+v", st)
	}
	// Source "exact": exact counts beat ranges; b.com disagrees with "ranges".
	if _, err := s.ImportCompanies(ctx, CompanyImport{Source: "exact"}, companyRows(
		Company{Domain: "b.com", Employees: 120, Bucket: "51-200", Line: 2},
		Company{Domain: "d.com", Employees: 3, Bucket: "1-10", Line: 3},
	)); err != nil {
		t.Fatal(err)
	}
	// Source "later-ranges": a later range-only source beats the older range
	// source, but not the exact count.
	if _, err := s.ImportCompanies(ctx, CompanyImport{Source: "later-ranges"}, companyRows(
		Company{Domain: "a.com", Bucket: "1-10", Line: 2},
		Company{Domain: "b.com", Bucket: "1-10", Line: 3},
	)); err != nil {
		t.Fatal(err)
	}
	got := readCompanies(t, s)
	want := map[string]resolved{
		"a.com": {"1-10", "later-ranges", 0, 2, true},
		"b.com": {"51-200", "exact", 120, 3, true},
		"c.com": {"10001+", "ranges", 0, 1, false},
		"d.com": {"1-10", "exact", 3, 1, false},
	}
	for d, w := range want {
		if got[d] != w {
			t.Errorf("%s: got %+v, want %+v", d, got[d], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d companies, want %d", len(got), len(want))
	}
	// Re-importing a source replaces its rows.
	st, err = s.ImportCompanies(ctx, CompanyImport{Source: "later-ranges"}, companyRows(
		Company{Domain: "e.com", Bucket: "201-500", Line: 2},
	))
	if err != nil {
		t.Fatal(err)
	}
	if st.Replaced != 2 || st.Companies != 5 {
		t.Errorf("re-import %+v", st)
	}
	if got := readCompanies(t, s); got["a.com"].bucket != "51-200" || got["a.com"].conflict {
		t.Errorf("a.com after re-import %+v", got["a.com"])
	}
	srcs, err := s.CompanySources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 3 || srcs[0].Source != "ranges" || srcs[0].Counters["rows"] != 4 || srcs[2].Source != "later-ranges" || srcs[2].Rows != 1 {
		t.Errorf("sources %+v", srcs)
	}
}

func TestImportCompaniesRollsBack(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "c.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ImportCompanies(ctx, CompanyImport{Source: "x"}, companyRows(Company{Domain: "a.com", Bucket: "1-10"})); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("read failed")
	bad := func(yield func(Company, error) bool) {
		if !yield(Company{Domain: "b.com", Bucket: "1-10"}, nil) {
			return
		}
		yield(Company{}, boom)
	}
	if _, err := s.ImportCompanies(ctx, CompanyImport{Source: "x"}, bad); !errors.Is(err, boom) {
		t.Fatalf("import with a read error = %v", err)
	}
	if _, err := s.ImportCompanies(ctx, CompanyImport{Source: "y"}, companyRows(Company{Domain: "c.com", Bucket: "12"})); !errors.Is(err, ErrInvalid) {
		t.Fatalf("import of a bad bucket = %v", err)
	}
	got := readCompanies(t, s)
	if len(got) != 1 || got["a.com"].bucket != "1-10" {
		t.Errorf("after failed imports: %+v", got)
	}
}
