package testfarm

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

// Browser tests (internal/render) need what a static scan never fetches:
// the vendors' loader scripts, which create the globals and the DOM the
// catalog's js and dom rules look for, and pages whose widget exists only
// once a script has run. The farm serves them on stand-in hosts that its
// DNS does not know (so static scans, their truth and every existing host
// are unchanged): a browser test maps RenderHosts to 127.0.0.1 in its own
// resolver.
//
// Every loader below is a small stand-in, not vendor code: it creates the
// same globals, elements, ids and classes as the real loader (per
// shared/research/ai-fingerprints.md and the vendors' docs) and calls the
// vendor's API host the way the real widget does (those hosts are not
// served, so the calls fail, but the browser has made them).

// renderHost serves the browser-only test pages; widgetCDNHost serves their
// scripts from another site, as third-party widgets are (a static scanner
// does not fetch other sites' scripts).
const (
	renderHost    = "render.test"
	widgetCDNHost = "static.widgetcdn.test"
)

// standIn is a script or page served on a vendor host in place of the
// real one.
type standIn struct {
	host, prefix string // the path starts with prefix
	ctype        string
	body         string
}

const (
	ctJS   = "application/javascript"
	ctHTML = "text/html; charset=utf-8"
)

// botpressV0 stands in for cdn.botpress.cloud/webchat/v0|v1/inject.js:
// window.botpressWebChat whose init injects #bp-web-widget with the chat
// iframe.
const botpressV0 = `window.botpressWebChat = {
  init: function (cfg) {
    var d = document.createElement("div"); d.id = "bp-web-widget";
    var f = document.createElement("iframe"); f.title = "Botpress";
    f.src = "https://cdn.botpress.cloud/webchat/v0/index.html?botId=" + encodeURIComponent(cfg.botId || "");
    d.appendChild(f); document.body.appendChild(d);
  },
  onEvent: function () {}, sendEvent: function () {}
};`

// botpressV2 stands in for cdn.botpress.cloud/webchat/v2|v3.x/inject.js:
// window.botpress whose init injects #bp-web-widget-container holding the
// .bpFab launcher and the .bpWebchat window, and opens the messaging API.
const botpressV2 = `window.botpress = {
  init: function (cfg) {
    var c = document.createElement("div"); c.id = "bp-web-widget-container";
    var fab = document.createElement("button"); fab.className = "bpFab"; fab.setAttribute("aria-label", "Open chat");
    var win = document.createElement("div"); win.className = "bpWebchat";
    c.appendChild(fab); c.appendChild(win); document.body.appendChild(c);
    fetch("https://chat.botpress.cloud/" + encodeURIComponent(cfg.clientId || "client") + "/users/me").catch(function () {});
  },
  on: function () {}, open: function () {}, close: function () {}, sendEvent: function () {}
};`

// botpressConfig stands in for the per-bot config scripts (mediafiles.
// botpress.cloud/<bot>/webchat/[v2/]config.js, files.bpcontent.cloud/...):
// they call init on whichever global the loader made.
const botpressConfig = `(function () {
  var cfg = {botId: "52345432-5432543-5435-435545434", clientId: "0d3b1c2a-farm"};
  if (window.botpress) window.botpress.init(cfg);
  else if (window.botpressWebChat) window.botpressWebChat.init(cfg);
})();`

// voiceflowBundle stands in for cdn.voiceflow.com/widget-next/bundle.mjs:
// window.voiceflow.chat whose load renders div#voiceflow-chat with a
// shadow root and starts a session with the runtime URL it was given.
const voiceflowBundle = `window.voiceflow = {chat: {
  load: function (cfg) {
    var d = document.createElement("div"); d.id = "voiceflow-chat";
    d.attachShadow({mode: "open"}).innerHTML = '<div class="vfrc-launcher"></div>';
    document.body.appendChild(d);
    fetch((cfg.url || "https://general-runtime.voiceflow.com") + "/v2/interact").catch(function () {});
  },
  open: function () {}, close: function () {}
}};`

