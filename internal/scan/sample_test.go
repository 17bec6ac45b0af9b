package scan

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/warc/warctest"
)

var updateSample = flag.Bool("update-sample", false, "rebuild testdata/sample from ../shared")

// sampleDir is the bundled sample the README's main command scans.
var sampleDir = filepath.Join("..", "..", "testdata", "sample")

// realDeployments are corpus pages that carry a real chat/AI vendor widget
// (reviewed in internal/detect/testdata/ai-corpus.golden), kept under their
// real host.
var realDeployments = []struct{ file, url, tech string }{
	{"eval__baechli-bergsport.ch-lawinen.html.gz", "https://www.baechli-bergsport.ch/Blog/Einblick-in-die-Praxis-und-Theorie-von-Lawinen-De-9-9-9-9-1.htm", "Zendesk"},
	{"eval__jamaica.gleaner.com-victims.html.gz", "https://jamaica-gleaner.com/article/news/victims", "IBM watsonx Assistant"},
	{"eval__skispringen.com-verpasst.html.gz", "https://www.skispringen.com/marita-kramer-verpasst-olympische-spiele-in-peking/", "ManyChat"},
}

// sampleSites are invented hosts serving real corpus pages with a real
// vendor snippet inserted (or a self-hosted app's real template as the
// page), and DNS verification records.
var sampleSites = []struct {
	host, embed, txt string
	whole            bool // the embed file is the whole page (self-hosted app)
}{
	{host: "harbor-books.example", embed: "botpress-cloud-v3"},
	{host: "alpine-dental.example", embed: "botpress-cloud-v1"},
	{host: "northwind-law.example", embed: "chatbase", txt: "openai-domain-verification=dv-Q2w3E4r5T6y7U8i9O0pAsDfG"},
	{host: "lakeside-hvac.example", embed: "voiceflow"},
	{host: "cobalt-insurance.example", embed: "dialogflow-messenger-es"},
	{host: "meridian-bank.example", embed: "botframework-webchat", txt: "anthropic-domain-verification-x7k2pq=Zr8Tq1Vw3Yb5Nc7Md9Lf2Hg4J"},
	{host: "pinecrest-clinic.example", embed: "rasa-webchat"},
	{host: "tidewater-tours.example", embed: "typebot"},
	{host: "quarry-analytics.example", embed: "flowise-embed"},
	{host: "orbit-saas.example", embed: "openai-chatkit", txt: "openai-domain-verification=dv-Zx9Cv8Bn7Ml6Kj5Hg4Fd3Sa2Q"},
	{host: "chat.granite-labs.example", embed: "open-webui-app", whole: true},
	{host: "ai.fernhill-data.example", embed: "flowise-selfhosted-head", whole: true},
	{host: "bramble-bakery.example"},
	{host: "copper-kettle.example", txt: "openai-domain-verification=dv-Lk4Jh3Gf2Ds1Ap0Oi9Uy8Tr7"},
	{host: "driftwood-media.example"},
	{host: "ember-athletics.example"},
	{host: "foxglove-garden.example"},
	{host: "glacier-freight.example", txt: "anthropic-domain-verification-m4n5b6=Pq2Rs4Tu6Vw8Xy0Za1Bc3De5F"},
	{host: "hollow-oak.example"},
	{host: "indigo-print.example"},
}

