package testfarm

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/aicensus/aicensus/internal/model"
)

// addFault adds the fault host of kind k with its zone, vhosts and truth.
func (p *plan) addFault(k Kind) {
	name := FaultHost(k)
	t := HostTruth{Host: name, Kind: k, Technologies: []Tech{}}
	served := func(host string, v *vhost) {
		v.name, v.kind = host, k
		if v.robots == "" {
			v.robots = defaultRobots
		}
		p.vhosts[host] = v
		p.entry(host).a = true
	}
	switch k {
	case KindSlowLoris, KindResetMidBody, KindHugeBody, KindGzipBomb, KindRedirectLoop, KindRedirectLoopback, KindRedirectMetadata:
		served(name, &vhost{})
		t.Status = map[Kind]model.Status{
			KindSlowLoris:        model.StatusTimeout,
			KindResetMidBody:     model.StatusConnectionReset,
			KindHugeBody:         model.StatusBodyTooLarge,
			KindGzipBomb:         model.StatusBodyTooLarge,
			KindRedirectLoop:     model.StatusTooManyRedirects,
			KindRedirectLoopback: model.StatusBlockedPrivate,
			KindRedirectMetadata: model.StatusBlockedPrivate,
		}[k]
	case KindRedirectChain:
		served(name, &vhost{})
		final := &vhost{page: p.fixedPage(k), embed: p.embedFile("chatbase.html")}
		served("www."+name, final)
		t.Status, t.URL, t.HTTPStatus = model.StatusOK, "https://www."+name+"/final", 200
		t.Redirects = []string{"https://" + name + "/", "https://" + name + "/hop1", "https://www." + name + "/hop2"}
		t.addServed(final)
	case KindSelfSigned, KindExpiredCert:
		mode := map[Kind]tlsMode{KindSelfSigned: tlsSelfSigned, KindExpiredCert: tlsExpired}[k]
		served(name, &vhost{tls: mode, page: p.fixedPage(k), embed: p.embedFile("typebot.html")})
		t.Status = model.StatusTLSError
	case KindHTTPOnly:
		v := &vhost{tls: tlsRefuse, page: p.fixedPage(k), embed: p.embedFile("typebot.html")}
		served(name, v)
		t.Status, t.URL, t.HTTPStatus = model.StatusOK, "http://"+name+"/", 200
		t.addServed(v)
	case KindWWWOnly:
		p.entry(name) // exists, no address
		v := &vhost{page: p.fixedPage(k), embed: p.embedFile("voiceflow.html")}
		served("www."+name, v)
		t.Status, t.URL, t.HTTPStatus = model.StatusOK, "https://www."+name+"/", 200
		t.addServed(v)
	case KindNotFound, KindServerError:
		served(name, &vhost{})
		t.Status, t.URL = p.cfg.Expect.ErrorPage, "https://"+name+"/"
		t.HTTPStatus = map[Kind]int{KindNotFound: 404, KindServerError: 500}[k]
	case KindDNSTimeout, KindServfail, KindTruncatedTCPFail:
		p.entry(name).fault = map[Kind]dnsFault{KindDNSTimeout: dnsDrop, KindServfail: dnsServfail, KindTruncatedTCPFail: dnsTruncateAll}[k]
		t.Status = map[Kind]model.Status{KindDNSTimeout: model.StatusDNSTimeout, KindServfail: model.StatusDNSServfail, KindTruncatedTCPFail: model.StatusDNSError}[k]
	case KindNXDomain:
		t.Status = model.StatusDNSNXDomain
	case KindTruncatedTCPOK:
		v := &vhost{page: p.fixedPage(k), embed: p.embedFile("rasa-webchat.html")}
		served(name, v)
		e := p.entry(name)
		e.fault = dnsTruncate
		txt := "openai-domain-verification=dv-" + p.token(24, alnum)
		e.txt = append(e.txt, []string{txt})
		t.Status, t.URL, t.HTTPStatus = model.StatusOK, "https://"+name+"/", 200
		t.addServed(v)
		t.addTech("OpenAI", "", Evidence{Where: "dns TXT " + name, Text: txt})
	case KindRobots:
		v := &vhost{page: p.fixedPage(k), embed: p.embedFile("flowise-embed.html"), script: &scripts[0], robots: "User-agent: *\nDisallow: /static/\n"}
		served(name, v)
		t.Status, t.URL, t.HTTPStatus = model.StatusOK, "https://"+name+"/", 200
		t.addServed(v) // the script's OpenAI call is disallowed: not expected
	default:
		panic("testfarm: fault kind without host: " + string(k))
	}
	p.truth = append(p.truth, t)
}

