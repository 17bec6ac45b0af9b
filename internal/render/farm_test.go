package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/testfarm"
)

// farmPage is one farm page rendered once for every farm test.
type farmPage struct {
	url      string
	page     Page
	static   []model.Detection // from the static observation alone
	rendered []model.Detection // static observation + Rendered
}

var (
	farmOnce  sync.Once
	farmPages []*farmPage
)

// farmURLs are the pages compared: every embed, app and script host of the
// farm's first 25 hosts (each fixture once), the fault hosts that matter
// in a browser, and every RenderCase.
func farmURLs(farm *testfarm.Farm) []string {
	var urls []string
	for _, k := range []testfarm.Kind{testfarm.KindEmbed, testfarm.KindApp, testfarm.KindScript, testfarm.KindCNAME} {
		for _, h := range farm.HostsOf(k) {
			urls = append(urls, "https://"+h+"/")
		}
	}
	for _, k := range []testfarm.Kind{testfarm.KindRedirectChain, testfarm.KindRedirectLoopback, testfarm.KindRedirectMetadata, testfarm.KindSlowLoris} {
		urls = append(urls, "https://"+testfarm.FaultHost(k)+"/")
	}
	for _, c := range farm.RenderCases() {
		urls = append(urls, c.URL)
	}
	return urls
}

// renderFarm renders every farm URL once, four tabs at a time: first the
// pages that behave, then the hostile ones (a busy loop, allocation until
// a crash, pages that never load), so that on a loaded 2-core machine
// their CPU use cannot push a good page past its timeout.
func renderFarm(t *testing.T) []*farmPage {
	f := getFixture(t)
	farmOnce.Do(func() {
		urls := farmURLs(f.farm)
		hostile := map[string]bool{"https://" + testfarm.FaultHost(testfarm.KindSlowLoris) + "/": true}
		for _, c := range f.farm.RenderCases() {
			if c.Status != model.StatusOK {
				hostile[c.URL] = true
			}
		}
		farmPages = make([]*farmPage, len(urls))
		for _, phase := range []bool{false, true} {
			var wg sync.WaitGroup
			for i, u := range urls {
				if hostile[u] != phase {
					continue
				}
				wg.Go(func() { farmPages[i] = f.renderAndDetect(t, u) })
			}
			wg.Wait()
		}
	})
	return farmPages
}

// renderAndDetect renders u and detects on its static and its rendered
// observation.
func (f *fixture) renderAndDetect(t testing.TB, u string) *farmPage {
	fp := &farmPage{url: u, page: f.pool.Render(context.Background(), u)}
	obs := f.staticObservation(t, u)
	fp.static = f.det.Detect(obs)
	robs := *obs
	robs.Rendered = fp.page.Rendered
	fp.rendered = f.det.Detect(&robs)
	return fp
}

func names(ds []model.Detection, aiOnly bool) []string {
	out := []string{}
	for _, d := range ds {
		if !aiOnly || d.AI {
			out = append(out, d.Technology)
		}
	}
	sort.Strings(out)
	return out
}

// TestRenderCases checks every browser-only farm page against its
// expectations: status, technologies found only once rendered, blocked
// requests.
func TestRenderCases(t *testing.T) {
	pages := renderFarm(t)
	f := getFixture(t)
	byURL := map[string]*farmPage{}
	for _, p := range pages {
		byURL[p.url] = p
	}
	for _, c := range f.farm.RenderCases() {
		t.Run(c.Name, func(t *testing.T) {
			p := byURL[c.URL]
			if p.page.Status != c.Status {
				t.Fatalf("status %s (%v), want %s", p.page.Status, p.page.Err, c.Status)
			}
			if got := names(p.static, true); !slices.Equal(got, c.Static) {
				t.Errorf("static detections %v, want %v", got, c.Static)
			}
			if got := names(p.rendered, true); !slices.Equal(got, c.Technologies) {
				t.Errorf("rendered detections %v, want %v", got, c.Technologies)
			}
			for _, d := range p.rendered {
				if !slices.Contains(c.Static, d.Technology) && d.AI && !d.NeedsBrowser() {
					t.Errorf("%s: found only by rendering but has static evidence: %+v", d.Technology, d.Evidence)
				}
			}
			for _, b := range c.Blocked {
				if !slices.Contains(p.page.Blocked, b) {
					t.Errorf("request %s not reported blocked (blocked: %v)", b, p.page.Blocked)
				}
			}
		})
	}
	if st := f.pool.Stats(); st.RendererKills == 0 {
		t.Errorf("the memory case killed no renderer: %+v", st)
	}
}

