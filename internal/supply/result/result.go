package result

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
)

// Row is one measured number. Every field is plain text meant for people and
// SQL: Metric uses the same names as the JSON output (models, share_below,
// top_share, gini, ...).
type Row struct {
	// Scope is what was measured: "models", "authors", "repos", "ai_repos",
	// "repo=owner/name", "ecosystem=npm", ...
	Scope string `json:"scope"`
	// Metric is the measure's name.
	Metric string `json:"metric"`
	// Field is the input field measured ("downloadsAllTime", "stars"), or "".
	Field string `json:"field,omitempty"`
	// Key qualifies the metric: "k=200", "p=0.0001", "2024Q1", "sdk=openai".
	Key string `json:"key,omitempty"`
	// Value is the number.
	Value float64 `json:"value"`
	// Universe says which items the value is over, e.g.
	// "models with downloadsAllTime (N=2431)".
	Universe string `json:"universe,omitempty"`
}

// Format names an output format.
type Format string

// Output formats accepted by the supply, deps and agents commands.
const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatCSV   Format = "csv"
)

// ParseFormat validates a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatTable, FormatJSON, FormatCSV:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want table, json or csv)", s)
}

// FormatValue prints integers without a fraction and other values with six
// significant digits; NaN and infinities print as "".
func FormatValue(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return ""
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// Write prints rows as an aligned table or CSV, or report (any value that
// marshals to JSON, normally the typed report the rows came from) as
// indented JSON.
func Write(w io.Writer, f Format, report any, rows []Row) error {
	switch f {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return fmt.Errorf("write json: %w", err)
		}
		return nil
	case FormatCSV:
		return writeCSV(w, rows)
	default:
		return writeTable(w, rows)
	}
}

func writeCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"scope", "metric", "field", "key", "value", "universe"})
	for _, r := range rows {
		_ = cw.Write([]string{r.Scope, r.Metric, r.Field, r.Key, FormatValue(r.Value), r.Universe})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

func writeTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCOPE\tMETRIC\tFIELD\tKEY\tVALUE\tUNIVERSE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Scope, r.Metric, r.Field, r.Key, FormatValue(r.Value), r.Universe)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}
