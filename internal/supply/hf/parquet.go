package hf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// parquetAliases maps a canonical field to the top-level source columns that
// may hold it, in order of preference.
var parquetAliases = map[string][]string{
	"id":                  {"id", "modelId"},
	"author":              {"author"},
	FieldDownloads:        {"downloads"},
	FieldDownloadsAllTime: {"downloadsAllTime", "downloads_all_time"},
	FieldLikes:            {"likes"},
	FieldCreatedAt:        {"createdAt", "created_at"},
	"disabled":            {"disabled"},
}

// ErrNoIDColumn is returned (wrapped) for a Parquet file without an id or
// modelId column: without it the rows are not models.
var ErrNoIDColumn = errors.New("no id or modelId column")

// LoadParquet reads the model rows of a hub-stats style Parquet file, or of
// every file a glob pattern matches, with parquet-go column reads. Columns
// are matched by name (see parquetAliases); counts may be any integer or
// floating type or numeric strings (negative or unparsable values become
// Missing), createdAt a TIMESTAMP (any unit), DATE, INT96, epoch
// milliseconds or an ISO 8601 string (UTC unless it carries an offset).
// Absent columns are Missing in every row and have no Sources entry.
//
// With keepIDs false IDs are left "" (a single snapshot needs no
// de-duplication, and 3 million id strings cost more than all metrics).
func LoadParquet(ctx context.Context, pattern string, keepIDs bool) (*Models, error) {
	paths := []string{pattern}
	if strings.ContainsAny(pattern, "*?[") {
		var err error
		if paths, err = filepath.Glob(pattern); err != nil || len(paths) == 0 {
			return nil, fmt.Errorf("read %s: no file matches (%v)", pattern, err)
		}
	}
	all := &Models{}
	for _, p := range paths {
		m, err := loadParquetFile(ctx, p, keepIDs)
		if err != nil {
			return nil, err
		}
		if len(paths) == 1 {
			return m, nil
		}
		all.appendAll(m)
	}
	return all, nil
}

func loadParquetFile(ctx context.Context, path string, keepIDs bool) (*Models, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	n := int(pf.NumRows())
	m := filledModels(n)
	leaves := map[string]parquet.LeafColumn{}
	for field, aliases := range parquetAliases {
		for _, a := range aliases {
			if leaf, ok := pf.Schema().Lookup(a); ok && leaf.MaxRepetitionLevel == 0 {
				leaves[field] = leaf
				if field != "id" && field != "author" && field != "disabled" {
					m.noteSource(field, a)
				}
				break
			}
		}
	}
	if _, ok := leaves["id"]; !ok {
		return nil, fmt.Errorf("read %s: %w", path, ErrNoIDColumn)
	}
	_, hasAuthor := leaves["author"]
	for field, leaf := range leaves {
		if field == "id" && !keepIDs && hasAuthor {
			continue
		}
		set := m.setter(field, leaf)
		if err := scanColumn(ctx, pf, leaf.ColumnIndex, set); err != nil {
			return nil, fmt.Errorf("read %s column %s: %w", path, strings.Join(leaf.Path, "."), err)
		}
	}
	for i := range m.Author {
		if m.Author[i] == "" {
			m.Author[i] = authorOf(m.ID[i])
		}
	}
	if !keepIDs {
		clear(m.ID)
	}
	return m, nil
}

// filledModels returns n rows of Missing values.
func filledModels(n int) *Models {
	m := &Models{ID: make([]string, n), Author: make([]string, n), Downloads: make([]int64, n),
		DownloadsAllTime: make([]int64, n), Likes: make([]int64, n), CreatedAt: make([]int64, n), Disabled: make([]bool, n)}
	for i := range n {
		m.Downloads[i], m.DownloadsAllTime[i], m.Likes[i], m.CreatedAt[i] = Missing, Missing, Missing, Missing
	}
	return m
}

