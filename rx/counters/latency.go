package counters

import "math/bits"

// Latency histogram layout: log-linear with LatSubBuckets linear buckets
// per power of two (HdrHistogram-like, about 3 % precision). The C loop
// (rx/internal/dpdk/rxp.h, RXP_LAT_*) uses the same layout; the dpdk
// package checks the bucket count at compile time.
const (
	latSubBits = 5
	// LatSubBuckets is the number of linear buckets per power of two.
	LatSubBuckets = 1 << latSubBits
	// LatBuckets is the number of latency buckets: 64 exact ns, 26 ranges of
	// 32 linear buckets (values below 2^32 ns), and one for 2^32 ns
	// (~4.3 s) and more.
	LatBuckets = 28*LatSubBuckets + 1
	// LatOverflowNs is the lower bound of the last, open-ended bucket.
	LatOverflowNs = uint64(1) << 32
)

// LatBucket is the bucket of a latency of v ns: exact below 64 ns, then
// 32 buckets per power of two.
func LatBucket(v uint64) int {
	if v >= LatOverflowNs {
		return LatBuckets - 1
	}
	e := 0
	if v >= 2*LatSubBuckets {
		e = bits.Len64(v) - latSubBits - 1
	}
	return e<<latSubBits + int(v>>uint(e))
}

// LatBucketRange is bucket i's range [lo, hi) in ns. The last bucket's hi
// is 0 (open-ended).
func LatBucketRange(i int) (lo, hi uint64) {
	if i >= LatBuckets-1 {
		return LatOverflowNs, 0
	}
	if i < 2*LatSubBuckets {
		return uint64(i), uint64(i) + 1
	}
	e := i>>latSubBits - 1
	m := uint64(i - e<<latSubBits)
	return m << uint(e), (m + 1) << uint(e)
}

// Latency is one RX queue's latency record (rxprobe run --latency):
// counts and the histogram of one-way latencies of stamped frames.
type Latency struct {
	Stamped   uint64 // frames with the generator's marker: recorded
	Unstamped uint64 // frames without it
	Gaps      uint64 // sequence numbers skipped (not received in order)
	Reordered uint64 // frames whose sequence number was at or below the highest seen
	MaxNs     uint64 // highest latency recorded since the start
	SumNs     uint64
	Hist      [LatBuckets]uint64
}

// Sub sets l to cur - prev (a trial's or an interval's share) without
// allocating. MaxNs becomes the upper bound of the highest bucket that
// grew, capped by cur.MaxNs: the exact maximum of an interval is not kept.
func (l *Latency) Sub(cur, prev *Latency) {
	l.Stamped = cur.Stamped - prev.Stamped
	l.Unstamped = cur.Unstamped - prev.Unstamped
	l.Gaps = cur.Gaps - prev.Gaps
	l.Reordered = cur.Reordered - prev.Reordered
	l.SumNs = cur.SumNs - prev.SumNs
	l.MaxNs = 0
	for i := range l.Hist {
		l.Hist[i] = cur.Hist[i] - prev.Hist[i]
		if l.Hist[i] != 0 {
			_, hi := LatBucketRange(i)
			l.MaxNs = hi - 1
			if hi == 0 || l.MaxNs > cur.MaxNs {
				l.MaxNs = cur.MaxNs
			}
		}
	}
}

// Add adds o's counts and histogram to l (totals over queues).
func (l *Latency) Add(o *Latency) {
	l.Stamped += o.Stamped
	l.Unstamped += o.Unstamped
	l.Gaps += o.Gaps
	l.Reordered += o.Reordered
	l.SumNs += o.SumNs
	l.MaxNs = max(l.MaxNs, o.MaxNs)
	for i := range l.Hist {
		l.Hist[i] += o.Hist[i]
	}
}

// Percentile is the latency in ns at or below which fraction q (0..1) of
// the recorded frames lie: the midpoint of the bucket that holds that
// rank (within 1/64 of the true value above 64 ns, exact below), never
// above MaxNs. 0 when nothing was recorded.
func (l *Latency) Percentile(q float64) uint64 {
	var n uint64
	for _, c := range l.Hist {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = min(max(rank, 1), n)
	var seen uint64
	for i, c := range l.Hist {
		seen += c
		if seen >= rank {
			lo, hi := LatBucketRange(i)
			v := lo
			if hi > lo+1 {
				v = lo + (hi-lo)/2
			}
			if hi == 0 || (l.MaxNs != 0 && v > l.MaxNs) {
				v = max(l.MaxNs, lo)
			}
			return v
		}
	}
	return l.MaxNs
}

// LatencySummary is a latency record's figures, as the trial API and the
// run report give them.
type LatencySummary struct {
	Count     uint64 `json:"count"`
	Unstamped uint64 `json:"unstamped"`
	Gaps      uint64 `json:"gaps"`
	Reordered uint64 `json:"reordered"`
	P50Ns     uint64 `json:"p50_ns"`
	P90Ns     uint64 `json:"p90_ns"`
	P99Ns     uint64 `json:"p99_ns"`
	P999Ns    uint64 `json:"p99_9_ns"`
	MaxNs     uint64 `json:"max_ns"`
	MeanNs    uint64 `json:"mean_ns"`
}

// Summary computes l's percentiles and counts.
func (l *Latency) Summary() LatencySummary {
	s := LatencySummary{Count: l.Stamped, Unstamped: l.Unstamped, Gaps: l.Gaps, Reordered: l.Reordered,
		P50Ns: l.Percentile(0.50), P90Ns: l.Percentile(0.90), P99Ns: l.Percentile(0.99),
		P999Ns: l.Percentile(0.999), MaxNs: l.MaxNs}
	if l.Stamped > 0 {
		s.MeanNs = l.SumNs / l.Stamped
	}
	return s
}
