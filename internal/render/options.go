package render

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"time"

	"github.com/aicensus/aicensus/internal/fetch"
)

// ErrNoBrowser is wrapped by NewPool when no Chromium executable is found.
var ErrNoBrowser = errors.New("no chromium executable found (install Debian's chromium package or set Options.ExecPath)")

// Options configures a Pool. Every default lives in DefaultOptions; NewPool
// replaces zero fields with those defaults, so the zero Options is usable
// (with an empty Probe: requests and HTML only).
type Options struct {
	// Probe lists the globals and selectors evaluated on every page
	// (NewProbe(catalog)). Nil evaluates none.
	Probe *Probe

	// Tabs is how many pages are rendered at once (default 4).
	Tabs int
	// Browsers is how many Chromium processes the tabs are spread over
	// (default 1, at most Tabs).
	Browsers int
	// PagesPerBrowser is how many pages a browser renders before it is
	// replaced by a fresh one (default 200).
	PagesPerBrowser int

	// PageTimeout bounds a page from navigation until it has settled
	// (default 15s). A page whose load event has not fired by then gets
	// render-timeout; what was collected is still returned.
	PageTimeout time.Duration
	// Quiet is how long the network must be quiet (at most IdleRequests
	// requests open, none started or finished) after the load event for the
	// page to count as settled (default 500ms).
	Quiet time.Duration
	// IdleRequests is how many requests may stay open on a settled page
	// (long polls, streams; default 2).
	IdleRequests int
	// EvalTimeout bounds the evaluation of globals, selectors and the
	// document once the page has settled (default 5s).
	EvalTimeout time.Duration

	// MaxHTMLBytes caps the serialised document and the document body
	// (default 2 MiB).
	MaxHTMLBytes int
	// MaxRequests caps the distinct request URLs kept per page (default
	// 1000).
	MaxRequests int
	// DocumentBody keeps the main document's bytes as the server sent them
	// in Page.Body (one more protocol call per page).
	DocumentBody bool
	// MaxScripts keeps the bodies of the first MaxScripts scripts the page
	// loaded (any site) in Page.Scripts, at most ScriptBudget bytes in all
	// (default 0: none; a scanner that fetched the page has its own).
	MaxScripts int
	// ScriptBudget caps the bytes of Page.Scripts (default 1 MiB).
	ScriptBudget int

	// JSHeapMB caps V8's old space in every renderer (--js-flags
	// --max-old-space-size; default 512). A page that needs more crashes its
	// tab (render-crash).
	JSHeapMB int
	// MaxRendererMB is the memory (PSS) a renderer process may use; a
	// larger one is killed, which crashes its tab (render-crash). Default
	// 1024.
	MaxRendererMB int
	// MaxBrowserMB is the memory (PSS) of a whole browser (all its
	// processes) above which it is replaced once its pages finish
	// (default 1536).
	MaxBrowserMB int
	// WatchInterval is how often memory is sampled (default 250ms).
	WatchInterval time.Duration

	// ExecPath is the Chromium executable (default: chromium,
	// chromium-browser, google-chrome or headless-shell on PATH).
	ExecPath string
	// UserAgent is sent by the browser (default: the browser's own, with
	// HeadlessChrome written Chrome and fetch.DefaultUserAgent() appended).
	UserAgent string
	// LoadImages lets the browser download images (off by default: no
	// catalog signal needs them and they cost most of the bytes).
	LoadImages bool

	// Resolver resolves every host the browser requests (default
	// fetch.NetResolver{}). internal/dns's Resolver satisfies it.
	Resolver fetch.Resolver
	// AllowPrivate lets the browser reach private, loopback, link-local and
	// reserved addresses.
	AllowPrivate bool
	// Allow lists prefixes the browser may reach although the policy
	// blocks them (tests allow exactly 127.0.0.1/32 for the loopback farm).
	Allow []netip.Prefix
	// PortMap redirects the browser's connections to a port to another
	// port (80 and 443 to a test farm's ports). URLs, Host headers and TLS
	// names are unchanged.
	PortMap map[int]int
	// TrustSPKI lists base64 SHA-256 hashes of public keys (SPKIHash):
	// certificate errors are ignored for chains holding one of them
	// (Chromium's --ignore-certificate-errors-spki-list). For test
	// servers only; every other certificate is verified as usual.
	TrustSPKI []string
}

// DefaultOptions returns every default in one place.
func DefaultOptions() Options {
	return Options{
		Tabs:            4,
		Browsers:        1,
		PagesPerBrowser: 200,
		PageTimeout:     15 * time.Second,
		Quiet:           500 * time.Millisecond,
		IdleRequests:    2,
		EvalTimeout:     5 * time.Second,
		MaxHTMLBytes:    2 << 20,
		MaxRequests:     1000,
		ScriptBudget:    1 << 20,
		JSHeapMB:        512,
		MaxRendererMB:   1024,
		MaxBrowserMB:    1536,
		WatchInterval:   250 * time.Millisecond,
		Resolver:        fetch.NetResolver{},
	}
}

// withDefaults fills zero fields from DefaultOptions and finds the browser.
func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	setZero(&o.Tabs, d.Tabs)
	setZero(&o.Browsers, d.Browsers)
	setZero(&o.PagesPerBrowser, d.PagesPerBrowser)
	setZero(&o.PageTimeout, d.PageTimeout)
	setZero(&o.Quiet, d.Quiet)
	setZero(&o.IdleRequests, d.IdleRequests)
	setZero(&o.EvalTimeout, d.EvalTimeout)
	setZero(&o.MaxHTMLBytes, d.MaxHTMLBytes)
	setZero(&o.MaxRequests, d.MaxRequests)
	setZero(&o.ScriptBudget, d.ScriptBudget)
	setZero(&o.JSHeapMB, d.JSHeapMB)
	setZero(&o.MaxRendererMB, d.MaxRendererMB)
	setZero(&o.MaxBrowserMB, d.MaxBrowserMB)
	setZero(&o.WatchInterval, d.WatchInterval)
	if o.Resolver == nil {
		o.Resolver = d.Resolver
	}
	if o.Probe == nil {
		o.Probe = &Probe{}
	}
	if o.Tabs < 1 || o.Browsers < 1 || o.PagesPerBrowser < 1 {
		return o, fmt.Errorf("render options: tabs, browsers and pages per browser must be positive")
	}
	o.Browsers = min(o.Browsers, o.Tabs)
	if o.IdleRequests < 0 {
		o.IdleRequests = 0
	}
	if o.ExecPath == "" {
		o.ExecPath = FindBrowser()
		if o.ExecPath == "" {
			return o, ErrNoBrowser
		}
	}
	return o, nil
}

// FindBrowser returns the path of the first Chromium-family executable on
// PATH, or "" when there is none.
func FindBrowser() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func setZero[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// SPKIHash returns the base64 SHA-256 hash of a certificate's public key,
// the form Options.TrustSPKI takes.
func SPKIHash(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}
