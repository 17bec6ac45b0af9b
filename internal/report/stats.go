package report

import (
	"fmt"
	"math"
	"strconv"
)

// Z95 is the standard normal quantile for a two-sided 95% interval.
const Z95 = 1.959963984540054

// Proportion is K out of N with its 95% Wilson score interval. The zero
// value is 0 of 0.
type Proportion struct {
	K    int64   `json:"k"`
	N    int64   `json:"n"`
	P    float64 `json:"p"`    // K/N (0 when N is 0)
	Low  float64 `json:"low"`  // Wilson lower bound
	High float64 `json:"high"` // Wilson upper bound (1 when N is 0: no information)
}

// NewProportion returns k of n with its Wilson interval.
func NewProportion(k, n int64) Proportion {
	lo, hi := Wilson(k, n, Z95)
	p := Proportion{K: k, N: n, Low: lo, High: hi}
	if n > 0 {
		p.P = float64(k) / float64(n)
	}
	return p
}

// Wilson returns the Wilson score interval for k successes in n trials at
// normal quantile z (without continuity correction):
//
//	center = (p + z²/2n) / (1 + z²/n)
//	half   = z / (1 + z²/n) · sqrt(p(1-p)/n + z²/4n²)
//
// with p = k/n, clamped to [0, 1]. For n = 0 it returns [0, 1].
func Wilson(k, n int64, z float64) (low, high float64) {
	if n <= 0 {
		return 0, 1
	}
	k = min(max(k, 0), n)
	nf := float64(n)
	p := float64(k) / nf
	z2 := z * z
	d := 1 + z2/nf
	center := (p + z2/(2*nf)) / d
	half := z / d * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	low, high = max(0, center-half), min(1, center+half)
	if k == 0 {
		low = 0
	}
	if k == n {
		high = 1
	}
	return low, high
}

// Ratio formats closed:open as "X:1" (or "1:X" when open is larger), X
// with one decimal below 10 and none above; "N:0" or "0:N" when one side is
// zero and "-" when both are.
func Ratio(closed, open int64) string {
	switch {
	case closed == 0 && open == 0:
		return "-"
	case open == 0:
		return fmt.Sprintf("%d:0", closed)
	case closed == 0:
		return fmt.Sprintf("0:%d", open)
	case closed >= open:
		return ratioNum(float64(closed)/float64(open)) + ":1"
	}
	return "1:" + ratioNum(float64(open)/float64(closed))
}

func ratioNum(x float64) string {
	if x >= 9.95 {
		return strconv.FormatFloat(math.Round(x), 'f', 0, 64)
	}
	return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64)
}

// pct formats a share as a percentage with one decimal ("12.5%").
func pct(p float64) string { return strconv.FormatFloat(p*100, 'f', 1, 64) + "%" }

// ci formats a Proportion's interval as "10.2–15.1%".
func ci(p Proportion) string {
	return strconv.FormatFloat(p.Low*100, 'f', 1, 64) + "–" + strconv.FormatFloat(p.High*100, 'f', 1, 64) + "%"
}
