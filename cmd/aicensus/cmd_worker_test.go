package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/testfarm"
)

func runClusterArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(append(args, "--log-level", "error"))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// TestScanClusterCommand runs `aicensus scan --cluster embedded` against a
// test farm, into the store and into Parquet files imported with `worker
// import-parquet`, and checks the usage errors.
func TestScanClusterCommand(t *testing.T) {
	farm, err := testfarm.New(testfarm.Config{Hosts: 20, Seed: 4, NoFaults: true, MaxPages: 30})
	if errors.Is(err, testfarm.ErrNoData) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := farm.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer farm.Close()
	dir := t.TempDir()
	domains := filepath.Join(dir, "domains.txt")
	os.WriteFile(domains, []byte(strings.Join(farm.Domains(), "\n")), 0o644)
	pm := farm.PortMap()
	scanArgs := func(db string, extra ...string) []string {
		return append(append([]string{"scan", "--cluster", "embedded", "--workers", "2", "--unit-size", "4", "--db", db,
			"--resolver", farm.DNSAddr(), "--ca-cert", farm.CAFile(), "--port-map", fmt.Sprintf("80=%d,443=%d", pm[80], pm[443]),
			"--allow-net", "127.0.0.1/32", "--no-progress"}, extra...), domains)
	}

	db := filepath.Join(dir, "a.duckdb")
	out, err := runClusterArgs(t, scanArgs(db, "--json")...)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "\n"); n != len(farm.Domains()) {
		t.Errorf("%d JSON lines for %d domains", n, len(farm.Domains()))
	}

	db2, pq := filepath.Join(dir, "b.duckdb"), filepath.Join(dir, "parquet")
	if _, err := runClusterArgs(t, scanArgs(db2, "--parquet", pq)...); err != nil {
		t.Fatal(err)
	}
	if _, err := runClusterArgs(t, "worker", "import-parquet", pq, "--db", db2); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db2, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := st.LatestScan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := st.StatusCounts(ctx, sc.ID)
	st.Close()
	if err != nil || counts["ok"] == 0 || sc.ID != 1 || sc.State != store.ScanDone {
		t.Errorf("imported scan %d (%s): %v %v", sc.ID, sc.State, counts, err)
	}

	for _, bad := range [][]string{
		{"scan", "--workers", "3", domains},
		{"scan", "--parquet", pq, domains},
		{"scan", "--cluster", "embedded", "-"},
		{"scan", "--cluster", "nats://127.0.0.1:1", "--workers", "2", domains},
		{"worker"},
		{"worker", "--cluster", "embedded"},
		{"worker", "import-parquet", dir},
	} {
		_, err := runClusterArgs(t, bad...)
		var ue usageError
		if err == nil || !errors.As(err, &ue) && !strings.Contains(err.Error(), "no scan") {
			t.Errorf("%v: err = %v, want a usage error", bad, err)
		}
	}
}

// TestDeployCommandLines: the aicensus command lines of docs/deploy (the
// systemd units and the Kubernetes pods) name real subcommands and flags.
func TestDeployCommandLines(t *testing.T) {
	var lines [][]string
	units, _ := filepath.Glob("../../docs/deploy/systemd/aicensus-*.service")
	for _, u := range units {
		b, _ := os.ReadFile(u)
		for _, l := range strings.Split(string(b), "\n") {
			if exec, ok := strings.CutPrefix(l, "ExecStart="); ok {
				f := strings.Fields(exec)
				if f[0] != "/usr/local/bin/aicensus" {
					t.Errorf("%s runs %s", u, f[0])
				}
				lines = append(lines, f[1:])
			}
		}
	}
	for _, m := range []string{"workers.yaml", "scan-job.yaml"} {
		b, err := os.ReadFile(filepath.Join("../../docs/deploy/k8s", m))
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc struct {
				Spec struct {
					Template struct {
						Spec struct {
							Containers []struct{ Args []string }
						}
					}
				}
			}
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			for _, c := range doc.Spec.Template.Spec.Containers {
				lines = append(lines, c.Args)
			}
		}
	}
	if len(lines) != 4 {
		t.Fatalf("%d aicensus command lines, want 2 units and 2 pods", len(lines))
	}
	for _, args := range lines {
		root := newRootCommand()
		cmd, rest, err := root.Find(args)
		if err != nil || (cmd.Name() != "scan" && cmd.Name() != "worker") {
			t.Errorf("%v: %v (%s)", args, err, cmd.Name())
			continue
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if c, _ := cmd.Flags().GetString("cluster"); !strings.HasPrefix(c, "nats://") {
			t.Errorf("%v: --cluster %q", args, c)
		}
		if want := map[string]int{"scan": 1, "worker": 0}[cmd.Name()]; len(cmd.Flags().Args()) != want {
			t.Errorf("%v: positional arguments %v", args, cmd.Flags().Args())
		}
	}
}
