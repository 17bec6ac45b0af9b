package report

import (
	"context"
	"fmt"
	"math"
)

// Universe estimates totals for the list the scan sampled.
type Universe struct {
	// N is the universe size given by the user; Sample the distinct domains
	// of the scan (any status): the scan is taken to be a uniform random
	// sample of N domains.
	N      int64 `json:"n"`
	Sample int64 `json:"sample"`
	// FPC is the finite-population correction sqrt((N-n)/(N-1)); the
	// intervals below do not apply it, so they are conservative (wider
	// than needed) when the sample is a large part of the universe.
	FPC  float64       `json:"fpc"`
	Rows []UniverseRow `json:"rows"`
}

// UniverseRow is one estimated total.
type UniverseRow struct {
	Group string `json:"group"`
	// Share is domains detected (on OK results) over Sample: a domain that
	// did not answer counts as not detected, as it would in the universe.
	Share    Proportion `json:"share"`
	Estimate float64    `json:"estimate"` // Share.P × N
	Low      float64    `json:"low"`      // Share.Low × N
	High     float64    `json:"high"`     // Share.High × N
}

// universe fills Report.Universe from the technology rows and totals.
func (q *querier) universe(_ context.Context, r *Report, n int64) error {
	p := r.Population
	if p.Domains > n {
		return fmt.Errorf("%w: universe %d is smaller than the %d domains scanned", ErrBadOption, n, p.Domains)
	}
	u := &Universe{N: n, Sample: p.Domains, Rows: []UniverseRow{}}
	if n > 1 {
		u.FPC = math.Sqrt(float64(n-p.Domains) / float64(n-1))
	}
	add := func(group string, k int64) {
		s := NewProportion(k, p.Domains)
		f := float64(n)
		u.Rows = append(u.Rows, UniverseRow{Group: group, Share: s, Estimate: s.P * f, Low: s.Low * f, High: s.High * f})
	}
	add("any AI", p.AI.K)
	add("any AI, running", p.AIRunning.K)
	add("any open-source AI", r.OpenClosed.All.Open)
	add("any closed AI", r.OpenClosed.All.Closed)
	for _, t := range r.Technologies {
		if t.AI {
			add(t.Technology, t.Domains)
		}
	}
	r.Universe = u
	return nil
}