// chatbaseEmbed stands in for www.chatbase.co/embed.min.js: it answers the
// snippet's queue and injects the chatbot iframe and bubble.
const chatbaseEmbed = `(function () {
  var me = document.currentScript, id = (me && me.id) || "bot";
  var f = document.createElement("iframe"); f.id = "chatbase-bubble-window";
  f.src = "https://www.chatbase.co/chatbot-iframe/" + encodeURIComponent(id);
  var b = document.createElement("div"); b.id = "chatbase-bubble-button";
  document.body.appendChild(f); document.body.appendChild(b);
  window.chatbase = function (m) { return m === "getState" ? "initialized" : undefined; };
})();`

// dialogflowBootstrap stands in for www.gstatic.com/dialogflow-console/
// fast/messenger/bootstrap.js: it defines the df-messenger element, whose
// shadow root holds df-messenger-chat-bubble (invisible to selectors, as in
// the real one), and talks to dialogflow.googleapis.com.
const dialogflowBootstrap = `if (!customElements.get("df-messenger")) {
  customElements.define("df-messenger", class extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      this.attachShadow({mode: "open"}).innerHTML = "<df-messenger-chat-bubble></df-messenger-chat-bubble>";
      fetch("https://dialogflow.googleapis.com/v2/projects/-/agent/sessions/farm:detectIntent", {method: "POST"}).catch(function () {});
      window.dispatchEvent(new Event("dfMessengerLoaded"));
    }
  });
}`

// rasaWebchat stands in for cdn.jsdelivr.net/npm/rasa-webchat/lib/index.js:
// WebChat.default renders .rw-widget-container with the .rw-launcher
// button and opens the socket.io websocket to socketUrl.
const rasaWebchat = `window.WebChat = {default: function (cfg) {
  var c = document.createElement("div"); c.className = "rw-widget-container";
  var l = document.createElement("button"); l.className = "rw-launcher";
  c.appendChild(l); document.body.appendChild(c);
  try { new WebSocket(String(cfg.socketUrl).replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket"); } catch (e) {}
}};`

// typebotWeb stands in for cdn.jsdelivr.net/npm/@typebot.io/js/dist/web.js
// (an ES module): it registers the typebot-* elements and exports Typebot.
const typebotWeb = `class TB extends HTMLElement {}
for (const n of ["typebot-standard", "typebot-bubble", "typebot-popup"]) if (!customElements.get(n)) customElements.define(n, class extends TB {});
const Typebot = {
  initStandard(o) { const el = document.querySelector("typebot-standard"); if (el) el.setAttribute("data-typebot", o.typebot || ""); },
  initBubble(o) { document.body.appendChild(document.createElement("typebot-bubble")); }
};
window.Typebot = Typebot;
export default Typebot;`

// flowiseWeb stands in for cdn.jsdelivr.net/npm/flowise-embed/dist/web.js
// (an ES module): init adds the flowise-chatbot bubble, initFull fills
// flowise-fullchatbot; both call the prediction API of apiHost.
const flowiseWeb = `for (const n of ["flowise-chatbot", "flowise-fullchatbot"]) if (!customElements.get(n)) customElements.define(n, class extends HTMLElement {});
const Chatbot = {
  init(o) { document.body.appendChild(document.createElement("flowise-chatbot")); },
  initFull(o) { const el = document.querySelector("flowise-fullchatbot"); if (el) el.setAttribute("chatflowid", o.chatflowid || ""); }
};
export default Chatbot;`

// botframeworkWebchat stands in for cdn.botframework.com/botframework-
// webchat/latest/webchat.js: window.WebChat with createDirectLine (which
// starts a conversation on directline.botframework.com) and renderWebChat.
const botframeworkWebchat = `window.WebChat = {
  createDirectLine: function (o) {
    fetch("https://directline.botframework.com/v3/directline/conversations", {method: "POST"}).catch(function () {});
    return {token: o && o.token};
  },
  renderWebChat: function (props, el) {
    var d = document.createElement("div"); d.className = "webchat__basic-transcript"; d.setAttribute("role", "log");
    (el || document.body).appendChild(d);
  }
};`

// chatkitJS stands in for cdn.platform.openai.com/deployments/chatkit/
// chatkit.js: it registers the openai-chatkit element.
const chatkitJS = `if (!customElements.get("openai-chatkit")) customElements.define("openai-chatkit", class extends HTMLElement { setOptions(o) { this._o = o; } });`