// TestSample rebuilds the bundled sample with -update-sample, and always
// checks that scanning it finds exactly what was put in.
func TestSample(t *testing.T) {
	if *updateSample {
		buildSample(t)
	}
	expected, err := os.ReadFile(filepath.Join(sampleDir, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "sample.duckdb")
	if _, err := Archive(context.Background(), archiveConfig(t, db, sampleDir)); err != nil {
		t.Fatal(err)
	}
	_, results := storedResults(t, db)
	var got []string
	for _, r := range results {
		if techs := aiTechs(r); len(techs) > 0 {
			got = append(got, r.Target+"\t"+strings.Join(techs, ", "))
		}
	}
	sort.Strings(got)
	if want := strings.TrimSpace(string(expected)); strings.Join(got, "\n") != want {
		t.Errorf("sample scan:\n%s\nwant (testdata/sample/expected.tsv):\n%s", strings.Join(got, "\n"), want)
	}
}

func buildSample(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared")
	pages, err := warctest.LoadPages(filepath.Join(root, "corpus", "html", "readability"), 0)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(pages, func(i, j int) bool { return len(pages[i].HTML) < len(pages[j].HTML) })
	var small []warctest.Page
	for _, p := range pages {
		if len(p.HTML) > 8<<10 && len(p.HTML) < 60<<10 {
			small = append(small, p)
		}
	}
	embeds, err := warctest.LoadEmbeds(filepath.Join(root, "research", "ai-embeds"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string][]byte{}
	for _, e := range embeds {
		byName[e.Name] = sourceComment.ReplaceAll(e.HTML, nil)
	}
	var buf bytes.Buffer
	w := warctest.NewWriter(&buf, true)
	date := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	html := []string{"Content-Type: text/html; charset=utf-8"}
	var sources []string
	for i, s := range sampleSites {
		base := small[i%len(small)]
		body := base.HTML
		from := "readability " + filepath.Base(base.File)
		if s.embed != "" && s.whole {
			body, from = byName[s.embed], "research/ai-embeds/"+s.embed+".html (whole page)"
		} else if s.embed != "" {
			body = warctest.Inject(body, byName[s.embed])
			from += " + research/ai-embeds/" + s.embed + ".html"
		}
		rec := warctest.Response("https://"+s.host+"/", 200, append(html, "Server: nginx"), body)
		rec.Date = date.Add(time.Duration(i) * time.Minute)
		mustWrite(t, w, rec)
		if i%4 == 1 { // a second, missing page of the site
			nf := warctest.Response("https://"+s.host+"/careers", 404, html, []byte("<html><body>Not found</body></html>"))
			nf.Date = rec.Date.Add(30 * time.Second)
			mustWrite(t, w, nf)
		}
		if s.txt != "" {
			apex := s.host[strings.Index(s.host, ".")+1:]
			if strings.Count(s.host, ".") == 1 {
				apex = s.host
			}
			mustWrite(t, w, warctest.DNS(apex, rec.Date, apex+". 300 IN TXT \""+s.txt+"\""))
			from += "; dns: TXT " + s.txt[:strings.Index(s.txt, "=")+1] + "…"
		}
		sources = append(sources, fmt.Sprintf("| %s | %s |", s.host, from))
	}
	for j, d := range realDeployments {
		raw, err := os.ReadFile(filepath.Join(root, "corpus", "html", "trafilatura", "pages", d.file))
		if err != nil {
			t.Fatal(err)
		}
		zr, _ := gzip.NewReader(bytes.NewReader(raw))
		body, _ := io.ReadAll(zr)
		rec := warctest.Response(d.url, 200, html, body)
		rec.Date = date.Add(time.Duration(100+j) * time.Minute)
		mustWrite(t, w, rec)
		sources = append(sources, fmt.Sprintf("| %s | trafilatura %s (real page, real %s widget) |", hostOf(d.url), d.file, d.tech))
	}
	if err := os.WriteFile(filepath.Join(sampleDir, "sample.warc.gz"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cc, err := os.ReadFile(filepath.Join(root, "corpus", "warc", "commoncrawl-whirlwind", "whirlwind.warc.gz"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(sampleDir, "commoncrawl-whirlwind.warc.gz"), cc, 0o644)
	writeSampleCompanies(t)
	doc := "# The bundled sample\n\n" +
		"A small offline crawl for the README's first command (`scripts/demo`): two archives and a company list.\n" +
		"Rebuild with `go test ./internal/scan -run TestSample -update-sample` (reads `../shared`).\n\n" +
		"- `sample.warc.gz`: WARC 1.1 written by `internal/warc/warctest`. Hosts under `.example` are invented: each\n" +
		"  serves a real saved page (mozilla/readability test pages, Apache-2.0; pages © their sites) with a real vendor\n" +
		"  embed snippet from `research/ai-embeds` inserted before `</body>` (snippets as the vendors publish them), or a\n" +
		"  self-hosted AI app's real page template. They show what the scanner finds, not what any real site runs.\n" +
		"  The three real hosts are unchanged pages from adbar/trafilatura's evaluation set (Apache-2.0; pages © their\n" +
		"  sites) that carry real chat widgets, reviewed in internal/detect/testdata/ai-corpus.golden.\n" +
		"- `commoncrawl-whirlwind.warc.gz`: the real Common Crawl CC-MAIN-2024-22 capture of an.wikipedia.org from\n" +
		"  commoncrawl/whirlwind-python (Apache-2.0; Common Crawl terms of use).\n" +
		"- `companies.csv`: invented employee counts for the invented hosts (to show the company-size report), and the\n" +
		"  real hosts left out.\n" +
		"- `expected.tsv`: the AI technologies a scan must find per domain (checked by TestSample).\n\n" +
		"| host | page |\n|---|---|\n" + strings.Join(sources, "\n") + "\n"
	os.WriteFile(filepath.Join(sampleDir, "SOURCES.md"), []byte(doc), 0o644)
	t.Log("sample rebuilt; review and update expected.tsv by hand")
}

func writeSampleCompanies(t *testing.T) {
	f, err := os.Create(filepath.Join(sampleDir, "companies.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := csv.NewWriter(f)
	w.Write([]string{"domain", "name", "employees"})
	sizes := []int{4, 8, 12, 3, 240, 1800, 35, 6, 18, 60, 9, 14, 2, 7, 120, 5, 11, 700, 3, 45}
	for i, s := range sampleSites {
		d := s.host
		if strings.Count(d, ".") > 1 {
			d = d[strings.Index(d, ".")+1:]
		}
		name := strings.TrimSuffix(d, ".example")
		w.Write([]string{d, name, strconv.Itoa(sizes[i%len(sizes)])})
	}
	w.Flush()
}

func mustWrite(t *testing.T, w *warctest.Writer, r warctest.Record) {
	t.Helper()
	if _, err := w.Write(r); err != nil {
		t.Fatal(err)
	}
}
