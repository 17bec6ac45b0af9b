// Package render loads pages in headless Chromium (through
// github.com/chromedp/chromedp) to see what only a browser sees: the
// globals that scripts create, the DOM they inject, and every request the
// page makes. It fills model.Rendered for the detector, which labels the
// evidence it finds there Via "rendered".
//
// A Pool runs at most Options.Tabs pages at once over at most
// Options.Browsers Chromium processes, one fresh tab and browser context
// per page, and replaces browsers after PagesPerBrowser pages, on a crash
// and above a memory cap. Per page: navigation, then a wait until the load
// event has fired and the network has been quiet for Options.Quiet (at
// most PageTimeout), then ONE evaluation in the page that walks every js
// property path of the Probe, queries every dom selector (text, attributes,
// properties of the first matches) and serialises the document. A page that
// does not load in time gets render-timeout, a tab that crashes (or whose
// renderer the memory watchdog kills) render-crash; both still return what
// was collected. Nothing a page does stops the Pool.
//
// Safety: the browser has no network of its own. It is started with
// --proxy-server pointing at a proxy inside the Pool (loopback included,
// via <-loopback>), and that proxy resolves every host through
// Options.Resolver and dials only addresses that pass the same policy as
// internal/fetch (fetch.PublicAddr; Options.AllowPrivate and Allow relax
// it). Refused requests fail in the browser and are listed in Page.Blocked;
// a page whose own address is refused gets blocked-private. WebRTC is kept
// off non-proxied UDP and QUIC is disabled, so nothing bypasses the proxy.
//
// See docs/render.md for flags, limits and measurements.
package render
