package result

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestFormatValue(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{{3, "3"}, {0.5, "0.5"}, {1.0 / 3, "0.333333"}, {2.5e9, "2500000000"}, {math.NaN(), ""}, {1e20, "1e+20"}}
	for _, tc := range tests {
		if got := FormatValue(tc.v); got != tc.want {
			t.Errorf("FormatValue(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestWrite(t *testing.T) {
	rows := []Row{{Scope: "models", Metric: "gini", Field: "downloads", Value: 0.9, Universe: "all, N=3"}, {Scope: "models", Metric: "share_below", Key: "k=200", Value: 0.5}}
	var b bytes.Buffer
	if err := Write(&b, FormatCSV, nil, rows); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][1] != "gini" || recs[1][5] != "all, N=3" || recs[2][4] != "0.5" {
		t.Fatalf("csv = %v, %v", recs, err)
	}
	b.Reset()
	if err := Write(&b, FormatTable, nil, rows); err != nil || !strings.Contains(b.String(), "share_below") || !strings.HasPrefix(b.String(), "SCOPE") {
		t.Fatalf("table = %q, %v", b.String(), err)
	}
	b.Reset()
	if err := Write(&b, FormatJSON, map[string]float64{"gini": 0.9}, rows); err != nil {
		t.Fatal(err)
	}
	var back map[string]float64
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["gini"] != 0.9 {
		t.Fatalf("json = %q, %v", b.String(), err)
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Fatal("ParseFormat accepted xml")
	}
}