// standIns are the vendor stand-ins, matched by host and path prefix.
var standIns = []standIn{
	{"cdn.botpress.cloud", "/webchat/v0/inject.js", ctJS, botpressV0},
	{"cdn.botpress.cloud", "/webchat/v1/inject.js", ctJS, botpressV0},
	{"cdn.botpress.cloud", "/webchat/v", ctJS, botpressV2}, // v2, v3.x
	{"mediafiles.botpress.cloud", "/", ctJS, botpressConfig},
	{"files.bpcontent.cloud", "/", ctJS, botpressConfig},
	{"cdn.voiceflow.com", "/widget-next/bundle.mjs", ctJS, voiceflowBundle},
	{"www.chatbase.co", "/embed.min.js", ctJS, chatbaseEmbed},
	{"www.chatbase.co", "/chatbot-iframe/", ctHTML, "<!DOCTYPE html><title>chat</title><div class=\"chat\"></div>"},
	{"www.gstatic.com", "/dialogflow-console/fast/messenger/bootstrap.js", ctJS, dialogflowBootstrap},
	{"cdn.jsdelivr.net", "/npm/rasa-webchat@", ctJS, rasaWebchat},
	{"cdn.jsdelivr.net", "/npm/@typebot.io/js@0/dist/web.js", ctJS, typebotWeb},
	{"cdn.jsdelivr.net", "/npm/flowise-embed/dist/web.js", ctJS, flowiseWeb},
	{"cdn.botframework.com", "/botframework-webchat/latest/webchat.js", ctJS, botframeworkWebchat},
	{"cdn.platform.openai.com", "/deployments/chatkit/chatkit.js", ctJS, chatkitJS},
}

// RenderHosts lists the names the farm serves only for browser tests, all
// on 127.0.0.1 and absent from the farm's DNS: the vendor stand-in hosts,
// render.test (the RenderCases pages) and static.widgetcdn.test (their
// scripts).
func RenderHosts() []string {
	hosts := []string{renderHost, widgetCDNHost}
	for _, s := range standIns {
		if !slices.Contains(hosts, s.host) {
			hosts = append(hosts, s.host)
		}
	}
	slices.Sort(hosts)
	return hosts
}

func isRenderHost(name string) bool { return slices.Contains(RenderHosts(), name) }

// RenderCase is a browser-only test page on render.test: its technology
// exists only once scripts have run, or it misbehaves in a browser.
type RenderCase struct {
	Name string
	URL  string // https://render.test/<name>.html
	// Status is what rendering must report.
	Status model.Status
	// Technologies are the AI technologies a rendered scan must find;
	// Static those the page's own bytes show (a subset, often empty).
	Technologies []string
	Static       []string
	// Blocked are requests the page makes that the address policy must
	// refuse (the browser may reach only 127.0.0.1).
	Blocked []string
	// About says what the page does.
	About string
}

// renderPage is a RenderCase with its served bytes.
type renderPage struct {
	RenderCase
	html       string
	script     string // served at https://static.widgetcdn.test<scriptPath>
	scriptPath string
}

// scriptURLMark stands for the page's script URL in html until the path
// is known.
const scriptURLMark = "{{script}}"

