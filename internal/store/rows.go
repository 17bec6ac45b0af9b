package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/aicensus/aicensus/internal/model"
)

// appenders holds one DuckDB Appender per table of a batch, created on the
// first row. Closing them flushes the rows into the connection's open
// transaction.
type appenders struct {
	dc driver.Conn
	m  map[string]*duckdb.Appender
}

func (a *appenders) row(table string, vals ...driver.Value) error {
	ap, ok := a.m[table]
	if !ok {
		var err error
		if ap, err = duckdb.NewAppenderFromConn(a.dc, "", table); err != nil {
			return fmt.Errorf("appender %s: %w", table, err)
		}
		a.m[table] = ap
	}
	for i, v := range vals {
		vals[i] = validValue(v)
	}
	if err := ap.AppendRow(vals...); err != nil {
		return fmt.Errorf("append %s: %w", table, err)
	}
	return nil
}

func (a *appenders) close() error {
	var errs []error
	for table, ap := range a.m {
		if err := ap.Close(); err != nil {
			errs = append(errs, fmt.Errorf("flush %s: %w", table, err))
		}
	}
	return errors.Join(errs...)
}

// validUTF8 returns s with invalid UTF-8 replaced by U+FFFD: DuckDB
// VARCHARs must be valid UTF-8, and matches cut at MaxMatchBytes or read from
// broken pages may not be.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// validValue applies validUTF8 to the strings of an appended value.
func validValue(v driver.Value) driver.Value {
	switch x := v.(type) {
	case string:
		return validUTF8(x)
	case []string:
		for _, s := range x {
			if !utf8.ValidString(s) {
				out := make([]string, len(x))
				for i, s := range x {
					out[i] = validUTF8(s)
				}
				return out
			}
		}
	case []dnsRecord:
		for i, r := range x {
			x[i] = dnsRecord{validUTF8(r.Name), validUTF8(r.Type), validUTF8(r.Value)}
		}
	}
	return v
}

type rowCounts struct{ detections, evidence int64 }

// appendBatch appends every row of the batch with Appenders on conn, which
// must have an open transaction. rids and pids are the ids for the batch's
// results and pages, in order.
func appendBatch(conn *sql.Conn, b *batch, rids, pids []int64) (rowCounts, error) {
	var n rowCounts
	err := conn.Raw(func(dc any) error {
		a := &appenders{dc: dc.(driver.Conn), m: map[string]*duckdb.Appender{}}
		err := func() error {
			for i, r := range b.results {
				c, err := appendResult(a, rids[i], r)
				if err != nil {
					return err
				}
				n.detections += c.detections
				n.evidence += c.evidence
			}
			k := 0
			for _, pb := range b.pages {
				for i := range pb.Pages {
					if err := appendPage(a, pids[k], pb, &pb.Pages[i]); err != nil {
						return err
					}
					k++
				}
			}
			return nil
		}()
		return errors.Join(err, a.close())
	})
	return n, err
}

func appendResult(a *appenders, rid int64, r *model.Result) (rowCounts, error) {
	var n rowCounts
	err := a.row("results", rid, r.ScanID, r.Target, nullStr(r.Input), nullInt(int64(r.Line)),
		nullStr(r.Domain), string(r.Status), nullStr(r.Error), nullStr(r.URL), nullInt(int64(r.HTTPStatus)),
		nullList(r.Redirects), nullInt(int64(r.Pages)), nullTime(r.FirstSeen), nullTime(r.LastSeen),
		nullTime(r.Time), nullInt(r.DurationMS), dnsValue(r.DNS), int32(len(r.Detections)))
	if err != nil {
		return n, err
	}
	for dpos, d := range r.Detections {
		err := a.row("detections", rid, r.ScanID, r.Target, nullStr(r.Domain), string(r.Status), int32(dpos),
			d.Technology, nullStr(d.Version), nullList(d.Categories), d.OpenSource, nullStr(d.License), d.AI,
			int32(d.Confidence), nullStr(string(strongest(d))), classList(d), d.Running())
		if err != nil {
			return n, err
		}
		n.detections++
		for pos, e := range d.Evidence {
			err := a.row("evidence", rid, r.ScanID, r.Target, d.Technology, int32(dpos), int32(pos),
				e.Signal, nullStr(e.Pattern), nullStr(e.Match), nullStr(e.Location), nullStr(string(e.Class)), nullStr(e.Via))
			if err != nil {
				return n, err
			}
			n.evidence++
		}
	}
	return n, nil
}

func appendPage(a *appenders, pid int64, pb *PageBatch, p *Page) error {
	status := p.Status
	if status == "" {
		status = model.StatusOK
	}
	err := a.row("pages", pid, pb.ScanID, p.Target, nullStr(p.Domain), nullStr(p.Host), nullStr(p.URL), string(status),
		nullStr(p.Error), nullInt(int64(p.HTTPStatus)), nullTime(p.Time), pb.Source, nullStr(p.Ref))
	if err != nil {
		return err
	}
	for dpos, d := range p.Detections {
		err := a.row("page_detections", pid, pb.ScanID, p.Target, nullTime(p.Time), int32(dpos), d.Technology, nullStr(d.Version),
			nullList(d.Categories), d.OpenSource, nullStr(d.License), d.AI, int32(d.Confidence),
			nullStr(string(strongest(d))), classList(d), d.Running())
		if err != nil {
			return err
		}
		for pos, e := range d.Evidence {
			err := a.row("page_evidence", pid, pb.ScanID, p.Target, nullTime(p.Time), d.Technology, int32(dpos), int32(pos),
				e.Signal, nullStr(e.Pattern), nullStr(e.Match), nullStr(recordLocation(p, e.Location)), nullStr(string(e.Class)), nullStr(e.Via))
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// recordLocation makes a page's evidence location name the archive record:
// the page's Ref, followed by where in the record when that says more.
func recordLocation(p *Page, location string) string {
	switch {
	case p.Ref == "" && location == "":
		return p.URL
	case p.Ref == "" || strings.Contains(location, p.Ref):
		return location
	case location == "":
		return p.Ref
	}
	return p.Ref + " " + location
}

// strongest returns the detection's class, or the strongest of its
// evidence when the detector left it empty.
func strongest(d model.Detection) model.EvidenceClass {
	if d.EvidenceClass != "" {
		return d.EvidenceClass
	}
	if cs := d.Classes(); len(cs) > 0 {
		return cs[0]
	}
	return ""
}

func classList(d model.Detection) any {
	cs := d.Classes()
	if len(cs) == 0 {
		return nil
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

func nullStr(s string) driver.Value {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(i int64) driver.Value {
	if i == 0 {
		return nil
	}
	return i
}

func nullTime(t time.Time) driver.Value {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func nullList(l []string) driver.Value {
	if len(l) == 0 {
		return nil
	}
	return l
}

// dnsRecord is the STRUCT element of results.dns.
type dnsRecord struct {
	Name  string `db:"name"`
	Type  string `db:"type"`
	Value string `db:"value"`
}

func dnsValue(rs []model.DNSRecord) driver.Value {
	if len(rs) == 0 {
		return nil
	}
	out := make([]dnsRecord, len(rs))
	for i, r := range rs {
		out[i] = dnsRecord(r)
	}
	return out
}
