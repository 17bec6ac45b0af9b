package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/report"
	"github.com/aicensus/aicensus/internal/web"
)

func get(t *testing.T, u string) (int, string, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Content-Type"), string(b)
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	code, ct, body := get(t, u)
	if code != http.StatusOK || !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET %s: %d %s %.200s", u, code, ct, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// The API returns exactly what report.Build computes, filters included.
func TestAPIReportMatchesBuild(t *testing.T) {
	base, s, fx := startServer(t)
	ctx := context.Background()
	for _, q := range []string{"", "?open=open", "?evidence=running&size=1-10", "?category=LLM+API",
		"?scan=" + itoa(fx.FarmA.Scan.ID) + "&compare=" + itoa(fx.FarmA.Scan.ID) + "," + itoa(fx.FarmB.Scan.ID)} {
		var got report.Report
		getJSON(t, base+"/api/report"+q, &got)
		vals, _ := url.ParseQuery(strings.TrimPrefix(q, "?"))
		opts := report.Options{Filter: report.Filter{Open: vals.Get("open"), Evidence: vals.Get("evidence"), Size: vals.Get("size"), Category: vals.Get("category")}}
		if vals.Get("scan") != "" {
			opts.ScanID, opts.CompareBefore, opts.CompareAfter = fx.FarmA.Scan.ID, fx.FarmA.Scan.ID, fx.FarmB.Scan.ID
		}
		want, err := report.Build(ctx, s, opts)
		if err != nil {
			t.Fatal(err)
		}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("/api/report%s differs from report.Build:\n got %.300s\nwant %.300s", q, gb, wb)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestAPIDomainsAndScans(t *testing.T) {
	base, _, fx := startServer(t)
	var scans []map[string]any
	getJSON(t, base+"/api/scans", &scans)
	if len(scans) != 3 {
		t.Fatalf("scans %v", scans)
	}
	var rep report.Report
	getJSON(t, base+"/api/report?scan="+itoa(fx.FarmA.Scan.ID), &rep)
	var total int64
	for _, tech := range rep.Technologies {
		if tech.Technology == "OpenAI" {
			total = tech.Domains
		}
	}
	var page report.DomainPage
	getJSON(t, base+"/api/technologies/OpenAI/domains?limit=7&scan="+itoa(fx.FarmA.Scan.ID), &page)
	if page.Total != total || len(page.Domains) != 7 || page.Limit != 7 {
		t.Fatalf("domains page: total %d (want %d), %d domains", page.Total, total, len(page.Domains))
	}
	for _, d := range page.Domains {
		if len(d.Targets) == 0 || len(d.Targets[0].Evidence) == 0 || d.Targets[0].Evidence[0].Class == "" {
			t.Errorf("domain %s without evidence: %+v", d.Domain, d)
		}
	}
	// Every OpenAI domain counted, across pages, exactly once.
	seen := map[string]bool{}
	for off := 0; ; off += 10 {
		var p report.DomainPage
		getJSON(t, base+"/api/technologies/OpenAI/domains?limit=10&offset="+itoa(int64(off))+"&scan="+itoa(fx.FarmA.Scan.ID), &p)
		for _, d := range p.Domains {
			if seen[d.Domain] {
				t.Fatalf("%s on two pages", d.Domain)
			}
			seen[d.Domain] = true
		}
		if len(p.Domains) < 10 {
			break
		}
	}
	if int64(len(seen)) != total {
		t.Errorf("paged through %d domains, want %d", len(seen), total)
	}
	var running report.DomainPage
	getJSON(t, base+"/api/technologies/OpenAI/domains?evidence=running&scan="+itoa(fx.FarmA.Scan.ID), &running)
	for _, d := range running.Domains {
		for _, tg := range d.Targets {
			if !tg.Running {
				t.Errorf("running filter returned %s %+v", d.Domain, tg)
			}
		}
	}
	if running.Total >= total || running.Total == 0 {
		t.Errorf("running OpenAI domains %d of %d", running.Total, total)
	}
}

func TestErrors(t *testing.T) {
	base, _, _ := startServer(t)
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/api/report?open=maybe", 400},
		{"/api/report?scan=x", 400},
		{"/api/report?compare=1", 400},
		{"/api/report?scan=99", 404},
		{"/api/report?compare=1,99", 404},
		{"/api/report?universe=3", 400},
		{"/api/technologies/OpenAI/domains?offset=-1", 400},
		{"/?size=huge", 400},
		{"/nope", 404},
	} {
		if code, _, body := get(t, base+tc.path); code != tc.code {
			t.Errorf("GET %s = %d, want %d (%.200s)", tc.path, code, tc.code, body)
		}
	}
	res, err := http.Post(base+"/api/report", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", res.StatusCode)
	}
}

func TestPagesAndFilters(t *testing.T) {
	base, _, fx := startServer(t)
	// Without ?scan the overview shows the latest scan (the WARC one).
	code, ct, body := get(t, base+"/")
	if code != 200 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "scan "+itoa(fx.WARC.ID)+" · ") {
		t.Fatalf("overview: %d %s, not of the latest scan", code, ct)
	}
	code, _, body = get(t, base+"/?scan="+itoa(fx.FarmA.Scan.ID))
	if code != 200 || !strings.Contains(body, `id="chart-adoption"`) || !strings.Contains(body, `href="/tech/Botpress?scan=`) {
		t.Fatalf("overview of the farm scan: %d %.300s", code, body)
	}
	code, _, body = get(t, base+"/tech/Botpress?scan="+itoa(fx.FarmA.Scan.ID))
	if code != 200 || !strings.Contains(body, `id="domains"`) || !strings.Contains(body, "cdn.botpress.cloud") {
		t.Fatalf("tech page: %d %.300s", code, body)
	}
	code, _, body = get(t, base+"/tech/Botpress?scan="+itoa(fx.FarmA.Scan.ID)+"&open=open")
	if code != 200 || !strings.Contains(body, "No detection of this technology matches the filter") {
		t.Errorf("tech page with a filter that excludes it: %d", code)
	}
}

func TestLoopbackHostCheck(t *testing.T) {
	base, _, _ := startServer(t)
	req, _ := http.NewRequest(http.MethodGet, base+"/api/scans", nil)
	req.Host = "attacker.example:8080"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("foreign Host = %d, want 421", res.StatusCode)
	}
	req.Host = "localhost"
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("localhost Host = %d", res.StatusCode)
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	s, _ := fixtureStore(t)
	srv, err := web.New(web.Config{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	// A report computation in flight when the server stops.
	go http.Get("http://" + ln.Addr().String() + "/api/report?universe=1000000")
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Error("still serving after shutdown")
	}
}
