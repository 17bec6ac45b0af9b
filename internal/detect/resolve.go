package detect

import (
	"sort"
	"strconv"
	"strings"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/model"
)

// resolve applies Wappalyzer's rules to the hits (implies, requires,
// requiresCategory, excludes, versions, confidence) and builds Detections.
func (d *Detector) resolve(h *hits) []model.Detection {
	type state struct {
		t         *catalog.Technology
		conf      int
		versions  []string
		evidence  []model.Evidence
		impliedBy []string
	}
	found := map[string]*state{}
	held := map[string]*state{} // waiting for requires
	for _, t := range h.order {
		th := h.techs[t]
		st := &state{t: t, conf: min(th.conf, 100), versions: th.versions, evidence: th.evidence}
		if len(t.Requires) > 0 || len(t.RequiresCategory) > 0 {
			held[t.Name] = st
		} else {
			found[t.Name] = st
		}
	}
	var imply func(st *state, seen map[string]bool)
	imply = func(st *state, seen map[string]bool) {
		if seen[st.t.Name] {
			return
		}
		seen[st.t.Name] = true
		class, via := strongest(st.evidence)
		for _, r := range st.t.Implies {
			it, ok := d.cat.Lookup(r.Name)
			if !ok {
				continue
			}
			conf := min(st.conf, r.Confidence)
			ev := model.Evidence{Signal: "implies", Pattern: st.t.Name, Location: st.t.Name, Class: class, Via: via}
			tgt, ok := found[it.Name]
			if !ok {
				if w, waiting := held[it.Name]; waiting {
					tgt = w // implied evidence counts; requires are checked later
				} else {
					tgt = &state{t: it}
					found[it.Name] = tgt
				}
			}
			tgt.conf = max(tgt.conf, conf)
			if r.Version != "" {
				tgt.versions = append(tgt.versions, r.Version)
			}
			if len(tgt.evidence) < d.opts.MaxEvidence {
				tgt.evidence = append(tgt.evidence, ev)
			}
			imply(tgt, seen)
		}
	}
	closure := func() {
		names := sortedKeys(found)
		for _, n := range names {
			imply(found[n], map[string]bool{})
		}
	}
	closure()
	// Requires: a second pass over what is detected so far, repeated while
	// it adds technologies (a required technology may itself be held).
	for changed := true; changed; {
		changed = false
		for _, n := range sortedKeys(held) {
			st := held[n]
			if d.requirementsMet(st.t, func(name string) bool { _, ok := found[name]; return ok },
				func(cat int) bool {
					for _, f := range found {
						for _, c := range f.t.Cats {
							if c == cat {
								return true
							}
						}
					}
					return false
				}) {
				found[n] = st
				delete(held, n)
				imply(st, map[string]bool{})
				changed = true
			}
		}
	}
	for _, n := range sortedKeys(found) {
		st, ok := found[n]
		if !ok {
			continue
		}
		for _, ex := range st.t.Excludes {
			delete(found, ex.Name)
		}
	}
	out := make([]model.Detection, 0, len(found))
	for _, n := range sortedKeys(found) {
		st := found[n]
		if st.conf < d.opts.MinConfidence {
			continue
		}
		t := st.t
		sortEvidence(st.evidence)
		if len(st.evidence) > d.opts.MaxEvidence {
			st.evidence = st.evidence[:d.opts.MaxEvidence]
		}
		class, _ := strongest(st.evidence)
		out = append(out, model.Detection{
			Technology:    t.Name,
			Version:       bestVersion(st.versions),
			Categories:    append([]string{}, t.Categories...),
			OpenSource:    t.OpenSource,
			License:       t.License,
			AI:            t.AI,
			Confidence:    st.conf,
			EvidenceClass: class,
			Evidence:      st.evidence,
		})
	}
	return out
}

// sortEvidence orders evidence strongest class first, then static before
// rendered, then by signal, pattern, location and match.
func sortEvidence(ev []model.Evidence) {
	sort.SliceStable(ev, func(i, j int) bool {
		a, b := ev[i], ev[j]
		if a.Class != b.Class {
			return a.Class.Rank() < b.Class.Rank()
		}
		if a.Via != b.Via {
			return a.Via == model.ViaStatic
		}
		if a.Signal != b.Signal {
			return a.Signal < b.Signal
		}
		if a.Pattern != b.Pattern {
			return a.Pattern < b.Pattern
		}
		if a.Location != b.Location {
			return a.Location < b.Location
		}
		return a.Match < b.Match
	})
}

func (d *Detector) requirementsMet(t *catalog.Technology, has func(string) bool, hasCat func(int) bool) bool {
	for _, r := range t.Requires {
		if !has(r.Name) {
			return false
		}
	}
	for _, c := range t.RequiresCategory {
		if !hasCat(c) {
			return false
		}
	}
	return true
}

// strongest returns the strongest evidence class and its via.
func strongest(ev []model.Evidence) (model.EvidenceClass, string) {
	var best model.EvidenceClass
	via := ""
	for _, e := range ev {
		if best == "" || e.Class.Rank() < best.Rank() {
			best, via = e.Class, e.Via
		} else if e.Class == best && e.Via == model.ViaStatic {
			via = model.ViaStatic
		}
	}
	return best, via
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// maxVersionLen drops version strings that are clearly not versions.
const maxVersionLen = 32

// bestVersion picks the most specific version: most numeric components,
// then longest, then the greatest.
func bestVersion(vs []string) string {
	best := ""
	bestParts := -1
	for _, v := range vs {
		v = strings.TrimSpace(v)
		if v == "" || len(v) > maxVersionLen {
			continue
		}
		parts := len(strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '-' || r == '_' }))
		switch {
		case parts > bestParts,
			parts == bestParts && len(v) > len(best),
			parts == bestParts && len(v) == len(best) && versionLess(best, v):
			best, bestParts = v, parts
		}
	}
	return best
}

// versionLess compares dotted versions numerically where possible.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		ai, aerr := strconv.Atoi(as[i])
		bi, berr := strconv.Atoi(bs[i])
		if aerr == nil && berr == nil {
			if ai != bi {
				return ai < bi
			}
			continue
		}
		if as[i] != bs[i] {
			return as[i] < bs[i]
		}
	}
	return len(as) < len(bs)
}
