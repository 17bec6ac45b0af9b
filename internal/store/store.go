package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
)

// DefaultPath is the store file used when no path is given.
const DefaultPath = "aicensus.duckdb"

// Errors returned by the store; test with errors.Is.
var (
	// ErrSchemaTooNew means the file was written by a newer aicensus whose
	// schema this binary does not know.
	ErrSchemaTooNew = errors.New("store schema is newer than this aicensus supports")
	// ErrSchemaOutdated means a read-only open found a file that needs
	// migrations this binary would apply on a read-write open.
	ErrSchemaOutdated = errors.New("store schema is older than this aicensus; open it read-write once to upgrade")
	// ErrNotStore means the file is a DuckDB database that aicensus did not create.
	ErrNotStore = errors.New("not an aicensus store")
	// ErrNotFound means the requested scan does not exist.
	ErrNotFound = errors.New("not found")
	// ErrClosed means the Store or Writer was closed.
	ErrClosed = errors.New("closed")
	// ErrWriterBusy means the Store already has an open Writer.
	ErrWriterBusy = errors.New("store already has an open writer")
	// ErrInvalid means a record or argument was rejected before it was stored.
	ErrInvalid = errors.New("invalid")
)

// Options configure Open. The zero value opens read-write with DuckDB's
// defaults.
type Options struct {
	// ReadOnly opens the file without write access: several read-only
	// processes may share a file, but not with a read-write one (DuckDB
	// locks the file). A read-only open never migrates.
	ReadOnly bool
	// Threads caps DuckDB's worker threads (0: one per CPU).
	Threads int
	// MemoryLimit caps DuckDB's buffer memory, e.g. "2GB" ("" : DuckDB's
	// default, 80% of RAM). Larger work spills to <file>.tmp.
	MemoryLimit string
	// CheckpointThreshold is the WAL size at which DuckDB checkpoints, e.g.
	// "4MB" ("": DuckDB's default, 16MB). Smaller values keep the memory a
	// checkpoint takes small during long append-only runs.
	CheckpointThreshold string
}

// Store is an open aicensus store. All methods are safe for concurrent use.
// Close it when done; it closes an open Writer first.
type Store struct {
	db       *sql.DB
	path     string
	readOnly bool
	version  int

	mu     sync.Mutex
	writer *Writer
	closed bool
}

// Open opens or creates the store at path (DefaultPath when empty) and
// brings its schema up to date. Opening a file with a newer schema fails with
// ErrSchemaTooNew; a read-only open of an older schema fails with
// ErrSchemaOutdated.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	return open(ctx, path, opts, migrations())
}

func open(ctx context.Context, path string, opts Options, migs []migration) (*Store, error) {
	if path == "" {
		path = DefaultPath
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open store %s: %w: path must not contain '?' or '#'", path, ErrInvalid)
	}
	q := url.Values{}
	if opts.ReadOnly {
		q.Set("access_mode", "read_only")
	}
	if opts.Threads > 0 {
		q.Set("threads", fmt.Sprint(opts.Threads))
	}
	if opts.MemoryLimit != "" {
		q.Set("memory_limit", opts.MemoryLimit)
	}
	if opts.CheckpointThreshold != "" {
		q.Set("checkpoint_threshold", opts.CheckpointThreshold)
	}
	dsn := path
	if len(q) > 0 {
		dsn += "?" + q.Encode()
	}
	conn, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db := sql.OpenDB(conn)
	// DuckDB runs queries on its own threads; a few Go connections are
	// enough for concurrent readers plus the writer.
	db.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
	s := &Store{db: db, path: path, readOnly: opts.ReadOnly}
	if err := s.migrate(ctx, migs); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// DB returns the underlying database for read queries (reports). Callers
// must not write to the tables Writer owns; the schema is in docs/store.md.
func (s *Store) DB() *sql.DB { return s.db }

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// SchemaVersion returns the schema version of the open file.
func (s *Store) SchemaVersion() int { return s.version }

// Close closes the open Writer (flushing it), then the database. It is safe
// to call more than once.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	w := s.writer
	s.mu.Unlock()
	var werr error
	if w != nil {
		werr = w.Close()
	}
	return errors.Join(werr, s.db.Close())
}