// TestFarmPages checks the farm's ordinary hosts: a rendered scan finds at
// least the static truth, the redirect chain ends on its final page, and
// redirects to private addresses are blocked in the browser too.
func TestFarmPages(t *testing.T) {
	pages := renderFarm(t)
	f := getFixture(t)
	truth := map[string]testfarm.HostTruth{}
	for _, h := range f.farm.Truth() {
		truth[h.Host] = h
	}
	for _, p := range pages {
		host := strings.TrimSuffix(strings.TrimPrefix(p.url, "https://"), "/")
		tr, ok := truth[host]
		if !ok {
			continue
		}
		t.Run(host, func(t *testing.T) {
			switch tr.Kind {
			case testfarm.KindRedirectLoopback, testfarm.KindRedirectMetadata:
				if p.page.Status != model.StatusBlockedPrivate {
					t.Fatalf("status %s (%v), want blocked-private", p.page.Status, p.page.Err)
				}
				return
			case testfarm.KindSlowLoris:
				if p.page.Status != model.StatusRenderTimeout {
					t.Fatalf("status %s (%v), want render-timeout", p.page.Status, p.page.Err)
				}
				return
			}
			if p.page.Status != model.StatusOK {
				t.Fatalf("status %s (%v), want ok", p.page.Status, p.page.Err)
			}
			got := names(p.rendered, true)
			for _, want := range pageTruth(tr) {
				if !slices.Contains(got, want) {
					t.Errorf("rendered detections %v lack %s", got, want)
				}
			}
			if tr.Kind == testfarm.KindRedirectChain && !strings.HasSuffix(p.page.FinalURL, "/final") {
				t.Errorf("final URL %s, want .../final", p.page.FinalURL)
			}
		})
	}
}

// pageTruth is the truth's technologies seen in a page, script or header
// (DNS records are not rendered).
func pageTruth(tr testfarm.HostTruth) []string {
	var out []string
	for _, tech := range tr.Technologies {
		for _, e := range tech.Evidence {
			if !strings.HasPrefix(e.Where, "dns ") {
				out = append(out, tech.Name)
				break
			}
		}
	}
	return out
}

// TestFarmGolden records, for every compared page, each AI detection and
// whether it needed the browser: static (only static evidence), rendered
// (only rendered evidence) or both.
func TestFarmGolden(t *testing.T) {
	pages := renderFarm(t)
	var b strings.Builder
	b.WriteString("# url\tstatus\ttechnology\tversion\tvia (static = fetched bytes only, rendered = only the browser saw it, both)\n")
	counts := map[string]int{}
	for _, p := range pages {
		ds := p.rendered
		if len(ds) == 0 {
			fmt.Fprintf(&b, "%s\t%s\t-\t-\t-\n", p.url, p.page.Status)
		}
		for _, d := range ds {
			if !d.AI {
				continue
			}
			via := "both"
			switch {
			case d.NeedsBrowser():
				via = "rendered"
			case !hasVia(d, model.ViaRendered):
				via = "static"
			}
			counts[via]++
			fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\n", p.url, p.page.Status, d.Technology, orDash(d.Version), via)
		}
	}
	fmt.Fprintf(&b, "# detections: %d static only, %d rendered only, %d both\n", counts["static"], counts["rendered"], counts["both"])
	path := filepath.Join("testdata", "farm.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != b.String() {
		t.Errorf("farm detections differ from %s (run with -update and review the diff):\n%s", path, b.String())
	}
	t.Logf("%d static only, %d needed the browser, %d both", counts["static"], counts["rendered"], counts["both"])
}

func hasVia(d model.Detection, via string) bool {
	for _, e := range d.Evidence {
		if e.Via == via {
			return true
		}
	}
	return false
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
