package cluster

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aicensus/aicensus/internal/dns"
	"github.com/aicensus/aicensus/internal/fetch"
	"github.com/aicensus/aicensus/internal/probe"
)

// fill sets every exported data field of the struct v points to to a
// non-zero value, so that a round trip that drops or mangles any field
// fails. A field of a type it does not know fails the test: add it here.
func fill(t *testing.T, v reflect.Value) {
	t.Helper()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.IsExported() && isData(f.Type) {
			fillValue(t, f.Name, v.Field(i))
		}
	}
}

func fillValue(t *testing.T, name string, v reflect.Value) {
	t.Helper()
	switch {
	case v.Type() == reflect.TypeFor[netip.Prefix]():
		v.Set(reflect.ValueOf(netip.MustParsePrefix("10.1.0.0/16")))
		return
	case v.Type() == reflect.TypeFor[time.Duration]():
		v.SetInt(int64(1234 * time.Millisecond))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("value of " + name)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(9)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(2.5)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		fillValue(t, name, s.Index(0))
		fillValue(t, name, s.Index(1))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillValue(t, name, k)
		fillValue(t, name, e)
		m.SetMapIndex(k, e)
		v.Set(m)
	default:
		t.Fatalf("option %s: type %s: teach the test (and check dataFields carries it)", name, v.Type())
	}
}

// dataOnly zeroes the fields dataFields leaves out, for comparison.
func dataOnly(v any) any {
	rv := reflect.ValueOf(v).Elem()
	out := reflect.New(rv.Type()).Elem()
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		if f.IsExported() && isData(f.Type) {
			out.Field(i).Set(rv.Field(i))
		}
	}
	return out.Interface()
}

// TestOptionsTravel: every data field of fetch.Options, dns.Config and
// probe.Options reaches the worker unchanged, through JSON as in the KV
// bucket.
func TestOptionsTravel(t *testing.T) {
	var fo fetch.Options
	var dc dns.Config
	var po probe.Options
	for _, p := range []any{&fo, &dc, &po} {
		fill(t, reflect.ValueOf(p).Elem())
	}
	cfg, err := newScanConfig(testKey, 4, CatalogSpec{Version: "v"}, fo, dc, po, DefaultSettings().withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeScanConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	gf, gd, gp, err := back.options()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want any }{{&gf, &fo}, {&gd, &dc}, {&gp, &po}} {
		if g, w := dataOnly(c.got), dataOnly(c.want); !reflect.DeepEqual(g, w) {
			t.Errorf("options changed on the way:\n got %+v\nwant %+v", g, w)
		}
	}
	// Fields the coordinator did not send keep the worker's defaults.
	delete(back.Fetch, "UserAgent")
	gf, _, _, _ = back.options()
	if gf.UserAgent != fetch.DefaultUserAgent() {
		t.Errorf("missing UserAgent became %q", gf.UserAgent)
	}
}

// TestUnknownOption: a newer coordinator's option this worker does not
// know stops the worker from running the scan, unless it is zero.
func TestUnknownOption(t *testing.T) {
	var fo fetch.Options
	if err := setDataFields(&fo, map[string]json.RawMessage{"FutureKnob": json.RawMessage(`0`), "OtherKnob": json.RawMessage(`[]`)}); err != nil {
		t.Errorf("zero unknown option refused: %v", err)
	}
	err := setDataFields(&fo, map[string]json.RawMessage{"FutureKnob": json.RawMessage(`3`)})
	if err == nil || !strings.Contains(err.Error(), "FutureKnob") {
		t.Errorf("unknown option accepted: %v", err)
	}
	err = setDataFields(&fo, map[string]json.RawMessage{"MaxScripts": json.RawMessage(`"five"`)})
	if err == nil {
		t.Error("mistyped option accepted")
	}
}

func TestDecodeScanConfig(t *testing.T) {
	good := ScanConfig{Version: 1, Key: testKey, ScanID: 2, Heartbeat: time.Second, MaxAttempts: 3}
	for name, c := range map[string]ScanConfig{
		"newer":        {Version: 2, Key: testKey, ScanID: 2, Heartbeat: time.Second, MaxAttempts: 3},
		"bad key":      {Version: 1, Key: "x", ScanID: 2, Heartbeat: time.Second, MaxAttempts: 3},
		"no scan":      {Version: 1, Key: testKey, Heartbeat: time.Second, MaxAttempts: 3},
		"no heartbeat": {Version: 1, Key: testKey, ScanID: 2, MaxAttempts: 3},
	} {
		b, _ := json.Marshal(c)
		if _, err := decodeScanConfig(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	b, _ := json.Marshal(good)
	if _, err := decodeScanConfig(b); err != nil {
		t.Error(err)
	}
	if _, err := decodeScanConfig([]byte("{")); err == nil {
		t.Error("garbage accepted")
	}
}

// TestCatalogMismatch: a worker whose catalog differs from the scan's
// refuses it, naming both versions.
func TestCatalogMismatch(t *testing.T) {
	det, err := detectorOnce()
	if err != nil {
		t.Fatal(err)
	}
	spec := CatalogSpec{Version: det.Catalog().Version()}
	if _, err := spec.Detector(nil); err != nil {
		t.Fatalf("same catalog refused: %v", err)
	}
	extra := filepath.Join(t.TempDir(), "extra.json")
	os.WriteFile(extra, []byte(`{"categories": {"1": {"name": "CMS", "priority": 1}},
		"technologies": {"Thing": {"cats": [1], "website": "https://thing.test", "html": "thing"}}}`), 0o644)
	_, err = spec.Detector([]string{extra})
	if !errors.Is(err, ErrCatalogMismatch) || !strings.Contains(err.Error(), spec.Version) {
		t.Fatalf("err = %v, want a catalog mismatch naming %s", err, spec.Version)
	}
}
