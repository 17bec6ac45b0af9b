package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/aicensus/aicensus/internal/report"
)

// consoleErrors collects what a page logs as an error: console.error and
// console.assert calls, uncaught exceptions, and browser log entries of
// level error (failed loads, CSP violations...).
type consoleErrors struct {
	mu   sync.Mutex
	msgs []string
}

func (c *consoleErrors) listen(ev any) {
	var msg string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			msg = "console." + string(e.Type) + ": " + strings.Join(parts, " ")
		}
	case *runtime.EventExceptionThrown:
		msg = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError {
			msg = "log: " + e.Entry.Text + " " + e.Entry.URL
		}
	}
	if msg != "" {
		c.mu.Lock()
		c.msgs = append(c.msgs, msg)
		c.mu.Unlock()
	}
}

func (c *consoleErrors) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.msgs
	c.msgs = nil
	return m
}

// browser starts Debian's chromium headless (flags from deps-probe.md) and
// returns a tab context, or skips when chromium is not installed.
func browser(t *testing.T) (context.Context, *consoleErrors) {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (scripts/test installs it with apt-get): browser tests skipped")
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1600),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true))
	ctx, cancel := chromedp.NewContext(actx)
	ctx, tcancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { tcancel(); cancel(); acancel() })
	errs := &consoleErrors{}
	if err := chromedp.Listen(ctx, errs.listen); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	return ctx, errs
}

// drawn counts the chart's bars that the browser laid out with a width.
func drawn(t *testing.T, ctx context.Context, chartID string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(
		`Array.from(document.querySelectorAll('#%s svg rect')).filter(r => r.getBoundingClientRect().width > 0.5).length`, chartID)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(os.TempDir(), "aicensus-screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", p, len(png))
}

// The dashboard and the HTML report in a real browser: pages render, charts
// draw, a filter changes the numbers shown, nothing logs an error.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	base, s, fx := startServer(t)
	ctx, errs := browser(t)
	scan := itoa(fx.FarmA.Scan.ID)

	t.Run("dashboard", func(t *testing.T) {
		aiDomains := `document.querySelector('#open-closed tbody tr td:nth-child(2)').textContent`
		err := chromedp.Do(ctx, chromedp.Navigate(base+"/?scan="+scan), chromedp.WaitVisible(chromedp.CSS("#chart-adoption svg")))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"chart-adoption", "chart-openclosed", "chart-sizes"} {
			if n := drawn(t, ctx, c); n < 3 {
				t.Errorf("%s: %d bars drawn", c, n)
			}
		}
		before, err := chromedp.Run(ctx, chromedp.Evaluate[string](aiDomains))
		if err != nil {
			t.Fatal(err)
		}
		// Choose "open source" in the filter form: the page reloads with it.
		loads := chromedp.Events(ctx, page.LoadEventFired)
		err = chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](`setTimeout(() => { const s = document.querySelector('select[name=open]'); s.value = 'open'; s.dispatchEvent(new Event('change')); }, 0)`))
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range loads {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil || !strings.Contains(loc, "open=open") {
			t.Fatalf("after choosing the filter the page is %s (%v)", loc, err)
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#chart-adoption svg"))); err != nil {
			t.Fatal(err)
		}
		after, err := chromedp.Run(ctx, chromedp.Evaluate[string](aiDomains))
		if err != nil {
			t.Fatal(err)
		}
		want, err := report.Build(context.Background(), s, report.Options{ScanID: fx.FarmA.Scan.ID, Filter: report.Filter{Open: "open"}})
		if err != nil {
			t.Fatal(err)
		}
		if before == after || after != itoa(want.OpenClosed.All.AIDomains) {
			t.Errorf("AI domains shown: %s before the filter, %s after; want %d after", before, after, want.OpenClosed.All.AIDomains)
		}
		screenshot(t, ctx, "dashboard-open-filter.png")
		// A technology page lists domains with evidence.
		err = chromedp.Do(ctx, chromedp.Navigate(base+"/tech/OpenAI?scan="+scan), chromedp.WaitVisible(chromedp.CSS("#domains")))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#domains tbody tr').length`))
		if err != nil || rows == 0 {
			t.Errorf("technology page: %d domain rows, %v", rows, err)
		}
		if m := errs.take(); len(m) > 0 {
			t.Errorf("console errors: %q", m)
		}
	})

	t.Run("html report", func(t *testing.T) {
		r, err := report.Build(context.Background(), s, report.Options{ScanID: fx.FarmA.Scan.ID,
			CompareBefore: fx.FarmA.Scan.ID, CompareAfter: fx.FarmB.Scan.ID})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "report.html")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := report.WriteHTML(f, r, report.HTMLOptions{}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.CSS("#chart-change svg"))); err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"chart-adoption", "chart-openclosed", "chart-sizes", "chart-change"} {
			if n := drawn(t, ctx, c); n < 3 {
				t.Errorf("%s: %d bars drawn", c, n)
			}
		}
		// Offline: the page loaded nothing besides itself.
		res, err := chromedp.Run(ctx, chromedp.Evaluate[int](`performance.getEntriesByType('resource').length`))
		if err != nil || res != 0 {
			t.Errorf("the report loaded %d resources (%v)", res, err)
		}
		screenshot(t, ctx, "report.png")
		if m := errs.take(); len(m) > 0 {
			t.Errorf("console errors: %q", m)
		}
	})
}
