package testfarm

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

// testConfig keeps fault hosts cheap: a fast slow-loris, smaller bodies.
func testConfig(hosts int) Config {
	return Config{
		Hosts:        hosts,
		Seed:         7,
		SlowInterval: 20 * time.Millisecond,
		HugeBodySize: 6 << 20,
		BombSize:     24 << 20,
		MaxPages:     60, // loading all pages costs ~0.5 s a farm; TestTruthShape does
	}
}

// startFarm builds and starts a farm, skipping when the shared data is
// absent; it is closed when the test ends.
func startFarm(t testing.TB, cfg Config) *Farm {
	t.Helper()
	f, err := New(cfg)
	if errors.Is(err, ErrNoData) {
		t.Skip("shared corpus or ai-embeds not found:", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := f.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := f.Close(); err != nil {
			t.Errorf("close farm: %v", err)
		}
	})
	return f
}

// get fetches url through the farm's client (no redirects followed).
func get(t *testing.T, f *Farm, url string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp, body
}

// catalogNames are the only technology names the truth may use.
var catalogNames = []string{
	"Anthropic", "Botpress", "Botpress v12", "Chatbase", "Dialogflow Messenger", "Flowise",
	"Hugging Face Chat UI", "Microsoft Bot Framework Web Chat", "Open WebUI", "OpenAI",
	"OpenAI ChatKit", "Rasa", "Typebot", "Voiceflow",
}

func TestTruthShape(t *testing.T) {
	cfg := testConfig(200)
	if !testing.Short() {
		cfg.MaxPages = 0 // load and filter every corpus page
	}
	f := startFarm(t, cfg)
	if cfg.MaxPages == 0 && len(f.pages) < 300 {
		t.Errorf("only %d usable base pages", len(f.pages))
	}
	truth := f.Truth()
	if want := 200 + len(FaultKinds()); len(truth) != want {
		t.Fatalf("%d truth entries, want %d", len(truth), want)
	}
	seen := map[string]bool{}
	kinds := map[Kind]int{}
	techs := map[string]bool{}
	for _, h := range truth {
		if seen[h.Host] {
			t.Errorf("duplicate host %s", h.Host)
		}
		seen[h.Host] = true
		kinds[h.Kind]++
		if !h.Status.Valid() {
			t.Errorf("%s: invalid status %q", h.Host, h.Status)
		}
		if !strings.HasSuffix(h.Host, ".test") || h.Host != strings.ToLower(h.Host) {
			t.Errorf("bad host name %q", h.Host)
		}
		if h.Technologies == nil {
			t.Errorf("%s: nil technologies", h.Host)
		}
		if !slices.IsSorted(h.Names()) {
			t.Errorf("%s: technologies not sorted: %v", h.Host, h.Names())
		}
		for _, tech := range h.Technologies {
			techs[tech.Name] = true
			if !slices.Contains(catalogNames, tech.Name) {
				t.Errorf("%s: %q is not a catalog name", h.Host, tech.Name)
			}
			if len(tech.Evidence) == 0 {
				t.Errorf("%s %s: no evidence", h.Host, tech.Name)
			}
		}
		errorPage := h.Kind == KindNotFound || h.Kind == KindServerError
		if (h.Status == model.StatusOK || errorPage) != (h.URL != "") {
			t.Errorf("%s: status %s with URL %q", h.Host, h.Status, h.URL)
		}
	}
	for _, k := range append([]Kind{KindPlain, KindEmbed, KindApp, KindScript, KindCNAME, KindDNSOnly}, FaultKinds()...) {
		if kinds[k] == 0 {
			t.Errorf("no host of kind %s", k)
		}
	}
	for _, n := range catalogNames {
		if !techs[n] {
			t.Errorf("no host shows %s", n)
		}
	}
	bp := map[string]bool{}
	for _, h := range truth {
		if tech, ok := h.Tech("Botpress"); ok {
			bp[tech.Version] = true
		}
	}
	for _, v := range []string{"0", "1", "2", "3.2"} {
		if !bp[v] {
			t.Errorf("no Botpress %s host", v)
		}
	}
	if !reflect.DeepEqual(f.Domains(), slices.Collect(func(yield func(string) bool) {
		for _, h := range truth {
			if !yield(h.Host) {
				return
			}
		}
	})) {
		t.Error("Domains() is not the truth hosts in order")
	}
}

