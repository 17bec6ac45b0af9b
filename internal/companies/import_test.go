package companies

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/store"
)

const corpus = "../../../shared/corpus/companies"

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "c.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func corpusFile(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(corpus, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared company corpus not available (%v)", err)
	}
	return p
}

// The expected counts come from the files' SOURCE.md and from counting the
// CSVs with Python's csv module (rows, empty website/domain cells, empty or
// zero sizes, sizes per bucket).
func TestImportRealDatasets(t *testing.T) {
	for _, tc := range []struct {
		file                         string
		domainCol, sizeCol           string
		rows, noDomain, invalid      int64
		noSize, imported, duplicates int64
		buckets                      map[string]int64
		exact                        bool
		example, exampleSize         string
	}{
		{file: "fortune500-2020/fortune500.csv.gz", domainCol: "website", sizeCol: "employees",
			rows: 500, imported: 500, duplicates: 1, exact: true, // thewaltdisneycompany.com twice
			buckets: map[string]int64{"10001+": 398, "5001-10000": 67, "1001-5000": 34, "51-200": 1},
			example: "walmart.com", exampleSize: "10001+"},
		{file: "yc-directory-2026/yc_companies.csv.gz", domainCol: "website", sizeCol: "team_size",
			// 228 rows with a website have an empty or 0 team size; 2 of them
			// have the website "http://", one of the 7 unusable websites
			// (5 x "http://", "https://brumby", two URLs in one cell).
			rows: 6079, noDomain: 38, invalid: 7, noSize: 226, imported: 5808, duplicates: 3, exact: true,
			buckets: map[string]int64{"1-10": 3638, "11-50": 1481, "51-200": 523, "201-500": 122, "501-1000": 41, "1001-5000": 28, "5001-10000": 6},
			example: "themuse.com", exampleSize: "51-200"},
		{file: "pdl-free-company-top21k/companies_sorted.csv.gz", domainCol: "domain", sizeCol: "size range",
			// Unusable: doj&cd.gov.za, carrabba's.com, www,sct,gob.mx, www,tn.gov.in.
			rows: 21000, noDomain: 2225, invalid: 4, imported: 18771,
			buckets: map[string]int64{"1001-5000": 15861, "5001-10000": 3044, "10001+": 2095},
			example: "ibm.com", exampleSize: "10001+"},
	} {
		t.Run(filepath.Dir(tc.file), func(t *testing.T) {
			path := corpusFile(t, tc.file)
			s := openStore(t)
			st, err := Import(context.Background(), s, path, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", st)
			if st.DomainCol != tc.domainCol || st.SizeCol != tc.sizeCol {
				t.Errorf("columns %q %q, want %q %q", st.DomainCol, st.SizeCol, tc.domainCol, tc.sizeCol)
			}
			if st.Rows != tc.rows || st.Skipped[SkipNoDomain] != tc.noDomain || st.Skipped[SkipInvalidDomain] != tc.invalid || st.Skipped[SkipNoSize] != tc.noSize {
				t.Errorf("rows %d, skipped %v; want %d rows, %d no domain, %d invalid, %d no size", st.Rows, st.Skipped, tc.rows, tc.noDomain, tc.invalid, tc.noSize)
			}
			for b, n := range tc.buckets {
				if st.Buckets[b] != n {
					t.Errorf("bucket %s: %d, want %d", b, st.Buckets[b], n)
				}
			}
			if len(st.Buckets) != len(tc.buckets) || st.Skipped[SkipBadSize] != 0 || st.Skipped[SkipBadRecord] != 0 {
				t.Errorf("buckets %v, skipped %v", st.Buckets, st.Skipped)
			}
			// Every row is either imported or skipped for a reason.
			var skipped int64
			for _, n := range st.Skipped {
				skipped += n
			}
			if st.Imported+skipped != st.Rows || st.Imported != tc.imported || st.Duplicates != tc.duplicates {
				t.Errorf("imported %d (want %d) + skipped %d != rows %d; duplicates %d (want %d)", st.Imported, tc.imported, skipped, st.Rows, st.Duplicates, tc.duplicates)
			}
			if (st.Exact == st.Imported) != tc.exact || st.Store.Rows != st.Imported || st.Domains != st.Imported-st.Duplicates {
				t.Errorf("exact %d, stored %d, domains %d, duplicates %d", st.Exact, st.Store.Rows, st.Domains, st.Duplicates)
			}
			var bucket string
			if err := s.DB().QueryRow(`SELECT size_bucket FROM companies WHERE domain = ?`, tc.example).Scan(&bucket); err != nil || bucket != tc.exampleSize {
				t.Errorf("%s: bucket %q, %v; want %s", tc.example, bucket, err, tc.exampleSize)
			}
		})
	}
}

func TestImportAllThreeAndMatch(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	// A scan with some of the companies' domains.
	sc, err := s.CreateScan(ctx, store.ScanSpec{Kind: store.KindLive, Input: "test"})
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.NewWriter(store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []model.Result{
		{ScanID: sc.ID, Target: "www.walmart.com", Domain: "walmart.com", Status: model.StatusOK},
		{ScanID: sc.ID, Target: "ibm.com", Domain: "ibm.com", Status: model.StatusOK},
		{ScanID: sc.ID, Target: "themuse.com", Domain: "themuse.com", Status: model.StatusOK},
		{ScanID: sc.ID, Target: "apple.com", Domain: "apple.com", Status: model.StatusTimeout},
	} {
		if err := w.Write(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, f := range []string{"pdl-free-company-top21k/companies_sorted.csv.gz", "fortune500-2020/fortune500.csv.gz", "yc-directory-2026/yc_companies.csv.gz"} {
		st, err := Import(ctx, s, corpusFile(t, f), nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		total += st.Domains
		if st.MatchedScan != sc.ID {
			t.Errorf("%s matched against scan %d", f, st.MatchedScan)
		}
		switch {
		case strings.HasPrefix(f, "pdl"):
			if st.Matched != 1 { // ibm.com (apple.com timed out)
				t.Errorf("pdl matched %d", st.Matched)
			}
		case strings.HasPrefix(f, "fortune"):
			if st.Matched != 2 { // walmart.com, ibm.com
				t.Errorf("fortune matched %d", st.Matched)
			}
		}
		if last := st.Store; last.Companies > total || last.Companies < st.Domains {
			t.Errorf("%s: resolved companies %d, domains imported so far %d", f, last.Companies, total)
		}
	}
	// walmart.com: PDL gives a range (10001+), Fortune an exact count: the
	// exact count wins, and both agree on the bucket.
	var src string
	var emp int64
	var conflict bool
	if err := s.DB().QueryRow(`SELECT source, employees, conflict FROM companies WHERE domain = 'walmart.com'`).Scan(&src, &emp, &conflict); err != nil {
		t.Fatal(err)
	}
	if src != "fortune500" || emp != 2200000 || conflict {
		t.Errorf("walmart.com resolved to %s %d conflict=%v", src, emp, conflict)
	}
	srcs, err := s.CompanySources(ctx)
	if err != nil || len(srcs) != 3 {
		t.Fatalf("sources %v %v", srcs, err)
	}
}

func TestImportFormats(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	csvBody := "\ufeffCompany,Homepage URL,Headcount\n" +
		"Acme,https://www.acme.example.com/about,12\n" +
		"\"Multi\nLine Inc\",multi.co.uk,\"1,200\"\n" +
		"NoSite,,5\n" +
		"Local,localhost,5\n" +
		"Zero,zero.org,0\n" +
		"Weird,weird.org,lots\n" +
		"Acme Sub,acme.example.com,3\n"
	jsonl := `{"domain":"acme.example.com","employees":12.0,"name":"Acme"}
not json
{"domain":"big.io","employees":"10,001+"}
[1,2]
{"domain":"1.2.3.4","employees":7}
`
	for _, tc := range []struct {
		name    string
		path    string
		opts    Options
		want    Stats
		domains map[string]string
	}{
		{name: "csv", path: write("list.csv", csvBody),
			want:    Stats{Rows: 7, Imported: 3, Duplicates: 1, Domains: 2, Skipped: map[string]int64{SkipNoDomain: 1, SkipInvalidDomain: 1, SkipNoSize: 1, SkipBadSize: 1}},
			domains: map[string]string{"example.com": "11-50", "multi.co.uk": "1001-5000"}},
		{name: "tsv", path: write("list.tsv", "domain\tsize\nfoo.com\t11 - 50\nbar.com\t51 to 200 employees\n"),
			want:    Stats{Rows: 2, Imported: 2, Domains: 2, Skipped: map[string]int64{}},
			domains: map[string]string{"foo.com": "11-50", "bar.com": "51-200"}},
		{name: "jsonl", path: write("list.jsonl", jsonl),
			want:    Stats{Rows: 5, Imported: 2, Domains: 2, Skipped: map[string]int64{SkipBadRecord: 2, SkipInvalidDomain: 1}},
			domains: map[string]string{"example.com": "11-50", "big.io": "10001+"}},
		{name: "explicit columns", path: write("cols.csv", "a,b,c,d\nx.com,3,500,X\n"),
			opts: Options{DomainCol: "A", SizeCol: "c", NameCol: "d", Source: "mine"},
			want: Stats{Rows: 1, Imported: 1, Domains: 1, Skipped: map[string]int64{}}, domains: map[string]string{"x.com": "201-500"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			st, err := Import(ctx, s, tc.path, nil, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if st.Rows != tc.want.Rows || st.Imported != tc.want.Imported || st.Duplicates != tc.want.Duplicates || st.Domains != tc.want.Domains {
				t.Errorf("got rows %d imported %d dup %d domains %d, want %+v", st.Rows, st.Imported, st.Duplicates, st.Domains, tc.want)
			}
			for k, v := range tc.want.Skipped {
				if st.Skipped[k] != v {
					t.Errorf("skipped %s: %d, want %d (%v)", k, st.Skipped[k], v, st.Examples)
				}
			}
			if len(st.Skipped) != len(tc.want.Skipped) {
				t.Errorf("skipped %v", st.Skipped)
			}
			for d, b := range tc.domains {
				var got string
				if err := s.DB().QueryRow(`SELECT size_bucket FROM companies WHERE domain = ?`, d).Scan(&got); err != nil || got != b {
					t.Errorf("%s: %q %v, want %s", d, got, err, b)
				}
			}
		})
	}
}

func TestImportParquet(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	p := filepath.Join(t.TempDir(), "c.parquet")
	if _, err := s.DB().Exec(`COPY (SELECT * FROM (VALUES ('https://a.example.org', 40::BIGINT, 'A'), ('b.example.net', 9000, 'B'), (NULL, 3, 'C'))
		t(website, employees, name)) TO '` + p + `' (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
	st, err := Import(ctx, s, p, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Format != FormatParquet || st.Rows != 3 || st.Imported != 2 || st.Skipped[SkipNoDomain] != 1 || st.Exact != 2 {
		t.Errorf("%+v", st)
	}
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM companies WHERE (domain, size_bucket) IN (('example.org', '11-50'), ('example.net', '5001-10000'))`).Scan(&n); err != nil || n != 2 {
		t.Errorf("parquet rows stored: %d %v", n, err)
	}
}

func TestImportErrors(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "x.csv")
	os.WriteFile(p, []byte("foo,bar\n1,2\n"), 0o644)
	if _, err := Import(ctx, s, p, nil, Options{}); err == nil || !strings.Contains(err.Error(), "no domain column") {
		t.Errorf("no domain column: %v", err)
	}
	if _, err := Import(ctx, s, p, nil, Options{DomainCol: "foo", SizeCol: "bar", EmployeesCol: "bar"}); err == nil {
		t.Error("both size and employees columns accepted")
	}
	if _, err := Import(ctx, s, filepath.Join(dir, "missing.csv"), nil, Options{}); err == nil {
		t.Error("missing file accepted")
	}
	if _, err := Import(ctx, s, "-", strings.NewReader("domain,size\na.com,3\n"), Options{}); err != nil {
		t.Errorf("stdin: %v", err)
	}
	var n int
	s.DB().QueryRow(`SELECT count(*) FROM companies`).Scan(&n)
	if n != 1 {
		t.Errorf("%d companies after the failed imports and one good one", n)
	}
}
