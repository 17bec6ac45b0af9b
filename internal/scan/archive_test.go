package scan

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/store/storetest"
	"github.com/aicensus/aicensus/internal/warc/warctest"
)

// embedTech maps research/ai-embeds files to the technology (and version)
// they embed.
var embedTech = map[string]string{
	"botpress-cloud-v0": "Botpress@0", "botpress-cloud-v1": "Botpress@1", "botpress-cloud-v2": "Botpress@2",
	"botpress-cloud-v3": "Botpress@3.2", "chatbase": "Chatbase", "dialogflow-messenger-es": "Dialogflow Messenger",
	"botframework-webchat": "Microsoft Bot Framework Web Chat", "flowise-embed": "Flowise", "typebot": "Typebot",
	"voiceflow": "Voiceflow", "rasa-webchat": "Rasa", "openai-chatkit": "OpenAI ChatKit",
}

var sourceComment = regexp.MustCompile(`^\s*<!--.*?-->\s*`)

// builtArchives writes nfiles WARC files of real corpus pages, some with a
// real vendor snippet inside and some domains with an OpenAI verification
// TXT record (dns: records), and returns the expected AI technologies per
// registrable domain and the pages per domain.
func builtArchives(t testing.TB, dir string, nfiles, perFile int) (want map[string][]string, pages map[string]int) {
	t.Helper()
	root := filepath.Join("..", "..", "..", "shared")
	corpus, err := warctest.LoadPages(filepath.Join(root, "corpus", "html", "readability"), 0)
	if warctest.ErrNoCorpus(err) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	embeds, err := warctest.LoadEmbeds(filepath.Join(root, "research", "ai-embeds"))
	if err != nil {
		t.Fatal(err)
	}
	var usable []warctest.Embed
	for _, e := range embeds {
		if _, ok := embedTech[e.Name]; ok {
			usable = append(usable, e)
		}
	}
	sort.Slice(usable, func(i, j int) bool { return usable[i].Name < usable[j].Name })
	want, pages = map[string][]string{}, map[string]int{}
	date := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	n := 0
	for f := range nfiles {
		var buf bytes.Buffer
		w := warctest.NewWriter(&buf, true)
		for i := range perFile {
			p := corpus[n%len(corpus)]
			domain := fmt.Sprintf("site%03d.test", n%(nfiles*perFile/2)) // two pages per domain
			body := p.HTML
			if n%3 == 0 {
				e := usable[(n/3)%len(usable)]
				body = warctest.Inject(body, sourceComment.ReplaceAll(e.HTML, nil))
				want[domain] = appendUnique(want[domain], embedTech[e.Name])
			}
			rec := warctest.Response(fmt.Sprintf("https://www.%s/page-%d", domain, i), 200,
				[]string{"Content-Type: text/html; charset=utf-8"}, body)
			rec.Date = date.Add(time.Duration(n) * time.Minute)
			if _, err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
			pages[domain]++
			if n%7 == 0 {
				dnsRec := warctest.DNS(domain, rec.Date, domain+". 300 IN TXT \"openai-domain-verification=dv-AbCdEfGhIjKlMnOpQrStUvWx\"")
				if _, err := w.Write(dnsRec); err != nil {
					t.Fatal(err)
				}
				want[domain] = appendUnique(want[domain], "OpenAI")
				pages[domain]++
			}
			n++
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-%02d.warc.gz", f)), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for d := range want {
		sort.Strings(want[d])
	}
	return want, pages
}

func appendUnique(l []string, s string) []string {
	for _, x := range l {
		if x == s {
			return l
		}
	}
	return append(l, s)
}

// aiTechs lists a result's AI technologies as name@version.
func aiTechs(r model.Result) []string {
	var out []string
	for _, d := range r.Detections {
		if !d.AI {
			continue
		}
		s := d.Technology
		if d.Technology == "Botpress" {
			s += "@" + d.Version
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func archiveConfig(t fataler, db string, specs ...string) ArchiveConfig {
	det, err := testDetector()
	if err != nil {
		t.Fatal(err)
	}
	return ArchiveConfig{Specs: specs, DB: db, Detector: det}
}

// TestArchiveScanFindsEmbeds scans WARCs of real pages with real vendor
// snippets inside: one result per registrable domain with the union of
// its pages' detections, its page count and capture times, and evidence
// naming the WARC record.
func TestArchiveScanFindsEmbeds(t *testing.T) {
	dir := t.TempDir()
	want, pages := builtArchives(t, dir, 4, 20)
	db := filepath.Join(t.TempDir(), "a.duckdb")
	sum, err := Archive(context.Background(), archiveConfig(t, db, dir))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sources != 4 || sum.Stats.ProblemTotal() != 0 {
		t.Errorf("summary %+v", sum)
	}
	_, results := storedResults(t, db)
	if len(results) != len(pages) {
		t.Errorf("%d results for %d domains", len(results), len(pages))
	}
	for _, r := range results {
		if got := aiTechs(r); !reflect.DeepEqual(got, want[r.Target]) && !(len(got) == 0 && len(want[r.Target]) == 0) {
			t.Errorf("%s: AI technologies %v, want %v", r.Target, got, want[r.Target])
		}
		if r.Pages != pages[r.Target] || r.Status != model.StatusOK || r.FirstSeen.IsZero() || r.LastSeen.Before(r.FirstSeen) {
			t.Errorf("%s: pages %d (want %d), status %s, seen %v..%v", r.Target, r.Pages, pages[r.Target], r.Status, r.FirstSeen, r.LastSeen)
		}
		for _, d := range r.Detections {
			for _, e := range d.Evidence {
				if !strings.Contains(e.Location, "part-") || !strings.Contains(e.Location, "urn:uuid:") {
					t.Errorf("%s %s: evidence location %q does not name the record", r.Target, d.Technology, e.Location)
				}
			}
		}
	}
}

// TestArchiveBrokenInput: truncated and corrupted copies of a real archive
// are counted and skipped; the rest is scanned.
func TestArchiveBrokenInput(t *testing.T) {
	src := filepath.Join("..", "..", "..", "shared", "corpus", "warc", "servo-warc-tests", "Wikipedia.warc.gz")
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Skipf("shared corpus not available: %v", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "intact.warc.gz"), raw, 0o644)
	os.WriteFile(filepath.Join(dir, "truncated.warc.gz"), raw[:len(raw)*2/3], 0o644)
	corrupt := bytes.Clone(raw)
	for i := len(corrupt) / 3; i < len(corrupt)/3+64; i++ {
		corrupt[i] ^= 0x5a
	}
	os.WriteFile(filepath.Join(dir, "corrupt.warc.gz"), corrupt, 0o644)
	db := filepath.Join(t.TempDir(), "b.duckdb")
	sum, err := Archive(context.Background(), archiveConfig(t, db, dir))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Stats.ProblemTotal() == 0 {
		t.Errorf("no broken input counted: %+v", sum.Stats)
	}
	sc, results := storedResults(t, db)
	if sc.State != store.ScanDone || len(results) == 0 {
		t.Fatalf("state %s, %d results", sc.State, len(results))
	}
	var broken int64
	for k, n := range sc.Counters {
		if strings.HasPrefix(k, "warc_") {
			broken += n
		}
	}
	if broken != sum.Stats.ProblemTotal() {
		t.Errorf("scan counters hold %d broken records, summary %d", broken, sum.Stats.ProblemTotal())
	}
}

// TestArchiveKill9ThenResume kills an archive scan with SIGKILL after it
// has committed some checkpoints, then runs it again: the results equal an
// uninterrupted scan of the same archives (no record lost or counted twice).
func TestArchiveKill9ThenResume(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns scanner processes")
	}
	dir := t.TempDir()
	builtArchives(t, dir, 6, 60)
	clean := filepath.Join(t.TempDir(), "clean.duckdb")
	if _, err := Archive(context.Background(), archiveConfig(t, clean, dir)); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "resumed.duckdb")
	env, _ := json.Marshal(childEnv{Mode: "warc", Domains: dir, DB: db})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "AICENSUS_SCAN_CHILD="+string(env))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	commits := 0
	for sc.Scan() {
		if commits++; commits == 4 {
			time.Sleep(200 * time.Millisecond) // let the writer commit
			cmd.Process.Signal(syscall.SIGKILL)
			break
		}
	}
	cmd.Wait()
	if commits < 4 {
		t.Fatalf("child finished after %d commits, before the kill", commits)
	}
	sum, err := Archive(context.Background(), archiveConfig(t, db, dir))
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Resumed {
		t.Errorf("the second run did not resume the killed scan")
	}
	_, a := storedResults(t, clean)
	_, b := storedResults(t, db)
	if ca, cb := comparable(a), comparable(b); !reflect.DeepEqual(ca, cb) {
		t.Errorf("resumed scan differs from a clean scan:\n%s", strings.Join(storetest.Diff(ca, cb), "\n"))
	}
}

