package hf

import (
	"fmt"
	"strconv"

	"github.com/aicensus/aicensus/internal/supply/result"
)

// Rows flattens r for table and CSV output and for storage.
func (r Report) Rows() []result.Row {
	rows := []result.Row{
		{Scope: "models", Metric: "models", Value: float64(r.Models), Universe: r.Universe},
		{Scope: "models", Metric: "disabled", Value: float64(r.Disabled), Universe: r.Universe},
		{Scope: "authors", Metric: "authors", Value: float64(r.Authors), Universe: "distinct authors of " + r.Universe},
	}
	for _, f := range r.Fields {
		rows = append(rows, f.rows("models")...)
	}
	for _, f := range r.AuthorFields {
		rows = append(rows, f.rows("authors")...)
	}
	u := fmt.Sprintf("models by %s, excluding %d placeholder and %d missing dates (lower bound)", r.CreatedAtSource, r.CreatedAtPlaceholder, r.CreatedAtMissing)
	for _, q := range r.UploadsPerQuarter {
		rows = append(rows,
			result.Row{Scope: "models", Metric: "uploads_per_quarter", Field: FieldCreatedAt, Key: q.Quarter, Value: float64(q.Models), Universe: u},
			result.Row{Scope: "authors", Metric: "active_authors_per_quarter", Field: FieldCreatedAt, Key: q.Quarter, Value: float64(q.ActiveAuthors), Universe: u},
			result.Row{Scope: "authors", Metric: "new_authors_per_quarter", Field: FieldCreatedAt, Key: q.Quarter, Value: float64(q.NewAuthors), Universe: u})
	}
	return rows
}

func (f FieldStats) rows(scope string) []result.Row {
	field := f.Field
	if f.SourceField != f.Field {
		field = f.Field + " (from " + f.SourceField + ")"
	}
	row := func(metric, key string, v float64) result.Row {
		return result.Row{Scope: scope, Metric: metric, Field: field, Key: key, Value: v, Universe: f.Universe}
	}
	out := []result.Row{
		row("items", "", float64(f.Items)),
		row("missing", "", float64(f.Missing)),
		row("total", "", f.Total),
		row("median", "", float64(f.Median)),
		row("max", "", float64(f.Max)),
	}
	for _, b := range f.ShareBelow {
		out = append(out, row("share_below", "k="+strconv.FormatInt(b.Below, 10), b.Share))
	}
	for _, t := range f.TopShare {
		out = append(out, row("top_share", "p="+strconv.FormatFloat(t.P, 'f', -1, 64), t.Share))
	}
	out = append(out, row("gini", "", f.Gini), row("hhi", "", f.HHI))
	for _, p := range f.Lorenz {
		out = append(out, row("lorenz", "population="+strconv.FormatFloat(p.Population, 'f', 4, 64), p.Value))
	}
	return out
}
