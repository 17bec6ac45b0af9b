package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/pagefile"
	"github.com/aicensus/aicensus/internal/pipeline"
)

type detectOptions struct {
	catalog catalogOptions
	json    bool
	workers int
	url     string
	render  renderFlags
}

func newDetectCommand(g *globalOptions) *cobra.Command {
	o := &detectOptions{}
	cmd := &cobra.Command{
		Use:   "detect [flags] PATH... | - | --render URL...",
		Short: "Detect technologies in saved pages (files, folders, .gz, stdin)",
		Long: `Detect technologies in saved HTML pages: files, folders (recursively), gzip
files transparently, or - for stdin. Prints a table, or with --json one JSON
object per input: {"target", "detections": [{"technology", "version",
"categories", "open_source", "license", "confidence", "evidence_class",
"evidence": [{"signal", "pattern", "match", "location", "via"}]}]}.

With --render, http(s) URL arguments are loaded in headless Chromium (Debian's
chromium package): detections then include what only a browser sees (globals
scripts create, injected DOM, every request the page made), evidence says via
"rendered" or "static", and each record has the render "status", the final
"url" and the "blocked" requests (private addresses are refused unless
--allow-private). See docs/render.md.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDetect(cmd.Context(), o, args, cmd.InOrStdin(), cmd.OutOrStdout(), stderrLogger(g))
		},
	}
	f := cmd.Flags()
	o.catalog.addFlags(f)
	f.BoolVar(&o.json, "json", false, "print one JSON object per input")
	f.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "pages analysed in parallel")
	f.StringVar(&o.url, "url", "", "URL the pages were saved from (for url patterns and evidence)")
	o.render.addFlags(f)
	return cmd
}

// detectRecord is the JSON Lines record of `aicensus detect --json`.
type detectRecord struct {
	Target     string            `json:"target"`
	Status     string            `json:"status,omitempty"`  // --render: the render status
	URL        string            `json:"url,omitempty"`     // --render: the final URL
	Blocked    []string          `json:"blocked,omitempty"` // --render: requests refused by the address policy
	Error      string            `json:"error,omitempty"`
	Detections []model.Detection `json:"detections"`
}

func runDetect(ctx context.Context, o *detectOptions, paths []string, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	start := time.Now()
	det, err := o.catalog.detector()
	if err != nil {
		return err
	}
	log.Debug("catalog loaded", "technologies", det.Catalog().Len(), "version", det.Catalog().Version(), "took", time.Since(start))
	out := newDetectPrinter(stdout, o.json)
	var pages, bytes, failed int
	analyse := time.Now()
	if o.render.enabled {
		urls, rest := splitURLs(paths)
		if len(urls) > 0 {
			n, err := renderURLs(ctx, &o.render, det, urls, out, log)
			pages, failed = len(urls), n
			if err != nil {
				return err
			}
			if len(rest) == 0 {
				return out.flush()
			}
		}
		paths = rest
	}
	err = pipeline.Ordered(ctx, o.workers,
		func(yield func(pagefile.Page) bool) error {
			return pagefile.Walk(ctx, paths, stdin, 0, func(p pagefile.Page) error {
				if !yield(p) {
					return ctx.Err()
				}
				return nil
			})
		},
		func(_ context.Context, p pagefile.Page) detectRecord {
			return detectPage(det, p, o.url)
		},
		func(p pagefile.Page, perr *pipeline.PanicError) detectRecord {
			return detectRecord{Target: p.Name, Error: "internal error: " + perr.Error(), Detections: []model.Detection{}}
		},
		func(r detectRecord) error {
			pages++
			if r.Error != "" {
				failed++
				log.Warn("input skipped", "target", r.Target, "error", r.Error)
			}
			return out.print(r)
		})
	if err != nil {
		return err
	}
	if err := out.flush(); err != nil {
		return err
	}
	elapsed := time.Since(analyse)
	_ = bytes
	log.Info("detect done", "inputs", pages, "failed", failed, "seconds", fmt.Sprintf("%.2f", elapsed.Seconds()))
	return nil
}

// detectPage runs the detector on one saved page.
func detectPage(det *detect.Detector, p pagefile.Page, url string) detectRecord {
	r := detectRecord{Target: p.Name, Detections: []model.Detection{}}
	if p.Err != nil {
		r.Error = p.Err.Error()
		if len(p.Body) == 0 {
			return r
		}
	}
	obs := &model.Observation{URL: url, Body: p.Body}
	if url == "" {
		obs.URL = p.Name
	}
	r.Detections = det.Detect(obs)
	return r
}

// detectPrinter writes detect results as a table or JSON Lines.
type detectPrinter struct {
	json bool
	enc  *json.Encoder
	tw   *tabwriter.Writer
	rows int
}

func newDetectPrinter(w io.Writer, asJSON bool) *detectPrinter {
	p := &detectPrinter{json: asJSON}
	if asJSON {
		p.enc = json.NewEncoder(w)
		p.enc.SetEscapeHTML(false)
	} else {
		p.tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(p.tw, "TARGET\tTECHNOLOGY\tVERSION\tCONF\tCLASS\tEVIDENCE")
	}
	return p
}

func (p *detectPrinter) print(r detectRecord) error {
	if p.json {
		return p.enc.Encode(r)
	}
	if r.Error != "" && len(r.Detections) == 0 {
		return nil
	}
	for _, d := range r.Detections {
		ev := ""
		if len(d.Evidence) > 0 {
			e := d.Evidence[0]
			ev = e.Signal + ": " + oneLine(e.Match, 60)
			if e.Via == model.ViaRendered {
				ev = "rendered " + ev
			}
		}
		if _, err := fmt.Fprintf(p.tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.Target, d.Technology, d.Version, d.Confidence, d.EvidenceClass, ev); err != nil {
			return err
		}
		p.rows++
	}
	return nil
}

func (p *detectPrinter) flush() error {
	if p.tw != nil {
		return p.tw.Flush()
	}
	return nil
}

// oneLine squeezes whitespace and cuts s to n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