func TestDeterministic(t *testing.T) {
	a := startFarm(t, testConfig(120))
	b, err := New(testConfig(120))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !reflect.DeepEqual(a.Truth(), b.Truth()) {
		t.Error("same seed, different truth")
	}
	for _, h := range a.Domains()[:40] {
		pa, oka := a.Page(h)
		pb, okb := b.Page(h)
		if oka != okb || string(pa) != string(pb) {
			t.Errorf("%s: pages differ between farms with the same seed", h)
		}
	}
	cfg := testConfig(120)
	cfg.Seed = 8
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if reflect.DeepEqual(a.Truth(), c.Truth()) {
		t.Error("different seeds, same truth")
	}
	// Fault hosts do not depend on the seed or the host count.
	fa, fc := a.Truth()[120:], c.Truth()[120:]
	for i := range fa {
		fa[i].DNS, fc[i].DNS = nil, nil
		for j := range fa[i].Technologies {
			if fa[i].Technologies[j].Name == "OpenAI" { // the TXT token is random
				fa[i].Technologies[j].Evidence, fc[i].Technologies[j].Evidence = nil, nil
			}
		}
	}
	if !reflect.DeepEqual(fa, fc) {
		t.Error("fault hosts changed with the seed")
	}
}

// TestGroundTruthServed checks, with plain net/http and DNS clients, that
// every expected technology's trace really is where the truth says, and
// that pages expected to show nothing carry no vendor marker.
func TestGroundTruthServed(t *testing.T) {
	f := startFarm(t, testConfig(150))
	var markers []string
	for _, e := range embedSpecs {
		markers = append(markers, e.marker)
	}
	for _, s := range scripts {
		markers = append(markers, s.marker, "api.openai.com", "api.anthropic.com")
	}
	for _, h := range f.Truth() {
		if h.Status != model.StatusOK {
			continue
		}
		t.Run(h.Host, func(t *testing.T) {
			resp, body := fetchFollowing(t, f, h)
			if resp.StatusCode != h.HTTPStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, h.HTTPStatus)
			}
			pageMarkers := 0
			for _, tech := range h.Technologies {
				for _, ev := range tech.Evidence {
					checkEvidence(t, f, h, resp, body, ev)
					if ev.Where == "page" {
						pageMarkers++
					}
				}
			}
			if pageMarkers == 0 {
				for _, m := range markers {
					if strings.Contains(string(body), m) {
						t.Errorf("page expected without embed contains %q", m)
					}
				}
			}
		})
	}
}

// fetchFollowing fetches h.URL's chain from the host's first URL, checking
// the redirects the truth lists.
func fetchFollowing(t *testing.T, f *Farm, h HostTruth) (*http.Response, []byte) {
	t.Helper()
	url := h.URL
	if len(h.Redirects) > 0 {
		url = h.Redirects[0]
	}
	var chain []string
	for range 10 {
		resp, body := get(t, f, url)
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
			if url != h.URL || !slices.Equal(chain, h.Redirects) {
				t.Fatalf("ended at %s via %v, want %s via %v", url, chain, h.URL, h.Redirects)
			}
			return resp, body
		}
		chain = append(chain, url)
		next, err := resp.Request.URL.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		url = next.String()
	}
	t.Fatalf("too many redirects from %s", h.Host)
	return nil, nil
}

var txtRecord = regexp.MustCompile(`^dns TXT (\S+)$`)

func checkEvidence(t *testing.T, f *Farm, h HostTruth, resp *http.Response, body []byte, ev Evidence) {
	t.Helper()
	switch {
	case ev.Where == "page":
		if !strings.Contains(string(body), ev.Text) {
			t.Errorf("page lacks %q", ev.Text)
		}
	case strings.HasPrefix(ev.Where, "script "):
		path := strings.TrimPrefix(ev.Where, "script ")
		if !strings.Contains(string(body), `src="`+path+`"`) {
			t.Errorf("page does not link %s", path)
		}
		sresp, sbody := get(t, f, strings.TrimSuffix(h.URL, "/")+path)
		if sresp.StatusCode != 200 || !strings.Contains(string(sbody), ev.Text) {
			t.Errorf("script %s: status %d, lacks %q", path, sresp.StatusCode, ev.Text)
		}
	case strings.HasPrefix(ev.Where, "header "):
		name := strings.TrimPrefix(ev.Where, "header ")
		if got := resp.Header.Values(name); !slices.Contains(got, ev.Text) {
			t.Errorf("header %s = %q, want %q", name, got, ev.Text)
		}
	case txtRecord.MatchString(ev.Where):
		name := txtRecord.FindStringSubmatch(ev.Where)[1]
		if !slices.Contains(queryTXT(t, f, name), ev.Text) {
			t.Errorf("TXT %s lacks %q", name, ev.Text)
		}
	default:
		t.Errorf("unknown evidence location %q", ev.Where)
	}
}
