package cluster

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"go.yaml.in/yaml/v3"
)

const deployDir = "../../docs/deploy"

// checkNATSConfig parses a nats-server configuration with the server's own
// parser and checks what aicensus needs: JetStream on file storage, a
// 3-server cluster, and a max payload above the bus's message sizes.
func checkNATSConfig(t *testing.T, path string) *server.Options {
	t.Helper()
	o, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	switch {
	case !o.JetStream || o.StoreDir == "":
		t.Errorf("%s: JetStream %v, store dir %q", path, o.JetStream, o.StoreDir)
	case o.Cluster.Name == "" || o.Cluster.Port == 0 || len(o.Routes) != 3:
		t.Errorf("%s: cluster %q port %d with %d routes, want 3", path, o.Cluster.Name, o.Cluster.Port, len(o.Routes))
	case o.MaxPayload < 4<<20:
		t.Errorf("%s: max_payload %d", path, o.MaxPayload)
	case o.ServerName == "":
		t.Errorf("%s: no server_name", path)
	}
	return o
}

func TestDeployNATSConfigs(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(deployDir, "nats", "*.conf"))
	if len(files) != 3 {
		t.Fatalf("%d NATS configurations, want 3", len(files))
	}
	names := map[string]bool{}
	for _, f := range files {
		names[checkNATSConfig(t, f).ServerName] = true
	}
	if len(names) != 3 {
		t.Errorf("server names %v are not distinct", names)
	}
}

// k8sDocs decodes every document of the Kubernetes manifests.
func k8sDocs(t *testing.T) []map[string]any {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(deployDir, "k8s", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no manifests")
	}
	var docs []map[string]any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if doc["apiVersion"] == nil || doc["kind"] == nil {
				t.Errorf("%s: a document without apiVersion or kind", f)
			}
			docs = append(docs, doc)
		}
	}
	return docs
}

// dig follows keys (string) and indexes (int) into decoded YAML.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

// TestDeployKubernetes checks the manifests: a 3-server NATS StatefulSet
// with volumes and a configuration the server accepts, the worker
// Deployment and the scan Job (cmd/aicensus checks their command lines).
func TestDeployKubernetes(t *testing.T) {
	byKind := map[string]map[string]any{}
	for _, d := range k8sDocs(t) {
		byKind[d["kind"].(string)] = d
		if d["kind"] != "Namespace" && dig(d, "metadata", "namespace") != "aicensus" {
			t.Errorf("%s %v: not in namespace aicensus", d["kind"], dig(d, "metadata", "name"))
		}
	}
	for _, k := range []string{"Namespace", "ConfigMap", "Service", "StatefulSet", "Deployment", "Job", "PersistentVolumeClaim"} {
		if byKind[k] == nil {
			t.Errorf("no %s", k)
		}
	}
	sts := byKind["StatefulSet"]
	if dig(sts, "spec", "replicas") != 3 || dig(sts, "spec", "volumeClaimTemplates", 0, "metadata", "name") != "data" {
		t.Errorf("NATS StatefulSet: replicas %v, volume claim %v", dig(sts, "spec", "replicas"), dig(sts, "spec", "volumeClaimTemplates"))
	}
	// The NATS configuration in the ConfigMap parses with the server's
	// parser (POD_NAME comes from the pod's environment).
	conf, _ := dig(byKind["ConfigMap"], "data", "nats.conf").(string)
	p := filepath.Join(t.TempDir(), "nats.conf")
	os.WriteFile(p, []byte(conf), 0o644)
	t.Setenv("POD_NAME", "nats-1")
	if o := checkNATSConfig(t, p); o.ServerName != "nats-1" {
		t.Errorf("server_name = %q, want the pod name", o.ServerName)
	}
	for kind, sub := range map[string]string{"Deployment": "worker", "Job": "scan"} {
		args, _ := dig(byKind[kind], "spec", "template", "spec", "containers", 0, "args").([]any)
		if len(args) < 3 || args[0] != sub || !strings.Contains(strings.Join(toStrings(args), " "), "--cluster nats://nats:4222") {
			t.Errorf("%s runs %v", kind, args)
		}
	}
}

func toStrings(v []any) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i], _ = x.(string)
	}
	return out
}

// TestDeploySystemdUnits checks the units' shape; cmd/aicensus checks that
// their aicensus command lines parse.
func TestDeploySystemdUnits(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(deployDir, "systemd", "*.service"))
	if len(files) != 3 {
		t.Fatalf("%d units, want nats-server, worker and scan", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sections := map[string]map[string]string{}
		var cur map[string]string
		for i, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
				cur = map[string]string{}
				sections[line[1:len(line)-1]] = cur
			case cur == nil || !strings.Contains(line, "="):
				t.Errorf("%s:%d: %q", f, i+1, line)
			default:
				k, v, _ := strings.Cut(line, "=")
				cur[k] = v
			}
		}
		for _, s := range []string{"Unit", "Service", "Install"} {
			if sections[s] == nil {
				t.Errorf("%s: no [%s]", f, s)
			}
		}
		if exec := sections["Service"]["ExecStart"]; !strings.HasPrefix(exec, "/") || sections["Service"]["Restart"] == "" {
			t.Errorf("%s: ExecStart %q, Restart %q", f, exec, sections["Service"]["Restart"])
		}
	}
}