// renderPages builds the render.test pages; the private case names the
// farm's HTTP port.
func (f *Farm) renderPages() []renderPage {
	page := func(title, head, body string) string {
		return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title + "</title>" + head +
			"</head>\n<body><h1>" + title + "</h1><p>Opening hours, prices and a contact form.</p>\n" + body + "\n</body></html>\n"
	}
	// The page loads its script from the widget CDN under a neutral name
	// (tag<N>.js), so that its own bytes name no vendor.
	const tag = `<script src="` + scriptURLMark + `" async></script>`
	private := "http://127.0.0.2:" + strconv.Itoa(f.HTTPPort()) + "/"
	metadata := "http://169.254.169.254/latest/meta-data/"
	cases := []renderPage{
		{RenderCase: RenderCase{Name: "intercom", Status: model.StatusOK, Technologies: []string{"Intercom"},
			About: "a tag bundle sets window.Intercom and intercomSettings, injects .intercom-lightweight-app and iframe#intercom-frame, pings api-iam.intercom.io"},
			html: page("Bakery", "", tag),
			script: `window.intercomSettings = {app_id: "farm0001"};
window.Intercom = function () { (window.Intercom.q = window.Intercom.q || []).push(arguments); };
var a = document.createElement("div"); a.className = "intercom-lightweight-app"; document.body.appendChild(a);
var f = document.createElement("iframe"); f.id = "intercom-frame"; f.title = "messenger"; document.body.appendChild(f);
fetch("https://api-iam.intercom.io/messenger/web/ping", {method: "POST"}).catch(function () {});`},
		{RenderCase: RenderCase{Name: "chatwoot", Status: model.StatusOK, Technologies: []string{"Chatwoot"},
			About: "a tag bundle defines chatwootSDK, runs it: $chatwoot, .woot-widget-holder, .woot--bubble-holder"},
			html: page("Garage", "", tag),
			script: `window.chatwootSDK = {run: function (o) {
  var h = document.createElement("div"); h.className = "woot-widget-holder woot--hide";
  var b = document.createElement("div"); b.className = "woot--bubble-holder";
  document.body.appendChild(h); document.body.appendChild(b);
  window.$chatwoot = {websiteToken: o.websiteToken, toggle: function () {}};
}};
window.chatwootSDK.run({websiteToken: "farmtoken", baseUrl: "https://chat.example-support.test"});`},
		{RenderCase: RenderCase{Name: "botpress-v3-dynamic", Status: model.StatusOK, Technologies: []string{"Botpress"},
			About: "a tag manager bundle inserts the Botpress v3.2 loader and config at run time"},
			html: page("Florist", "", tag),
			script: `(function () {
  var s = document.createElement("script"); s.src = "https://cdn.botpress.cloud/webchat/v3.2/inject.js";
  s.onload = function () { var c = document.createElement("script"); c.src = "https://files.bpcontent.cloud/2025/01/02/03/20250102030405-abcd1234.js"; document.head.appendChild(c); };
  document.head.appendChild(s);
})();`},
		{RenderCase: RenderCase{Name: "dialogflow-dynamic", Status: model.StatusOK, Technologies: []string{"Dialogflow Messenger"},
			About: "a bundle creates the df-messenger element and loads its bootstrap"},
			html: page("Library", "", tag),
			script: `(function () {
  var s = document.createElement("script"); s.src = "https://www.gstatic.com/dialogflow-console/fast/messenger/bootstrap.js?v=1"; document.head.appendChild(s);
  var m = document.createElement("df-messenger"); m.setAttribute("agent-id", "a15dcdc3-c200-47ab-9f3c-a872fe5cd5a0");
  document.body.appendChild(m);
})();`},
		{RenderCase: RenderCase{Name: "openai-browser-call", Status: model.StatusOK, Technologies: []string{"OpenAI"},
			About: "a bundle calls api.openai.com from the browser after load (the URL is assembled at run time)"},
			html: page("Travel agent", "", tag),
			script: `window.addEventListener("load", function () {
  var host = ["api", "openai", "com"].join(".");
  fetch("https://" + host + "/v1/chat/completions", {method: "POST", body: "{}"}).catch(function () {});
});`},
		{RenderCase: RenderCase{Name: "late-widget", Status: model.StatusOK, Technologies: []string{"Drift"},
			About: "after load, a bundle fetches its config, then 200 ms later sets window.drift (the settle wait must see it)"},
			html: page("Dentist", "", tag),
			script: `window.addEventListener("load", function () {
  fetch("https://` + widgetCDNHost + `/config.json").then(function (r) { return r.text(); }).catch(function () {}).then(function () {
    setTimeout(function () { window.drift = {load: function () {}}; window.driftt = window.drift; }, 200);
  });
});`},
		{RenderCase: RenderCase{Name: "never-loads", Status: model.StatusRenderTimeout, Technologies: []string{"Tiledesk"},
			About: "a bundle sets window.Tiledesk, then a blocking script that streams a byte at a time forever: load never fires; the globals are still read"},
			html: page("Museum", "", `<script src="`+scriptURLMark+`"></script>`+
				`<script src="https://`+widgetCDNHost+stallPath+`"></script>`),
			script: `window.Tiledesk = function () {}; window.tiledeskSettings = {projectid: "farm"};`},
		{RenderCase: RenderCase{Name: "hang", Status: model.StatusRenderTimeout,
			About: "an inline script loops forever: the page can be neither loaded nor evaluated"},
			html: page("Hotel", "", "<script>for (;;) {}</script>")},
		{RenderCase: RenderCase{Name: "crash", Status: model.StatusRenderCrash,
			About: "an inline script allocates until V8's heap cap kills the renderer"},
			html: page("Cinema", "", `<script>var keep = []; for (;;) keep.push(new Array(1 << 24).fill(1.5));</script>`)},
		{RenderCase: RenderCase{Name: "memory", Status: model.StatusRenderCrash,
			About: "array buffers (outside V8's heap, so the heap cap does not stop them) grow until the memory watchdog kills the renderer"},
			html: page("Stadium", "", `<script>var keep = []; for (;;) keep.push(new Uint8Array(16 << 20).fill(7));</script>`)},
		{RenderCase: RenderCase{Name: "private", Status: model.StatusOK, Blocked: []string{metadata, private},
			About: "the page requests the cloud metadata address and another loopback address"},
			html: page("School", "", `<script>fetch("`+metadata+`").catch(function () {}); fetch("`+private+`").catch(function () {});</script>`)},
	}
	for i := range cases {
		cases[i].scriptPath = "/tag" + strconv.Itoa(i+1) + ".js"
		cases[i].html = strings.ReplaceAll(cases[i].html, scriptURLMark, "https://"+widgetCDNHost+cases[i].scriptPath)
		c := &cases[i].RenderCase
		c.URL = "https://" + renderHost + "/" + c.Name + ".html"
		if c.Technologies == nil {
			c.Technologies = []string{}
		}
		if c.Static == nil {
			c.Static = []string{}
		}
	}
	return cases
}

