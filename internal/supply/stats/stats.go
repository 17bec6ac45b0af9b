package stats

import (
	"math"
	"math/bits"
	"slices"
	"sort"
)

// Distribution is a sorted snapshot of non-negative counts. Build it with New;
// the zero value is an empty distribution (N = 0) on which every measure is 0.
// A Distribution is immutable after New and safe for concurrent use.
type Distribution struct {
	asc   []int64 // ascending, every value >= 0
	total uint128
}

// uint128 is an exact unsigned accumulator.
type uint128 struct{ hi, lo uint64 }

func (u *uint128) add(v uint64) {
	var c uint64
	u.lo, c = bits.Add64(u.lo, v, 0)
	u.hi += c
}

func (u *uint128) addMul(a, b uint64) {
	hi, lo := bits.Mul64(a, b)
	var c uint64
	u.lo, c = bits.Add64(u.lo, lo, 0)
	u.hi += hi + c
}

func (u uint128) float() float64 { return float64(u.hi)*(1<<64) + float64(u.lo) }

// New sorts values in place (ascending) and keeps the slice: the caller must
// not modify it afterwards. Negative values (a missing-value sentinel in
// callers) are clamped to 0 before sorting; use Filter first to drop them.
func New(values []int64) Distribution {
	d := Distribution{asc: values}
	for i, v := range values {
		if v < 0 {
			values[i] = 0
			continue
		}
		d.total.add(uint64(v))
	}
	slices.Sort(values)
	return d
}

// NonNegative returns the values of vs that are >= 0 in a new slice, for
// inputs where a negative value marks "missing".
func NonNegative(vs []int64) []int64 {
	out := make([]int64, 0, len(vs))
	for _, v := range vs {
		if v >= 0 {
			out = append(out, v)
		}
	}
	return out
}

// N is the number of items.
func (d Distribution) N() int { return len(d.asc) }

// Total is X = Σ x_i as a float64 (exact below 2^53).
func (d Distribution) Total() float64 { return d.total.float() }

// Max is the largest value, or 0 when empty.
func (d Distribution) Max() int64 {
	if len(d.asc) == 0 {
		return 0
	}
	return d.asc[len(d.asc)-1]
}

// Quantile returns the value at rank ⌈q·N⌉ in ascending order (q in [0, 1]),
// 0 when empty. Quantile(0.5) is the lower median.
func (d Distribution) Quantile(q float64) int64 {
	n := len(d.asc)
	if n == 0 {
		return 0
	}
	k := max(ceilCount(q, n), 1)
	return d.asc[k-1]
}

// CountBelow returns |{i : x_i < k}|.
func (d Distribution) CountBelow(k int64) int {
	return sort.Search(len(d.asc), func(i int) bool { return d.asc[i] >= k })
}

// ShareBelow returns B(k) = |{i : x_i < k}| / N (strict), 0 when empty.
func (d Distribution) ShareBelow(k int64) float64 {
	if len(d.asc) == 0 {
		return 0
	}
	return float64(d.CountBelow(k)) / float64(len(d.asc))
}

// TopCount returns n_p = ⌈p·N⌉, the number of items in the top p fraction
// (p in (0, 1]); at least 1 when p > 0 and N > 0, at most N.
func (d Distribution) TopCount(p float64) int { return ceilCount(p, len(d.asc)) }

// ceilCount is ⌈p·n⌉ clamped to [0, n], tolerant of the binary rounding of
// decimal fractions (0.0001·10000 must be 1, not 2).
func ceilCount(p float64, n int) int {
	if p <= 0 || n == 0 {
		return 0
	}
	k := int(math.Ceil(p*float64(n) - 1e-9))
	return min(max(k, 1), n)
}

// TopShare returns S(p): the share of the total held by the ⌈p·N⌉ largest
// items. Ties at the cut do not change the sum, so no tiebreak is needed for
// the value. It is 0 when the total is 0.
func (d Distribution) TopShare(p float64) float64 {
	k := d.TopCount(p)
	if k == 0 || d.total == (uint128{}) {
		return 0
	}
	var top uint128
	for _, v := range d.asc[len(d.asc)-k:] {
		top.add(uint64(v))
	}
	return top.float() / d.total.float()
}

// Gini returns G = 2·Σ_{i=1..N} i·x_(i) / (N·X) − (N+1)/N over ascending
// values; 0 when N = 0 or X = 0. The result is in [0, 1 − 1/N].
func (d Distribution) Gini() float64 {
	n := len(d.asc)
	if n == 0 || d.total == (uint128{}) {
		return 0
	}
	var w uint128
	for i, v := range d.asc {
		w.addMul(uint64(i+1), uint64(v))
	}
	nf := float64(n)
	g := 2*w.float()/(nf*d.total.float()) - (nf+1)/nf
	return min(max(g, 0), 1)
}

// HHI returns the Herfindahl–Hirschman index Σ (x_i/X)², 0 when X = 0.
func (d Distribution) HHI() float64 {
	if d.total == (uint128{}) {
		return 0
	}
	x := d.total.float()
	var h float64
	for _, v := range d.asc {
		s := float64(v) / x
		h += s * s
	}
	return h
}

// Point is one point of a Lorenz curve: the poorest Population share of items
// holds Value share of the total.
type Point struct {
	Population float64 `json:"population"`
	Value      float64 `json:"value"`
}

// Lorenz returns at most maxPoints+1 points of L(k/N) = Σ_{j≤k} x_(j) / X,
// at evenly spaced k from 0 to N, always including both exact endpoints
// (0,0) and (1,1). Values are non-decreasing in both coordinates. With X = 0
// the curve is the line of equality. maxPoints < 1 means 1000; N = 0 yields
// only the endpoints.
func (d Distribution) Lorenz(maxPoints int) []Point {
	if maxPoints < 1 {
		maxPoints = 1000
	}
	n := len(d.asc)
	if n == 0 {
		return []Point{{0, 0}, {1, 1}}
	}
	steps := min(maxPoints, n)
	out := make([]Point, 0, steps+1)
	out = append(out, Point{0, 0})
	x := d.total.float()
	var cum uint128
	j := 0
	for s := 1; s <= steps; s++ {
		k := int((int64(s) * int64(n)) / int64(steps)) // k_s, with k_steps = n
		for ; j < k; j++ {
			cum.add(uint64(d.asc[j]))
		}
		p := Point{Population: float64(k) / float64(n), Value: float64(k) / float64(n)}
		if x > 0 {
			p.Value = cum.float() / x
		}
		out = append(out, p)
	}
	out[len(out)-1] = Point{1, 1}
	return out
}
