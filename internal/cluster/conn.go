package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// connect dials the cluster (URL may list several servers separated by
// commas) and keeps reconnecting for ever: a NATS restart or a node failure
// pauses aicensus, it does not stop it. The first connection is retried
// until ctx ends.
func connect(ctx context.Context, url, name string, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		nats.ReconnectBufSize(64 << 20),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("cluster connection lost", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("cluster connection back", "server", c.ConnectedUrlRedacted()) }),
	}
	backoff := 100 * time.Millisecond
	for {
		nc, err := nats.Connect(url, opts...)
		if err == nil {
			js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(256))
			if err != nil {
				nc.Close()
				return nil, nil, fmt.Errorf("cluster %s: %w", url, err)
			}
			return nc, js, nil
		}
		log.Warn("cannot reach the cluster; retrying", "url", url, "err", err)
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("cluster %s: %w", url, err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// Embedded is a NATS server with JetStream running inside this process
// (`--cluster embedded`). It listens on 127.0.0.1 so that workers in other
// processes on this machine can join. Its methods are safe for concurrent
// use; Shutdown must be called once.
type Embedded struct {
	srv *server.Server
	dir string
	own bool
}

// EmbeddedOptions configure StartEmbedded. The zero value listens on a
// random port and keeps JetStream's files in a temporary directory that
// Shutdown removes.
type EmbeddedOptions struct {
	// Dir holds JetStream's file store; kept after Shutdown when set, so a
	// restarted server (same Dir, same Port) finds its streams again.
	Dir string
	// Port to listen on (0: a random free port).
	Port int
	// Log receives the server's notices and errors (nil: none).
	Log *slog.Logger
}

// StartEmbedded starts an in-process NATS server with JetStream and file
// storage and returns once it accepts connections.
func StartEmbedded(o EmbeddedOptions) (*Embedded, error) {
	e := &Embedded{dir: o.Dir}
	if e.dir == "" {
		d, err := os.MkdirTemp("", "aicensus-nats-")
		if err != nil {
			return nil, fmt.Errorf("cluster: embedded server: %w", err)
		}
		e.dir, e.own = d, true
	}
	port := o.Port
	if port == 0 {
		port = -1 // random
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: "aicensus-embedded",
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   e.dir,
		NoSigs:     true,
		NoLog:      o.Log == nil,
		MaxPayload: 8 << 20,
	})
	if err != nil {
		e.cleanup()
		return nil, fmt.Errorf("cluster: embedded server: %w", err)
	}
	if o.Log != nil {
		srv.SetLoggerV2(slogLogger{o.Log}, false, false, false)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		e.cleanup()
		return nil, fmt.Errorf("cluster: embedded server did not start within 30s")
	}
	e.srv = srv
	return e, nil
}

// URL is the server's client URL, nats://127.0.0.1:PORT.
func (e *Embedded) URL() string { return e.srv.ClientURL() }

// Port is the port the server listens on.
func (e *Embedded) Port() int {
	if a, ok := e.srv.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// Dir is the JetStream store directory.
func (e *Embedded) Dir() string { return e.dir }

// Shutdown stops the server (flushing its streams) and removes the store
// directory when StartEmbedded created it.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	e.cleanup()
}

func (e *Embedded) cleanup() {
	if e.own {
		os.RemoveAll(e.dir)
	}
}

// slogLogger adapts slog to the server's logger interface.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Noticef(format string, v ...any) { s.l.Debug("nats: " + fmt.Sprintf(format, v...)) }
func (s slogLogger) Warnf(format string, v ...any)   { s.l.Warn("nats: " + fmt.Sprintf(format, v...)) }
func (s slogLogger) Fatalf(format string, v ...any)  { s.l.Error("nats: " + fmt.Sprintf(format, v...)) }
func (s slogLogger) Errorf(format string, v ...any)  { s.l.Error("nats: " + fmt.Sprintf(format, v...)) }
func (s slogLogger) Debugf(format string, v ...any)  { s.l.Debug("nats: " + fmt.Sprintf(format, v...)) }
func (s slogLogger) Tracef(format string, v ...any)  {}
