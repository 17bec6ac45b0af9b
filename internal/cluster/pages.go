package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/aicensus/aicensus/internal/model"
	"github.com/aicensus/aicensus/internal/progress"
	"github.com/aicensus/aicensus/internal/scan"
	"github.com/aicensus/aicensus/internal/store"
	"github.com/aicensus/aicensus/internal/warc"
)

// pageMsg is one results message of an archive unit: the pages of the
// records of Source whose offsets are in [Start, Next) (at or after Start
// when Done), with each page's record offset. It is scan.PageBatch on the
// wire, zstd-compressed JSON.
type pageMsg struct {
	Version  int              `json:"v"`
	ScanID   int64            `json:"scan_id"`
	Source   string           `json:"source"`
	Start    int64            `json:"start"`
	Next     int64            `json:"next"`
	Done     bool             `json:"done,omitempty"`
	Counters map[string]int64 `json:"counters,omitempty"`
	Pages    []store.Page     `json:"pages,omitempty"`
	Offsets  []int64          `json:"offsets,omitempty"`
}

// deadLetterCounter counts archive units delivered more than MaxAttempts
// times: the source is marked done with what was stored of it.
const deadLetterCounter = "cluster_dead_letter"

// id is the message's Nats-Msg-Id. It names the records the message covers,
// so two deliveries of a unit that cut the same batch publish the same id
// and the server keeps one (the contents are the same: the pages of the
// same records).
func (m *pageMsg) id(unit string) string {
	id := fmt.Sprintf("%s/%d-%d", unit, m.Start, m.Next)
	if m.Done {
		id += "/done"
	}
	return id
}

// merge appends the next batch of the same source.
func (m *pageMsg) merge(b scan.PageBatch) {
	m.Next, m.Done = b.NextOffset, b.Done
	m.Pages = append(m.Pages, b.Pages...)
	m.Offsets = append(m.Offsets, b.Offsets...)
	for k, n := range b.Counters {
		if m.Counters == nil {
			m.Counters = map[string]int64{}
		}
		m.Counters[k] += n
	}
}

// encodePages packs m into messages of at most maxBytes each: when it is
// too large it is cut at a record boundary into batches that each cover
// their own records. A single page that does not fit loses its detections
// and becomes an internal-error page saying so (it is never dropped).
func (c *codec) encodePages(m *pageMsg, maxBytes int) ([]*pageMsg, [][]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, nil, fmt.Errorf("encode pages of %s: %w", m.Source, err)
	}
	data := c.enc.EncodeAll(b, nil)
	if len(data) <= maxBytes {
		return []*pageMsg{m}, [][]byte{data}, nil
	}
	first, second, ok := splitPages(m)
	if !ok {
		for i := range m.Pages {
			p := &m.Pages[i]
			p.Status, p.Detections = model.StatusInternalError, nil
			p.Error = fmt.Sprintf("cluster: the page's detections exceed the bus's message limit of %d bytes", maxBytes)
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, nil, fmt.Errorf("encode pages of %s: %w", m.Source, err)
		}
		return []*pageMsg{m}, [][]byte{c.enc.EncodeAll(b, nil)}, nil
	}
	ma, da, err := c.encodePages(first, maxBytes)
	if err != nil {
		return nil, nil, err
	}
	mb, db, err := c.encodePages(second, maxBytes)
	if err != nil {
		return nil, nil, err
	}
	return append(ma, mb...), append(da, db...), nil
}

// splitPages cuts m in two at a record offset near the middle of its pages:
// [Start, off) and [off, Next). It fails when all pages share one offset.
func splitPages(m *pageMsg) (*pageMsg, *pageMsg, bool) {
	idx := make([]int, len(m.Pages))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return m.Offsets[idx[a]] < m.Offsets[idx[b]] })
	pages := make([]store.Page, len(idx))
	offs := make([]int64, len(idx))
	for i, j := range idx {
		pages[i], offs[i] = m.Pages[j], m.Offsets[j]
	}
	cut := -1
	for d := 0; d <= len(offs)/2 && cut < 0; d++ {
		for _, k := range []int{len(offs)/2 + d, len(offs)/2 - d} {
			if k > 0 && k < len(offs) && offs[k] > offs[k-1] {
				cut = k
				break
			}
		}
	}
	if cut < 0 {
		return nil, nil, false
	}
	a := &pageMsg{Version: m.Version, ScanID: m.ScanID, Source: m.Source, Start: m.Start, Next: offs[cut],
		Pages: pages[:cut], Offsets: offs[:cut]}
	b := &pageMsg{Version: m.Version, ScanID: m.ScanID, Source: m.Source, Start: offs[cut], Next: m.Next, Done: m.Done,
		Counters: m.Counters, Pages: pages[cut:], Offsets: offs[cut:]}
	return a, b, true
}

