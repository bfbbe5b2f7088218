package benchkit

import (
	"fmt"
	"math"
	"sort"
)

// Number is what Median takes.
type Number interface {
	~int | ~uint64 | ~float64
}

// Median of xs (0 for none); xs is not modified. An even count averages
// the middle two.
func Median[T Number](xs []T) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := make([]float64, len(xs))
	for i, x := range xs {
		s[i] = float64(x)
	}
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Spread is the smallest, median and largest of a figure over rounds.
type Spread struct {
	Min, Median, Max float64
	N                int
}

// SpreadOf summarises xs (all zero for none).
func SpreadOf[T Number](xs []T) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := Spread{Min: math.Inf(1), Max: math.Inf(-1), Median: Median(xs), N: len(xs)}
	for _, x := range xs {
		s.Min, s.Max = math.Min(s.Min, float64(x)), math.Max(s.Max, float64(x))
	}
	return s
}

// Format renders the spread as "median (min–max)" with verb (e.g. "%.3f")
// for each number.
func (s Spread) Format(verb string) string {
	return fmt.Sprintf(verb+" ("+verb+"–"+verb+")", s.Median, s.Min, s.Max)
}

// Ratio is a/b; 0/0 is 1 (the same) and a/0 for a > 0 is +Inf.
func Ratio(a, b float64) float64 {
	if b == 0 {
		if a == 0 {
			return 1
		}
		return math.Inf(1)
	}
	return a / b
}

// Ratios is the per-round ratio a[i]/b[i] (see Ratio) over the rounds both
// have.
func Ratios(a, b []float64) []float64 {
	n := min(len(a), len(b))
	r := make([]float64, n)
	for i := range n {
		r[i] = Ratio(a[i], b[i])
	}
	return r
}

// Order is the order in which n tools (or scenarios) run in round (from
// 1): as given in odd rounds, reversed in even ones, so that each runs
// first as often as last and slow drift of the machine (other work,
// temperature, clock) does not favour one.
func Order(round, n int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = i
		if round%2 == 0 {
			o[i] = n - 1 - i
		}
	}
	return o
}
