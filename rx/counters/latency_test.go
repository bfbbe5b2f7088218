package counters

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestLatBucketRanges: the buckets tile 0..2^32 ns without holes or
// overlaps, every value falls in the bucket whose range holds it, and no
// bucket is wider than 1/32 of its lower bound above 64 ns.
func TestLatBucketRanges(t *testing.T) {
	var next uint64
	for i := 0; i < LatBuckets-1; i++ {
		lo, hi := LatBucketRange(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if hi <= lo {
			t.Fatalf("bucket %d: [%d, %d) empty", i, lo, hi)
		}
		if lo >= 64 && (hi-lo)*32 > lo {
			t.Fatalf("bucket %d: [%d, %d) wider than lo/32", i, lo, hi)
		}
		for _, v := range []uint64{lo, hi - 1, lo + (hi-lo)/2} {
			if got := LatBucket(v); got != i {
				t.Fatalf("LatBucket(%d) = %d, want %d", v, got, i)
			}
		}
		next = hi
	}
	if next != LatOverflowNs {
		t.Fatalf("buckets end at %d, want %d", next, LatOverflowNs)
	}
	if got := LatBucket(^uint64(0)); got != LatBuckets-1 {
		t.Fatalf("LatBucket(max) = %d, want %d", got, LatBuckets-1)
	}
}

// TestLatPercentiles: percentiles from the histogram are within 3 % of
// the exact ones of the sorted samples (or exact below 64 ns), for
// several distributions, and the max is kept.
func TestLatPercentiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	dists := map[string]func() uint64{
		"uniform 0-100us": func() uint64 { return r.Uint64N(100_000) },
		"exponential 5us": func() uint64 { return uint64(r.ExpFloat64() * 5000) },
		"small 0-80ns":    func() uint64 { return r.Uint64N(80) },
		"heavy tail": func() uint64 {
			if r.IntN(1000) == 0 {
				return 500_000_000 + r.Uint64N(1_000_000_000)
			}
			return 2000 + r.Uint64N(500)
		},
	}
	for name, gen := range dists {
		t.Run(name, func(t *testing.T) {
			var l Latency
			vals := make([]uint64, 200_000)
			for i := range vals {
				v := gen()
				vals[i] = v
				l.Hist[LatBucket(v)]++
				l.Stamped++
				l.MaxNs = max(l.MaxNs, v)
			}
			slices.Sort(vals)
			for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
				rank := min(max(int(q*float64(len(vals))+0.5), 1), len(vals))
				want := vals[rank-1]
				got := l.Percentile(q)
				if diff := absDiff(got, want); diff*100 > want*3 && diff > 0 {
					t.Errorf("p%v: got %d ns, exact %d ns (%.2f %% off)", q*100, got, want, 100*float64(diff)/float64(max(want, 1)))
				}
			}
			if got := l.Percentile(1); got != l.MaxNs && absDiff(got, l.MaxNs)*100 > l.MaxNs*3 {
				t.Errorf("p100 %d, max %d", got, l.MaxNs)
			}
		})
	}
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

// TestLatEdges: an empty record has zero percentiles; a value in the
// overflow bucket reports the recorded max; Sub and Add are inverses.
func TestLatEdges(t *testing.T) {
	var l Latency
	if got := l.Percentile(0.5); got != 0 {
		t.Fatalf("empty p50 = %d", got)
	}
	l.Hist[LatBucket(5_000_000_000)]++
	l.Stamped, l.MaxNs = 1, 5_000_000_000
	if got := l.Percentile(0.5); got != 5_000_000_000 {
		t.Fatalf("overflow p50 = %d, want the max", got)
	}
	var a, b, d Latency
	for v := uint64(100); v < 1_000_000; v = v*3/2 + 1 {
		a.Hist[LatBucket(v)]++
		a.Stamped++
	}
	a.MaxNs, a.Gaps, a.Reordered = 999_999, 4, 2
	b = a
	for v := uint64(1000); v < 2000; v++ {
		b.Hist[LatBucket(v)]++
		b.Stamped++
	}
	b.Gaps = 7
	d.Sub(&b, &a)
	if d.Stamped != 1000 || d.Gaps != 3 || d.Reordered != 0 {
		t.Fatalf("delta: stamped %d gaps %d reordered %d, want 1000 3 0", d.Stamped, d.Gaps, d.Reordered)
	}
	if lo, hi := uint64(1999), uint64(1999*103/100); d.MaxNs < lo || d.MaxNs > hi {
		t.Fatalf("delta max %d, want 1999 (+3 %%)", d.MaxNs)
	}
	if p := d.Percentile(0.5); absDiff(p, 1500)*100 > 1500*3 {
		t.Fatalf("delta p50 %d, want ~1500", p)
	}
	d.Add(&a)
	if d.Stamped != b.Stamped || d.Hist != b.Hist {
		t.Fatal("delta + prev != cur")
	}
}