// RenderCases returns the browser-only test pages (meaningful after Start:
// the private case names the farm's HTTP port).
func (f *Farm) RenderCases() []RenderCase {
	var out []RenderCase
	for _, p := range f.renderPages() {
		c := p.RenderCase
		c.Technologies = slices.Clone(c.Technologies)
		c.Static = slices.Clone(c.Static)
		c.Blocked = slices.Clone(c.Blocked)
		out = append(out, c)
	}
	return out
}

// serveRender answers requests for RenderHosts; it reports false for
// other hosts.
func (f *Farm) serveRender(w http.ResponseWriter, r *http.Request, host string) bool {
	if !isRenderHost(host) {
		return false
	}
	w.Header().Set("Server", "testfarm")
	w.Header().Set("Access-Control-Allow-Origin", "*") // module scripts and fetches from other sites
	path := r.URL.Path
	switch host {
	case renderHost, widgetCDNHost:
		if host == widgetCDNHost && path == stallPath {
			f.stall(w, r)
			return true
		}
		if host == widgetCDNHost && path == "/config.json" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"enabled":true}`))
			return true
		}
		for _, p := range f.renderPages() {
			switch {
			case host == renderHost && path == "/"+p.Name+".html":
				w.Header().Set("Content-Type", ctHTML)
				_, _ = w.Write([]byte(p.html))
				return true
			case host == widgetCDNHost && path == p.scriptPath && p.script != "":
				w.Header().Set("Content-Type", ctJS)
				_, _ = w.Write([]byte(p.script))
				return true
			}
		}
	default:
		for _, s := range standIns {
			if s.host == host && strings.HasPrefix(path, s.prefix) {
				w.Header().Set("Content-Type", s.ctype)
				_, _ = w.Write([]byte(s.body))
				return true
			}
		}
	}
	http.NotFound(w, r)
	return true
}

// LeafSPKI is the base64 SHA-256 hash of the public key that every
// CA-signed farm certificate shares (the self-signed fault host has its
// own). A browser cannot be told to trust the farm CA without a
// certificate database tool; Chromium's --ignore-certificate-errors-spki-
// list takes this hash instead (render.Options.TrustSPKI).
func (f *Farm) LeafSPKI() string {
	der, err := x509.MarshalPKIXPublicKey(&f.ca.leafKey.PublicKey)
	if err != nil {
		return "" // an ECDSA P-256 key always marshals
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// stallPath is a script that never finishes.
const stallPath = "/stall.js"

// stall sends a JavaScript response one space every 100 ms until the
// client leaves or the farm stops. (The slow-loris host cannot stand in: it
// sends text/html, which the browser's opaque-response blocking cuts off as
// soon as it has sniffed it as HTML.)
func (f *Farm) stall(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", ctJS)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if _, err := w.Write([]byte(" ")); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-f.done:
			return
		}
	}
}