// decodePages parses a pages message. The bytes come from the network: the
// decompressed size is capped and every field is checked.
func (c *codec) decodePages(data []byte) (*pageMsg, error) {
	raw, err := c.dec.DecodeAll(data, nil)
	if err != nil {
		return nil, fmt.Errorf("decode pages: %w", err)
	}
	var m pageMsg
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decode pages: %w", err)
	}
	switch {
	case m.Version < 1 || m.Version > WireVersion:
		return nil, fmt.Errorf("decode pages: %w: format version %d", ErrUnsupportedUnit, m.Version)
	case m.Source == "" || m.Start < 0 || m.Next < m.Start:
		return nil, fmt.Errorf("decode pages: source %q, range %d-%d", m.Source, m.Start, m.Next)
	case len(m.Offsets) != len(m.Pages):
		return nil, fmt.Errorf("decode pages of %s: %d offsets for %d pages", m.Source, len(m.Offsets), len(m.Pages))
	}
	for i, p := range m.Pages {
		switch {
		case p.Target == "" || (p.Status != "" && !p.Status.Valid()):
			return nil, fmt.Errorf("decode pages of %s: page %d: target %q, status %q", m.Source, i, p.Target, p.Status)
		case m.Offsets[i] < m.Start || (!m.Done && m.Offsets[i] >= m.Next):
			return nil, fmt.Errorf("decode pages of %s: page %d at offset %d outside %d-%d", m.Source, i, m.Offsets[i], m.Start, m.Next)
		}
	}
	return &m, nil
}

// pageCollector consumes an archive scan's results stream: it keeps of
// every batch the pages past the source's stored checkpoint, stores them
// with the new checkpoint (Writer.WritePages: one transaction), commits,
// and only then acks. A redelivered source's batches at or below the
// checkpoint are dropped, so no page is stored twice.
type pageCollector struct {
	c     *coordinator
	tab   *archiveTable
	cons  jetstream.Consumer
	w     *store.Writer
	rep   *progress.Reporter
	sum   *scan.ArchiveSummary
	codec *codec

	pending   []jetstream.Msg // absorbed, to ack after the next commit
	statuses  []model.Status  // pages absorbed, for progress after the commit
	newlyDone []int           // sources absorbed as done
	dups      int64
}

func (col *pageCollector) run(ctx context.Context) error {
	cd, err := newCodec()
	if err != nil {
		return err
	}
	defer cd.close()
	col.codec = cd
	err = consumeResults(ctx, col.cons, col.c.opts.Settings.CollectorBatch, col.c.log, col.tab.resolved,
		func(msgs []jetstream.Msg) error {
			for _, m := range msgs {
				if err := col.absorb(ctx, m); err != nil {
					return err
				}
			}
			return col.flush(ctx)
		},
		func() error { return nil })
	if err != nil {
		return err
	}
	col.c.log.Info("every archive is in", "scan", col.c.sc.ID, "pages", col.sum.Pages, "duplicates_dropped", col.dups)
	return nil
}

