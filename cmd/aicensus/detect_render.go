package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/aicensus/aicensus/internal/detect"
	"github.com/aicensus/aicensus/internal/dns"
	"github.com/aicensus/aicensus/internal/fetch"
	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/render"
)

// renderFlags are the flags of `aicensus detect --render`.
type renderFlags struct {
	enabled      bool
	timeout      time.Duration
	tabs         int
	chromium     string
	resolvers    []string
	allowPrivate bool
	allowNets    []string
	portMap      string
	trustSPKI    []string
}

func (r *renderFlags) addFlags(f *pflag.FlagSet) {
	def := render.DefaultOptions()
	f.BoolVar(&r.enabled, "render", false, "load http(s) URL arguments in headless Chromium and detect what only a browser sees (globals, injected DOM, requests)")
	f.DurationVar(&r.timeout, "render-timeout", def.PageTimeout, "with --render: time for a page to load and settle")
	f.IntVar(&r.tabs, "tabs", def.Tabs, "with --render: pages rendered at the same time")
	f.StringVar(&r.chromium, "chromium", "", "with --render: the Chromium executable (default: chromium on PATH)")
	f.StringArrayVar(&r.resolvers, "resolver", nil, "with --render: DNS resolver ADDR[:PORT] for the browser's requests (repeatable; default: the system's)")
	f.BoolVar(&r.allowPrivate, "allow-private", false, "with --render: let the browser reach private, loopback and link-local addresses")
	f.StringArrayVar(&r.allowNets, "allow-net", nil, "with --render: allow one private prefix (CIDR), e.g. a test farm's 127.0.0.1/32")
	f.StringVar(&r.portMap, "port-map", "", "with --render: connect to other ports than 80/443, e.g. 80=8080,443=8443 (test farms)")
	f.StringArrayVar(&r.trustSPKI, "render-trust-spki", nil, "with --render: accept certificates with this public key (base64 SHA-256 SPKI; test farms)")
	_ = f.MarkHidden("render-trust-spki")
}

// splitURLs separates http(s) URL arguments from paths.
func splitURLs(args []string) (urls, paths []string) {
	for _, a := range args {
		if strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://") {
			urls = append(urls, a)
		} else {
			paths = append(paths, a)
		}
	}
	return urls, paths
}

// options turns the flags into render options for det's catalog.
func (r *renderFlags) options(det *detect.Detector) (render.Options, func(), error) {
	o := render.Options{
		Probe: render.NewProbe(det.Catalog()), Tabs: r.tabs, PageTimeout: r.timeout,
		ExecPath: r.chromium, AllowPrivate: r.allowPrivate, TrustSPKI: r.trustSPKI,
		DocumentBody: true, MaxScripts: fetch.DefaultOptions().MaxScripts,
	}
	for _, n := range r.allowNets {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			return o, nil, usagef("--allow-net %q: %v", n, err)
		}
		o.Allow = append(o.Allow, p)
	}
	if r.portMap != "" {
		m, err := parsePortMap(r.portMap)
		if err != nil {
			return o, nil, usagef("--port-map: %v", err)
		}
		o.PortMap = m
	}
	closeFn := func() {}
	if len(r.resolvers) > 0 {
		res, err := dns.New(dns.Config{Servers: r.resolvers})
		if err != nil {
			return o, nil, usagef("--resolver: %v", err)
		}
		o.Resolver = res
		closeFn = func() { res.Close() }
	}
	return o, closeFn, nil
}

// renderURLs renders every URL (up to --tabs at once), detects on what the
// browser saw (the served document and headers as static evidence, the
// rendered page as rendered evidence) and prints one record per URL, in
// argument order.
func renderURLs(ctx context.Context, rf *renderFlags, det *detect.Detector, urls []string, out *detectPrinter, log *slog.Logger) (failed int, err error) {
	o, closeRes, err := rf.options(det)
	if err != nil {
		return 0, err
	}
	defer closeRes()
	start := time.Now()
	pool, err := render.NewPool(ctx, o)
	if err != nil {
		return 0, fmt.Errorf("render: %w", err)
	}
	defer pool.Close()
	log.Debug("browser started", "took", time.Since(start), "user_agent", pool.UserAgent())
	recs := make([]detectRecord, len(urls))
	done := make([]chan struct{}, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		done[i] = make(chan struct{})
		wg.Go(func() {
			defer close(done[i])
			recs[i] = renderRecord(ctx, pool, det, u)
		})
	}
	defer wg.Wait()
	for i := range urls {
		<-done[i]
		r := recs[i]
		if r.Status != string(model.StatusOK) {
			failed++
			log.Warn("render", "url", r.Target, "status", r.Status, "error", r.Error)
		}
		if err := out.print(r); err != nil {
			return failed, err
		}
	}
	st := pool.Stats()
	log.Info("render done", "pages", st.Pages, "ok", st.OK, "timeouts", st.Timeouts, "crashes", st.Crashes,
		"peak_browser_mb", st.PeakMemory>>20, "seconds", fmt.Sprintf("%.2f", time.Since(start).Seconds()))
	return failed, nil
}

// renderRecord renders one URL and detects on the result.
func renderRecord(ctx context.Context, pool *render.Pool, det *detect.Detector, u string) detectRecord {
	pg := pool.Render(ctx, u)
	r := detectRecord{Target: u, Status: string(pg.Status), URL: pg.FinalURL, Blocked: pg.Blocked, Detections: []model.Detection{}}
	if pg.Err != nil {
		r.Error = pg.Err.Error()
	}
	if pg.Rendered != nil || len(pg.Body) > 0 {
		r.Detections = det.Detect(pg.Observation())
	}
	return r
}
