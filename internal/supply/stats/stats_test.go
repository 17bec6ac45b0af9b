package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

const eps = 1e-12

func near(a, b float64) bool { return math.Abs(a-b) <= eps*math.Max(1, math.Abs(b)) }

func TestHandComputed(t *testing.T) {
	tests := []struct {
		name       string
		values     []int64
		gini       float64
		hhi        float64
		topHalf    float64 // TopShare(0.5)
		below3     float64 // ShareBelow(3)
		lorenz     []Point // Lorenz(N)
		quantile50 int64
	}{
		{"equal", []int64{1, 1, 1, 1}, 0, 0.25, 0.5, 1, []Point{{0, 0}, {.25, .25}, {.5, .5}, {.75, .75}, {1, 1}}, 1},
		{"one holds all", []int64{0, 10, 0, 0}, 0.75, 1, 1, 0.75, []Point{{0, 0}, {.25, 0}, {.5, 0}, {.75, 0}, {1, 1}}, 0},
		{"1..4 unsorted", []int64{3, 1, 4, 2}, 0.25, 0.3, 0.7, 0.5, []Point{{0, 0}, {.25, .1}, {.5, .3}, {.75, .6}, {1, 1}}, 2},
		{"all zero", []int64{0, 0}, 0, 0, 0, 1, []Point{{0, 0}, {.5, .5}, {1, 1}}, 0},
		{"single", []int64{7}, 0, 1, 1, 0, []Point{{0, 0}, {1, 1}}, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := New(append([]int64(nil), tc.values...))
			if g := d.Gini(); !near(g, tc.gini) {
				t.Errorf("Gini = %v, want %v", g, tc.gini)
			}
			if h := d.HHI(); !near(h, tc.hhi) {
				t.Errorf("HHI = %v, want %v", h, tc.hhi)
			}
			if s := d.TopShare(0.5); !near(s, tc.topHalf) {
				t.Errorf("TopShare(0.5) = %v, want %v", s, tc.topHalf)
			}
			if s := d.ShareBelow(3); !near(s, tc.below3) {
				t.Errorf("ShareBelow(3) = %v, want %v", s, tc.below3)
			}
			if q := d.Quantile(0.5); q != tc.quantile50 {
				t.Errorf("Quantile(0.5) = %v, want %v", q, tc.quantile50)
			}
			got := d.Lorenz(len(tc.values))
			if len(got) != len(tc.lorenz) {
				t.Fatalf("Lorenz = %v, want %v", got, tc.lorenz)
			}
			for i := range got {
				if !near(got[i].Population, tc.lorenz[i].Population) || !near(got[i].Value, tc.lorenz[i].Value) {
					t.Fatalf("Lorenz = %v, want %v", got, tc.lorenz)
				}
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	var d Distribution
	if d.N() != 0 || d.Gini() != 0 || d.TopShare(0.01) != 0 || d.ShareBelow(200) != 0 || d.HHI() != 0 || d.Quantile(0.5) != 0 {
		t.Fatalf("zero Distribution must measure 0")
	}
	if l := d.Lorenz(10); len(l) != 2 || l[1] != (Point{1, 1}) {
		t.Fatalf("Lorenz of empty = %v", l)
	}
}

func TestTopCountDecimalFractions(t *testing.T) {
	tests := []struct {
		p    float64
		n    int
		want int
	}{
		{0.0001, 10000, 1}, // 0.0001·10000 is 1.0000000000000002 in binary
		{0.0001, 10001, 2},
		{0.0001, 3, 1},
		{0.01, 100, 1},
		{0.01, 101, 2},
		{0.015, 1000, 15},
		{1, 5, 5},
		{0, 5, 0},
		{2, 5, 5},
	}
	for _, tc := range tests {
		if got := ceilCount(tc.p, tc.n); got != tc.want {
			t.Errorf("ceilCount(%v, %d) = %d, want %d", tc.p, tc.n, got, tc.want)
		}
	}
}

func TestNegativeClampedAndNonNegative(t *testing.T) {
	vs := []int64{-1, 5, -1, 5}
	if got := NonNegative(vs); len(got) != 2 {
		t.Fatalf("NonNegative = %v", got)
	}
	d := New(vs)
	if d.Total() != 10 || d.CountBelow(1) != 2 {
		t.Fatalf("negative values must count as 0: total %v below1 %d", d.Total(), d.CountBelow(1))
	}
}

// TestExactLargeSums checks the 128-bit sums: 3 million items of 10^12 each
// overflow an int64 weighted sum but must still give Gini 0 and exact shares.
func TestExactLargeSums(t *testing.T) {
	vs := make([]int64, 3_000_000)
	for i := range vs {
		vs[i] = 1_000_000_000_000
	}
	d := New(vs)
	if g := d.Gini(); g > 1e-9 {
		t.Fatalf("Gini of equal large values = %v", g)
	}
	if s := d.TopShare(0.0001); !near(s, 300.0/3_000_000) {
		t.Fatalf("TopShare = %v", s)
	}
}

// giniPairs is the textbook definition Σ_i Σ_j |x_i − x_j| / (2·N²·μ).
func giniPairs(vs []int64) float64 {
	var sum, tot float64
	for _, a := range vs {
		tot += float64(a)
		for _, b := range vs {
			sum += math.Abs(float64(a - b))
		}
	}
	if tot == 0 {
		return 0
	}
	n := float64(len(vs))
	return sum / (2 * n * n * (tot / n))
}

func TestProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		n := 1 + r.IntN(200)
		vs := make([]int64, n)
		for i := range vs {
			switch trial % 3 {
			case 0:
				vs[i] = r.Int64N(1000)
			case 1: // heavy tail
				vs[i] = int64(math.Pow(10, r.Float64()*9))
			default: // many zeros
				if r.IntN(4) == 0 {
					vs[i] = r.Int64N(1e6)
				}
			}
		}
		want := giniPairs(vs)
		d := New(vs)
		g := d.Gini()
		if g < 0 || g > 1 {
			t.Fatalf("Gini %v outside [0,1] for %v", g, vs)
		}
		if math.Abs(g-want) > 1e-9 {
			t.Fatalf("Gini %v != pairwise definition %v", g, want)
		}
		l := d.Lorenz(1 + r.IntN(50))
		if l[0] != (Point{0, 0}) || l[len(l)-1] != (Point{1, 1}) {
			t.Fatalf("Lorenz endpoints %v %v", l[0], l[len(l)-1])
		}
		for i := 1; i < len(l); i++ {
			if l[i].Population < l[i-1].Population || l[i].Value < l[i-1].Value {
				t.Fatalf("Lorenz not monotone at %d: %v", i, l)
			}
			if l[i].Value > l[i].Population+1e-12 {
				t.Fatalf("Lorenz above the line of equality at %d: %v", i, l[i])
			}
		}
		prev := 0.0
		for _, p := range []float64{0.0001, 0.01, 0.1, 0.5, 1} {
			s := d.TopShare(p)
			if s < prev-1e-12 || s > 1+1e-12 {
				t.Fatalf("TopShare(%v) = %v after %v", p, s, prev)
			}
			prev = s
		}
		if d.Total() > 0 && !near(d.TopShare(1), 1) {
			t.Fatalf("TopShare(1) = %v", d.TopShare(1))
		}
	}
}

func BenchmarkDistribution(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	src := make([]int64, 3_000_000)
	for i := range src {
		src[i] = int64(math.Pow(10, r.Float64()*9))
	}
	buf := make([]int64, len(src))
	b.Run("copy-baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			copy(buf, src)
		}
	})
	b.Run("new+all-measures", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			copy(buf, src)
			d := New(buf)
			_ = d.Gini()
			_ = d.TopShare(0.0001)
			_ = d.TopShare(0.01)
			_ = d.ShareBelow(200)
			_ = d.Lorenz(1000)
		}
	})
}
