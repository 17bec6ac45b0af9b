package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
)

// testMigrationNext stands in for a future migration, one past the
// newest this binary knows.
func testMigrationNext() migration {
	return migration{version: SupportedSchemaVersion() + 1, name: "test: future", stmts: []string{
		`CREATE TABLE future_things (domain VARCHAR NOT NULL, name VARCHAR)`,
		`ALTER TABLE results ADD COLUMN company VARCHAR`,
	}}
}

func tableExists(t *testing.T, s *Store, name string) bool {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM duckdb_tables() WHERE table_name = ?`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestMigrateOldFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	v1 := []migration{migration1()}
	old, err := open(ctx, path, Options{}, v1)
	if err != nil {
		t.Fatal(err)
	}
	sc := newScan(t, old, KindLive)
	w, err := old.NewWriter(WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 30; i++ {
		if err := w.Write(ctx, sampleResult(sc.ID, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	// A read-only open by a newer binary refuses to migrate.
	if _, err := open(ctx, path, Options{ReadOnly: true}, append(migrations(), testMigrationNext())); !errors.Is(err, ErrSchemaOutdated) {
		t.Fatalf("read-only open of an old file = %v, want ErrSchemaOutdated", err)
	}

	// A read-write open by the newer binary migrates (through every
	// migration of this binary, then the future one) and keeps the data.
	next := testMigrationNext().version
	s, err := open(ctx, path, Options{}, append(migrations(), testMigrationNext()))
	if err != nil {
		t.Fatal(err)
	}
	if s.SchemaVersion() != next || !tableExists(t, s, "companies") || !tableExists(t, s, "future_things") {
		t.Errorf("after migration: version %d, companies table %v", s.SchemaVersion(), tableExists(t, s, "companies"))
	}
	var versions, results int
	if err := s.DB().QueryRow(`SELECT count(*) FROM schema_version`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().QueryRow(`SELECT count(*) FROM results WHERE company IS NULL`).Scan(&results); err != nil {
		t.Fatal(err)
	}
	if versions != next || results != 30 {
		t.Errorf("schema_version rows %d, results %d; want %d, 30", versions, results, next)
	}
	if got := collect(t, s, sc.ID); len(got) != 30 || len(got[6].Detections) == 0 {
		t.Errorf("read back %d results after migration", len(got))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The current binary refuses the newer file.
	_, err = Open(ctx, path, Options{})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer file = %v, want ErrSchemaTooNew", err)
	}
	t.Log(err)
}

func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.duckdb")
	s, err := open(ctx, path, Options{}, []migration{migration1()})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	bad := migration{version: 2, name: "broken", stmts: []string{
		`CREATE TABLE companies (domain VARCHAR)`,
		`ALTER TABLE no_such_table ADD COLUMN x INTEGER`,
	}}
	if _, err := open(ctx, path, Options{}, []migration{migration1(), bad}); err == nil {
		t.Fatal("broken migration applied")
	}
	s, err = open(ctx, path, Options{}, []migration{migration1()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.SchemaVersion() != 1 || tableExists(t, s, "companies") {
		t.Errorf("after failed migration: version %d, companies %v", s.SchemaVersion(), tableExists(t, s, "companies"))
	}
}

func TestOpenForeignDatabases(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rawExec := func(path, q string) {
		t.Helper()
		c, err := duckdb.NewConnector(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(c)
		defer db.Close()
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	// Other packages' tables in the same file (supplydb) are left alone.
	shared := filepath.Join(dir, "shared.duckdb")
	rawExec(shared, `CREATE TABLE supply_runs (run_id VARCHAR)`)
	s, err := Open(ctx, shared, Options{})
	if err != nil {
		t.Fatalf("open a file with foreign tables: %v", err)
	}
	if s.SchemaVersion() != SupportedSchemaVersion() || !tableExists(t, s, "supply_runs") {
		t.Errorf("version %d", s.SchemaVersion())
	}
	s.Close()
	// A file with a table named like ours but no schema_version is refused.
	foreign := filepath.Join(dir, "foreign.duckdb")
	rawExec(foreign, `CREATE TABLE results (x INTEGER)`)
	if _, err := Open(ctx, foreign, Options{}); !errors.Is(err, ErrNotStore) {
		t.Errorf("Open(foreign) = %v, want ErrNotStore", err)
	}
	// Read-only open of a missing file fails; of a current file works.
	if _, err := Open(ctx, filepath.Join(dir, "missing.duckdb"), Options{ReadOnly: true}); err == nil {
		t.Error("read-only open of a missing file succeeded")
	}
	ro, err := Open(ctx, shared, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.NewWriter(WriterOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("NewWriter on read-only store = %v", err)
	}
}
