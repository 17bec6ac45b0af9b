package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/aicensus/aicensus/internal/report"
	"github.com/aicensus/aicensus/internal/store"
)

// DefaultAddr is where Serve listens by default: loopback only.
const DefaultAddr = "127.0.0.1:8080"

// Config configures a Server.
type Config struct {
	// Store is the store to show; open it read-only. Required.
	Store *store.Store
	// Logger receives one line per failed request (nil: discard).
	Logger *slog.Logger
	// CacheSize is how many built reports are kept (default 32).
	CacheSize int
	// BuildTimeout bounds one report computation (default 2 minutes).
	BuildTimeout time.Duration
}

// Server is the dashboard. Its methods are safe for concurrent use.
type Server struct {
	cfg   Config
	pages *pages
	mux   *http.ServeMux

	mu     sync.Mutex
	cache  map[string]*report.Report
	order  []string // cache keys, oldest first
	calls  map[string]*call
	builds sync.WaitGroup // report computations in flight

	// baseCtx is the context of the running Serve (cancelled at shutdown);
	// shared report computations run under it, not under one request's.
	baseMu  sync.Mutex
	baseCtx context.Context
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("web: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 32
	}
	if cfg.BuildTimeout <= 0 {
		cfg.BuildTimeout = 2 * time.Minute
	}
	p, err := newPages()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, pages: p, cache: map[string]*report.Report{}, calls: map[string]*call{}, baseCtx: context.Background()}
	s.mux = http.NewServeMux()
	s.routes()
	return s, nil
}

// Handler returns the dashboard's handler (without the loopback Host check
// that Serve adds).
func (s *Server) Handler() http.Handler { return s.mux }

// ListenAndServe listens on addr (DefaultAddr when empty) and serves until
// ctx ends; see Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	if addr == "" {
		addr = DefaultAddr
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("web: listen %s: %w", addr, err)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends, then shuts down gracefully (in-flight
// requests get 5 s), waits for report computations to stop and returns nil;
// it returns an error if serving fails. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.baseMu.Lock()
	s.baseCtx = ctx
	s.baseMu.Unlock()
	h := http.Handler(s.mux)
	if isLoopback(ln.Addr()) {
		h = loopbackOnly(h)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      s.cfg.BuildTimeout + 30*time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("web: serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, scancel := context.WithTimeout(context.WithoutCancel(gctx), 5*time.Second)
		defer scancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		return nil
	})
	err := g.Wait()
	cancel()
	s.builds.Wait()
	return err
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// loopbackOnly refuses requests whose Host is not a loopback name, so a web
// page on another site cannot read the dashboard through DNS rebinding.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(strings.ToLower(host), "[]")
		if ip := net.ParseIP(host); !(host == "localhost" || ip != nil && ip.IsLoopback()) {
			http.Error(w, "this dashboard only answers to localhost", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// call is one report computation shared by concurrent requests.
type call struct {
	done chan struct{}
	r    *report.Report
	err  error
}

// build returns the report for opts, from the cache or computed once for
// all concurrent callers. The computation runs in a goroutine the Server
// owns (Serve waits for it), under the serving context, so a caller that
// goes away does not cancel it for the others.
func (s *Server) build(ctx context.Context, opts report.Options) (*report.Report, error) {
	key := fmt.Sprintf("%+v", opts)
	s.mu.Lock()
	if r, ok := s.cache[key]; ok {
		s.mu.Unlock()
		return r, nil
	}
	c, ok := s.calls[key]
	if !ok {
		c = &call{done: make(chan struct{})}
		s.calls[key] = c
		s.baseMu.Lock()
		base := s.baseCtx
		s.baseMu.Unlock()
		s.builds.Go(func() {
			bctx, cancel := context.WithTimeout(base, s.cfg.BuildTimeout)
			defer cancel()
			r, err := report.Build(bctx, s.cfg.Store, opts)
			s.mu.Lock()
			c.r, c.err = r, err
			delete(s.calls, key)
			if err == nil {
				s.remember(key, r)
			}
			s.mu.Unlock()
			close(c.done)
		})
	}
	s.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return c.r, c.err
	}
}

// remember caches r; s.mu must be held.
func (s *Server) remember(key string, r *report.Report) {
	s.cache[key] = r
	s.order = append(s.order, key)
	for len(s.order) > s.cfg.CacheSize {
		delete(s.cache, s.order[0])
		s.order = s.order[1:]
	}
}