// absorb queues one message's new pages and checkpoint in the Writer.
func (col *pageCollector) absorb(ctx context.Context, m jetstream.Msg) error {
	unit := m.Headers().Get(hdrUnit)
	if why := m.Headers().Get(hdrFailed); why != "" {
		col.fail(unit, why)
		col.pending = append(col.pending, m)
		return nil
	}
	pm, err := col.codec.decodePages(m.Data())
	if err == nil && pm.ScanID != col.c.sc.ID {
		err = fmt.Errorf("pages of scan %d, not %d", pm.ScanID, col.c.sc.ID)
	}
	if err != nil {
		col.fail(unit, "its results cannot be read: "+err.Error())
		_ = m.NakWithDelay(col.c.opts.Settings.NakDelay)
		return nil
	}
	t := col.tab
	i, ok := t.index[pm.Source]
	switch {
	case !ok:
		col.c.log.Warn("pages of a source the scan does not have dropped", "source", pm.Source, "unit", unit)
		col.pending = append(col.pending, m)
		return nil
	case t.done[i]:
		col.dups += int64(len(pm.Pages))
		col.pending = append(col.pending, m)
		return nil
	case pm.Start > t.next[i]:
		// Records between the checkpoint and this batch are not stored: a
		// batch before it has not arrived yet. Wait for it.
		col.c.log.Warn("pages arrived before earlier ones; handed back", "source", pm.Source, "start", pm.Start,
			"checkpoint", t.next[i], "unit", unit)
		_ = m.NakWithDelay(col.c.opts.Settings.NakDelay)
		return nil
	}
	b := store.PageBatch{ScanID: col.c.sc.ID, Source: pm.Source, NextOffset: max(t.next[i], pm.Next), Done: pm.Done}
	for j, p := range pm.Pages {
		if pm.Offsets[j] < t.next[i] {
			col.dups++ // its record is already stored
			continue
		}
		b.Pages = append(b.Pages, p)
	}
	if !b.Done && b.NextOffset == t.next[i] && len(b.Pages) == 0 {
		col.pending = append(col.pending, m)
		return nil // a repeat of what is stored
	}
	if b.Done {
		b.Counters = pm.Counters
	}
	statuses := make([]model.Status, len(b.Pages))
	for j, p := range b.Pages {
		if statuses[j] = p.Status; p.Status == "" {
			statuses[j] = model.StatusOK
		}
	}
	if err := col.w.WritePages(ctx, b); err != nil {
		if errors.Is(err, store.ErrInvalid) { // refused before anything was queued
			col.fail(unit, "its pages cannot be stored: "+err.Error())
			_ = m.NakWithDelay(col.c.opts.Settings.NakDelay)
			return nil
		}
		return fmt.Errorf("cluster: store pages of %s: %w", pm.Source, err)
	}
	col.pending = append(col.pending, m)
	col.statuses = append(col.statuses, statuses...)
	if b.Done {
		col.newlyDone = append(col.newlyDone, i)
		col.countSource(pm.Counters)
	}
	t.next[i], t.done[i] = b.NextOffset, b.Done
	return nil
}

// countSource adds a finished source's counters to the run's statistics.
func (col *pageCollector) countSource(counters map[string]int64) {
	st := &col.sum.Stats
	st.Sources++
	for k, n := range counters {
		if kind, ok := strings.CutPrefix(k, "warc_"); ok {
			if st.Problems == nil {
				st.Problems = map[warc.Kind]int64{}
			}
			st.Problems[warc.Kind(kind)] += n
		} else if typ, ok := strings.CutPrefix(k, "records_"); ok {
			if st.Records == nil {
				st.Records = map[string]int64{}
			}
			st.Records[typ] += n
		}
	}
}

// flush commits everything absorbed, then acks its messages.
func (col *pageCollector) flush(ctx context.Context) error {
	if err := col.w.Flush(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	for _, m := range col.pending {
		_ = m.Ack()
	}
	for _, st := range col.statuses {
		col.rep.Add(st)
	}
	col.sum.Pages += int64(len(col.statuses))
	for _, i := range col.newlyDone {
		col.tab.doneUnits++
		delete(col.tab.failed, i)
		col.c.log.Debug("archive done", "source", col.tab.sources[i].Name, "done", col.tab.doneUnits, "of", len(col.tab.sources))
	}
	clear(col.pending)
	col.pending, col.statuses, col.newlyDone = col.pending[:0], col.statuses[:0], col.newlyDone[:0]
	return nil
}

// fail records a unit no worker could run, so the scan ends (interrupted)
// instead of waiting for it.
func (col *pageCollector) fail(unit, why string) {
	col.c.log.Error("unit failed", "unit", unit, "err", why)
	k, ok := warcUnitIndex(unit, col.c.key)
	if !ok || k >= len(col.tab.sources) || col.tab.done[k] {
		return
	}
	col.tab.failed[k] = why
}
