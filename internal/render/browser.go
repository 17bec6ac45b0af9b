package render

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// startTimeout bounds a browser's start.
const startTimeout = 60 * time.Second

// instance is one Chromium process and the pages it is rendering. Its
// counters are guarded by the Pool's mutex.
type instance struct {
	id     int
	ctx    context.Context // the browser's chromedp context
	cancel context.CancelFunc
	pid    int
	ua     string // the browser's own User-Agent

	active  int  // pages in flight
	pages   int  // pages started
	retired bool // takes no more pages; closed when active drops to 0

	closeOnce sync.Once
}

// allocatorOptions are the Chromium flags of every browser: headless,
// every connection through the proxy (loopback included), no site
// isolation (so that iframes' requests reach the page's events and one
// renderer serves one tab), the V8 heap cap, no background traffic.
func allocatorOptions(o *Options, proxyAddr string) []chromedp.ExecAllocatorOption {
	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts,
		chromedp.ExecPath(o.ExecPath),
		chromedp.DisableGPU,
		chromedp.ProxyServer("http://"+proxyAddr),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,SitePerProcess,IsolateOrigins,"+
			"site-per-process,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,"+
			"InterestFeedContentSuggestions,CertificateTransparencyComponentUpdater,HttpsUpgrades"),
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("js-flags", "--max-old-space-size="+strconv.Itoa(o.JSHeapMB)),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("dns-prefetch-disable", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("webrtc-ip-handling-policy", "disable_non_proxied_udp"),
		chromedp.Flag("force-webrtc-ip-handling-policy", true),
		chromedp.Flag("window-size", "1280,900"),
	)
	if !o.LoadImages {
		opts = append(opts, chromedp.Flag("blink-settings", "imagesEnabled=false"))
	}
	if len(o.TrustSPKI) > 0 {
		opts = append(opts, chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(o.TrustSPKI, ",")))
	}
	return opts
}

// startInstance starts a browser bound to parent.
func startInstance(parent context.Context, id int, o *Options, proxyAddr string) (*instance, error) {
	actx, acancel := chromedp.NewExecAllocator(parent, allocatorOptions(o, proxyAddr)...)
	bctx, bcancel := chromedp.NewContext(actx)
	cancel := func() { bcancel(); acancel() }
	// The first Do binds the browser's life to bctx, so it gets no
	// deadline; a start that hangs is ended by cancelling the allocator.
	timer := time.AfterFunc(startTimeout, acancel)
	err := chromedp.Do(bctx)
	stopped := !timer.Stop()
	if err == nil && stopped {
		err = context.DeadlineExceeded
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("start browser %s: %w", o.ExecPath, err)
	}
	in := &instance{id: id, ctx: bctx, cancel: cancel}
	c := chromedp.FromContext(bctx)
	if p := c.Browser.Process(); p != nil {
		in.pid = p.Pid
	}
	vctx, vcancel := context.WithTimeout(bctx, 10*time.Second)
	v, err := cdp.Call(vctx, c.Browser, browser.GetVersion, cdp.Empty{})
	vcancel()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("browser version: %w", err)
	}
	in.ua = v.UserAgent
	return in, nil
}

// alive reports whether the browser process is still connected.
func (in *instance) alive() bool { return in.ctx.Err() == nil }

// close stops the browser: gracefully within a few seconds, then by force.
func (in *instance) close() {
	in.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(in.ctx, 5*time.Second)
		_ = chromedp.Cancel(ctx)
		cancel()
		in.cancel()
	})
}

// defaultUserAgent turns the browser's own User-Agent into the one pages
// see: not advertising headless mode, naming aicensus with a contact URL.
func defaultUserAgent(browserUA, product string) string {
	ua := strings.Replace(browserUA, "HeadlessChrome/", "Chrome/", 1)
	if ua == "" {
		return product
	}
	return ua + " " + product
}
