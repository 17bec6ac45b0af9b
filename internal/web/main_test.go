package web_test

import (
	"context"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aicensus/aicensus/internal/report/reporttest"
	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/web"
)

var (
	fixtureOnce sync.Once
	fixture     reporttest.Fixture
	fixtureErr  error
	fixtureDir  string
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// fixtureStore opens the store of real detections (built once per test
// binary by reporttest.Build) read-only, as `aicensus serve` does.
func fixtureStore(t *testing.T) (*store.Store, reporttest.Fixture) {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "web-fixture")
		if fixtureErr == nil {
			fixture, fixtureErr = reporttest.Build(context.Background(), filepath.Join(fixtureDir, "fixture.duckdb"))
		}
	})
	if errors.Is(fixtureErr, reporttest.ErrNoData) {
		t.Skipf("shared corpus not available: %v", fixtureErr)
	}
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	s, err := store.Open(context.Background(), fixture.Path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, fixture
}

// startServer serves the fixture on 127.0.0.1:0 until the test ends and
// returns its base URL.
func startServer(t *testing.T) (string, *store.Store, reporttest.Fixture) {
	t.Helper()
	s, fx := fixtureStore(t)
	srv, err := web.New(web.Config{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- srv.ListenAndServe(ctx, "127.0.0.1:0", func(a net.Addr) { addr <- a.String() })
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return base, s, fx
}