// serveFault answers the homepage and fault paths of fault hosts; it
// reports false when the request is not a fault path.
func (f *Farm) serveFault(w http.ResponseWriter, r *http.Request, v *vhost) bool {
	switch v.kind {
	case KindSlowLoris:
		f.slowLoris(w, r)
	case KindResetMidBody:
		f.resetMidBody(w, v)
	case KindHugeBody:
		f.hugeBody(w)
	case KindGzipBomb:
		f.gzipBomb(w)
	case KindRedirectLoop:
		target := "/loop"
		if r.URL.Path == "/loop" {
			target = "/"
		}
		http.Redirect(w, r, target, http.StatusFound)
	case KindRedirectChain:
		switch {
		case v.name == FaultHost(KindRedirectChain) && r.URL.Path == "/":
			http.Redirect(w, r, "/hop1", http.StatusMovedPermanently)
		case v.name == FaultHost(KindRedirectChain) && r.URL.Path == "/hop1":
			http.Redirect(w, r, "https://www."+FaultHost(KindRedirectChain)+"/hop2", http.StatusFound)
		case r.URL.Path == "/hop2":
			http.Redirect(w, r, "/final", http.StatusTemporaryRedirect)
		case r.URL.Path == "/final":
			f.writePage(w, v)
		default:
			return false
		}
	case KindRedirectLoopback:
		http.Redirect(w, r, "http://127.0.0.2:"+strconv.Itoa(f.HTTPPort())+"/", http.StatusFound)
	case KindRedirectMetadata:
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	case KindSelfSigned, KindExpiredCert:
		if r.TLS == nil {
			http.Redirect(w, r, "https://"+v.name+r.URL.RequestURI(), http.StatusMovedPermanently)
			return true
		}
		return false
	case KindNotFound, KindServerError:
		code := map[Kind]int{KindNotFound: 404, KindServerError: 500}[v.kind]
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(code)
		fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>%d %s</title></head><body><h1>%s</h1></body></html>\n", code, http.StatusText(code), http.StatusText(code))
	default:
		return false
	}
	return true
}

// slowLoris sends headers, then one byte every SlowInterval until the
// client gives up or the farm stops.
func (f *Farm) slowLoris(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	body := []byte("<!DOCTYPE html><html><head><title>slow</title></head><body>")
	t := time.NewTicker(f.cfg.SlowInterval)
	defer t.Stop()
	for i := 0; ; i++ {
		if _, err := w.Write(body[i%len(body) : i%len(body)+1]); err != nil {
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

// resetMidBody promises a whole page, sends a third of it and resets the
// TCP connection (RST, not FIN).
func (f *Farm) resetMidBody(w http.ResponseWriter, v *vhost) {
	body := f.pages[0].body
	if v.page != nil {
		body = v.page.body
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "cannot hijack", http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n", len(body))
	buf.Write(body[:len(body)/3])
	if buf.Flush() != nil {
		return
	}
	resetConn(conn)
}

// resetConn closes conn with a TCP RST.
func resetConn(conn net.Conn) {
	type netConner interface{ NetConn() net.Conn }
	for {
		nc, ok := conn.(netConner)
		if !ok {
			break
		}
		conn = nc.NetConn()
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// hugeBody streams HugeBodySize bytes of HTML with a Content-Length.
func (f *Farm) hugeBody(w http.ResponseWriter) {
	chunk := bytes.Repeat([]byte("<p>aicensus testfarm filler paragraph, repeated to make a very large page.</p>\n"), 840)
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", strconv.FormatInt(f.cfg.HugeBodySize, 10))
	w.WriteHeader(http.StatusOK)
	for left := f.cfg.HugeBodySize; left > 0; {
		n := min(left, int64(len(chunk)))
		if _, err := w.Write(chunk[:n]); err != nil {
			return
		}
		left -= n
	}
}

// gzipBomb sends a small gzip body that inflates to BombSize bytes.
func (f *Farm) gzipBomb(w http.ResponseWriter) {
	b, err := f.bomb()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// bomb builds the gzip bomb once, at first use (about 0.1 s per 128 MiB).
func (f *Farm) bomb() ([]byte, error) {
	f.bombOnce.Do(func() {
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		if err != nil {
			f.bombErr = err
			return
		}
		zero := make([]byte, 1<<20)
		zw.Write([]byte("<!DOCTYPE html><html><body>"))
		for left := f.cfg.BombSize; left > 0; left -= int64(len(zero)) {
			if _, err := zw.Write(zero[:min(left, int64(len(zero)))]); err != nil {
				f.bombErr = err
				return
			}
		}
		if err := zw.Close(); err != nil {
			f.bombErr = err
			return
		}
		f.bombBytes = buf.Bytes()
	})
	if f.bombErr != nil {
		return nil, fmt.Errorf("gzip bomb: %w", f.bombErr)
	}
	return f.bombBytes, nil
}

// errRefused is returned to the TLS stack for hosts that refuse HTTPS.
var errRefused = errors.New("testfarm: https refused for this host")

// refuseTLS resets the raw connection of a ClientHello.
func refuseTLS(conn net.Conn) error {
	resetConn(conn)
	return errRefused
}