// setter returns the function storing row i's value of a canonical field.
func (m *Models) setter(field string, leaf parquet.LeafColumn) func(i int, v parquet.Value) {
	switch field {
	case "id":
		return func(i int, v parquet.Value) {
			if !v.IsNull() {
				m.ID[i] = string(v.ByteArray())
			}
		}
	case "author":
		interned := map[string]string{}
		return func(i int, v parquet.Value) {
			if v.IsNull() {
				return
			}
			b := v.ByteArray()
			s, ok := interned[string(b)]
			if !ok {
				s = string(b)
				interned[s] = s
			}
			m.Author[i] = s
		}
	case "disabled":
		return func(i int, v parquet.Value) {
			m.Disabled[i] = !v.IsNull() && v.Kind() == parquet.Boolean && v.Boolean()
		}
	case FieldCreatedAt:
		conv := timeConverter(leaf.Node.Type())
		return func(i int, v parquet.Value) { m.CreatedAt[i] = conv(v) }
	}
	col := m.column(field)
	return func(i int, v parquet.Value) { col[i] = countOf(v) }
}

// scanColumn calls set for every row of a top-level, non-repeated column.
func scanColumn(ctx context.Context, pf *parquet.File, col int, set func(int, parquet.Value)) error {
	buf := make([]parquet.Value, 1024)
	row, total := 0, int(pf.NumRows())
	for _, rg := range pf.RowGroups() {
		if err := ctx.Err(); err != nil {
			return err
		}
		pages := rg.ColumnChunks()[col].Pages()
		err := func() error {
			defer pages.Close()
			for {
				p, err := pages.ReadPage()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				vr := p.Values()
				for {
					k, err := vr.ReadValues(buf)
					for _, v := range buf[:k] {
						if row >= total {
							return fmt.Errorf("more values than the %d rows", total)
						}
						set(row, v)
						row++
					}
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						parquet.Release(p)
						return err
					}
				}
				parquet.Release(p)
			}
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// countOf converts a count value of any physical type; Missing for nulls,
// negatives and non-numbers.
func countOf(v parquet.Value) int64 {
	if v.IsNull() {
		return Missing
	}
	var f float64
	switch v.Kind() {
	case parquet.Int32:
		f = float64(v.Int32())
	case parquet.Int64:
		if x := v.Int64(); x >= 0 {
			return x
		}
		return Missing
	case parquet.Float:
		f = float64(v.Float())
	case parquet.Double:
		f = v.Double()
	case parquet.ByteArray:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(string(v.ByteArray())), 64); err != nil {
			return Missing
		}
	default:
		return Missing
	}
	if math.IsNaN(f) || f < 0 || f > math.MaxInt64/2 {
		return Missing
	}
	return int64(f)
}

// timeConverter returns a function from a createdAt value to Unix seconds,
// chosen by the column's logical (or legacy converted) type.
func timeConverter(t parquet.Type) func(parquet.Value) int64 {
	unit := time.Millisecond // plain INT64: epoch milliseconds
	date := false
	if lt := t.LogicalType(); lt != nil {
		switch x := lt.Value.(type) {
		case *format.TimestampType:
			if x.Unit.Value != nil {
				unit = x.Unit.Value.Duration()
			}
		case *format.DateType:
			date = true
		}
	} else if ct := t.ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.TimestampMicros:
			unit = time.Microsecond
		case deprecated.Date:
			date = true
		}
	}
	per := int64(time.Second / unit)
	return func(v parquet.Value) int64 {
		if v.IsNull() {
			return Missing
		}
		switch v.Kind() {
		case parquet.Int64:
			return floorDiv(v.Int64(), per)
		case parquet.Int32:
			if date {
				return int64(v.Int32()) * 86400
			}
			return floorDiv(int64(v.Int32()), per)
		case parquet.Int96:
			return int96Unix(v.Int96())
		case parquet.ByteArray:
			return parseTime(string(v.ByteArray()))
		}
		return Missing
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// int96Unix converts a legacy INT96 timestamp (nanoseconds of the day, then
// the Julian day) to Unix seconds.
func int96Unix(x deprecated.Int96) int64 {
	nanos := int64(x[1])<<32 | int64(x[0])
	day := int64(x[2])
	return (day-2440588)*86400 + nanos/1e9
}

// parseTime parses the ISO 8601 forms the Hub and its dumps use; Missing
// when none fits.
func parseTime(s string) int64 {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix()
		}
	}
	return Missing
}
