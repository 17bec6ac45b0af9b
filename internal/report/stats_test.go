package report

import (
	"math"
	"testing"
)

// Published values: Newcombe (1998), "Two-sided confidence intervals for the
// single proportion", Statistics in Medicine 17:857-872, Table II, method 3
// (Wilson score without continuity correction), to 4 decimals; 64/100
// computed by hand from the formula.
func TestWilsonPublished(t *testing.T) {
	for _, tc := range []struct {
		k, n      int64
		low, high float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0, 0.1611},
		{1, 29, 0.0061, 0.1718},
		{64, 100, 0.5424, 0.7273},
	} {
		lo, hi := Wilson(tc.k, tc.n, Z95)
		if math.Abs(lo-tc.low) > 0.00005 || math.Abs(hi-tc.high) > 0.00005 {
			t.Errorf("Wilson(%d, %d) = %.5f–%.5f, want %.4f–%.4f", tc.k, tc.n, lo, hi, tc.low, tc.high)
		}
	}
	if lo, hi := Wilson(0, 0, Z95); lo != 0 || hi != 1 {
		t.Errorf("Wilson(0, 0) = %v–%v", lo, hi)
	}
	if lo, hi := Wilson(5, 5, Z95); hi != 1 || math.Abs(lo-0.5655) > 0.00005 {
		t.Errorf("Wilson(5, 5) = %v–%v", lo, hi)
	}
	p := NewProportion(1, 4)
	if p.P != 0.25 || p.K != 1 || p.N != 4 || p.Low >= 0.25 || p.High <= 0.25 {
		t.Errorf("NewProportion(1, 4) = %+v", p)
	}
}

func TestRatio(t *testing.T) {
	for _, tc := range []struct {
		closed, open int64
		want         string
	}{
		{34, 1, "34:1"}, {68, 2, "34:1"}, {5, 2, "2.5:1"}, {10, 1, "10:1"}, {99, 10, "9.9:1"}, {199, 20, "10:1"},
		{1, 1, "1:1"}, {1, 3, "1:3"}, {2, 5, "1:2.5"}, {7, 0, "7:0"}, {0, 3, "0:3"}, {0, 0, "-"}, {1000, 3, "333:1"},
	} {
		if got := Ratio(tc.closed, tc.open); got != tc.want {
			t.Errorf("Ratio(%d, %d) = %q, want %q", tc.closed, tc.open, got, tc.want)
		}
	}
}
