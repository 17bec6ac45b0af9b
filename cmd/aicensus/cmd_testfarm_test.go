package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/aicensus/aicensus/internal/testfarm"
)

func TestTestfarmCommand(t *testing.T) {
	if _, _, err := testfarm.LocateData(""); err != nil {
		t.Skip("shared data not found:", err)
	}
	out := filepath.Join(t.TempDir(), "farm")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout bytes.Buffer
	done := make(chan error, 1)
	cfg := testfarm.Config{Hosts: 20, MaxPages: 30}
	go func() { done <- runTestfarm(ctx, cfg, out, slog.New(slog.NewTextHandler(io.Discard, nil)), &stdout) }()

	env := waitEnv(t, filepath.Join(out, testfarm.FileEnv), done)
	for _, f := range []string{testfarm.FileCA, testfarm.FileDomains, testfarm.FileTruth} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	domains, err := os.ReadFile(env["FARM_DOMAINS"])
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(domains), "\n")
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(first), mdns.TypeA)
	r, _, err := (&mdns.Client{Timeout: 2 * time.Second}).Exchange(m, env["FARM_DNS"])
	if err != nil || len(r.Answer) != 1 {
		t.Fatalf("farm DNS for %s: %v %v", first, r, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runTestfarm: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("runTestfarm did not stop after cancel")
	}
	if !strings.Contains(stdout.String(), "FARM_DNS="+env["FARM_DNS"]) {
		t.Errorf("stdout lacks the env lines: %q", stdout.String())
	}
}

// waitEnv waits for the env file (the ready signal) and parses it.
func waitEnv(t *testing.T, path string, done <-chan error) map[string]string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			env := map[string]string{}
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				k, v, _ := strings.Cut(l, "=")
				env[k] = v
			}
			return env
		}
		select {
		case err := <-done:
			t.Fatalf("runTestfarm ended early: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("farm.env never appeared")
		}
	}
}

func TestTestfarmCommandUsage(t *testing.T) {
	for _, args := range [][]string{{"testfarm"}, {"testfarm", "--out", "x", "--error-page-status", "nope"}} {
		root := newRootCommand()
		root.SetArgs(args)
		root.SetOut(io.Discard)
		err := root.ExecuteContext(context.Background())
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
