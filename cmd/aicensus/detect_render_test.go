package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/render"
)

// TestDetectRender runs `aicensus detect --render --json` over a local page
// whose widget exists only once its script runs, next to a saved file, and
// a private address that must be refused.
func TestDetectRender(t *testing.T) {
	if render.FindBrowser() == "" {
		t.Skip("chromium not installed: detect --render not tested")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<!DOCTYPE html><title>shop</title><p>hello</p><script src="/w.js" async></script>`)
		case "/w.js":
			w.Header().Set("Content-Type", "application/javascript")
			fmt.Fprint(w, `window["bot"+"press"] = {init: function () {}}; var b = document.createElement("button"); b.className = "bpFab"; document.body.appendChild(b);`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	saved := filepath.Join(t.TempDir(), "saved.html")
	if err := os.WriteFile(saved, []byte(`<script src="https://cdn.voiceflow.com/widget-next/bundle.mjs"></script>`), 0o644); err != nil {
		t.Fatal(err)
	}
	o := &detectOptions{json: true, workers: 1}
	o.render.enabled, o.render.tabs, o.render.timeout = true, 2, render.DefaultOptions().PageTimeout
	o.render.allowNets = []string{"127.0.0.1/32"}
	var out bytes.Buffer
	err := runDetect(context.Background(), o, []string{srv.URL + "/", "http://127.0.0.2:8080/", saved}, nil, &out, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&out)
	var recs []detectRecord
	for dec.More() {
		var r detectRecord
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3: %+v", len(recs), recs)
	}
	page, private, file := recs[0], recs[1], recs[2]
	if page.Status != string(model.StatusOK) || len(page.Detections) != 1 || page.Detections[0].Technology != "Botpress" || !page.Detections[0].NeedsBrowser() {
		t.Errorf("rendered page: %+v", page)
	}
	if private.Status != string(model.StatusBlockedPrivate) || len(private.Blocked) == 0 {
		t.Errorf("private address: %+v", private)
	}
	if file.Target != saved || len(file.Detections) != 1 || file.Detections[0].Technology != "Voiceflow" {
		t.Errorf("saved file: %+v", file)
	}
}