// comparable keeps what two scans of the same input must agree on.
func comparable(rs []model.Result) []string {
	var out []string
	for _, r := range rs {
		var techs []string
		for _, d := range r.Detections {
			var ev []string
			for _, e := range d.Evidence {
				ev = append(ev, e.Signal+"|"+e.Pattern+"|"+e.Match+"|"+e.Location)
			}
			sort.Strings(ev)
			techs = append(techs, fmt.Sprintf("%s@%s:%d:%s:%v", d.Technology, d.Version, d.Confidence, d.EvidenceClass, ev))
		}
		sort.Strings(techs)
		out = append(out, fmt.Sprintf("%s %s %s %d %d %v %v %v", r.Target, r.Domain, r.Status, r.HTTPStatus, r.Pages,
			r.FirstSeen.UTC(), r.LastSeen.UTC(), techs))
	}
	sort.Strings(out)
	return out
}

// TestArchiveCorpus scans every archive of corpus/warc (WARC, ARC, WAT,
// WET, chunked, revisit and POST records) with webappanalyzer and the AI
// catalog; the detections on servo's captures are in testdata/servo.golden.
func TestArchiveCorpus(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared")
	dir := filepath.Join(root, "corpus", "warc")
	wa := filepath.Join(root, "fingerprints", "webappanalyzer")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared corpus not available: %v", err)
	}
	cat, err := catalog.Open(false, wa)
	if err != nil {
		t.Fatal(err)
	}
	det, err := detect.New(cat, detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "c.duckdb")
	sum, err := Archive(context.Background(), ArchiveConfig{Specs: []string{dir}, DB: db, Detector: det})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Stats.Records["response"] == 0 || sum.Final.Results == 0 {
		t.Fatalf("nothing read: %+v", sum)
	}
	_, results := storedResults(t, db)
	var lines []string
	for _, r := range results {
		if !strings.Contains(strings.Join(evidenceFiles(r), " "), "servo-warc-tests") {
			continue
		}
		var techs []string
		for _, d := range r.Detections {
			techs = append(techs, d.Technology)
		}
		sort.Strings(techs)
		lines = append(lines, fmt.Sprintf("%s\t%s\tpages=%d\t%s", r.Target, r.Status, r.Pages, strings.Join(techs, ", ")))
	}
	sort.Strings(lines)
	golden(t, "servo.golden", strings.Join(lines, "\n")+"\n")
}

func evidenceFiles(r model.Result) []string {
	var out []string
	for _, d := range r.Detections {
		for _, e := range d.Evidence {
			out = append(out, e.Location)
		}
	}
	return out
}
