package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// dist is a latency distribution as a tool reports it: a histogram and a
// maximum. Both tools only give bucket counts, so every percentile derived
// here is a bucket's upper bound, never an exact value.
type dist struct {
	// Lo and Hi are each bucket's bounds in ns; Hi 0 means unbounded.
	// rxprobe's buckets hold gaps in (Lo, Hi], oslat's latencies in
	// [Lo, Hi): the difference is one nanosecond and does not matter here.
	Lo, Hi []uint64
	Counts []uint64
	// MaxLo ≤ true maximum ≤ MaxHi. rxprobe reports its maximum to the
	// nanosecond (MaxLo == MaxHi); oslat rounds it up to the microsecond.
	MaxLo, MaxHi uint64
	Samples      uint64
}

// quantile returns the upper bound, in ns, of the bucket holding the
// p-quantile (0 < p < 1): the smallest bucket whose cumulative count
// reaches ceil(p × samples). In the unbounded last bucket it returns the
// maximum's upper bound instead.
func (d dist) quantile(p float64) uint64 {
	if d.Samples == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p * float64(d.Samples)))
	if rank < 1 {
		rank = 1
	}
	var cum uint64
	for i, c := range d.Counts {
		cum += c
		if cum >= rank {
			if d.Hi[i] == 0 || d.Hi[i] > d.MaxHi && d.MaxHi > 0 {
				return d.MaxHi
			}
			return d.Hi[i]
		}
	}
	return d.MaxHi
}

// over counts the samples in buckets that lie wholly at or above t, with t
// first rounded down to a bucket boundary of this histogram (returned as
// eff): the count of samples ≥ eff. For rxprobe's power-of-two thresholds
// eff == t; oslat's 1 µs grid rounds 1024 ns down to 1000 ns and caps at
// its overflow bucket.
func (d dist) over(t uint64) (count, eff uint64) {
	for _, lo := range d.Lo {
		if lo <= t && lo > eff {
			eff = lo
		}
	}
	for i, c := range d.Counts {
		if d.Lo[i] >= eff {
			count += c
		}
	}
	return count, eff
}

// log2Bucket is the index of rxprobe's gap histogram bucket that holds ns:
// 0 for ≤ 64 ns, k for (64<<(k-1), 64<<k], 25 (unbounded) above 64<<24.
func log2Bucket(ns uint64) int {
	for k := 0; k < 25; k++ {
		if ns <= 64<<k {
			return k
		}
	}
	return 25
}

// gridFloor is the first log2 bucket both tools can resolve: oslat's
// smallest bucket is "< 1 µs", which on rxprobe's grid is bucket 4
// (≤ 1024 ns). Comparing like with like, anything below is bucket 4.
const gridFloor = 4

// gridBucket maps a percentile's upper bound onto the common grid.
func gridBucket(ns uint64) int {
	return max(log2Bucket(ns), gridFloor)
}

// gridLabel is a common-grid bucket's upper bound as text ("≤1.0µs").
func gridLabel(k int) string {
	if k >= 25 {
		return ">1.07s"
	}
	return "≤" + fmtNs(64<<k)
}

// oslatJSON is the part of `oslat --json` (rt-tests 2.4) the bench reads.
// Its histogram keys are microseconds: key k counts latencies in
// [k-1, k) µs (oslat stores floor(ns / 1000) + 1, so a sub-microsecond
// latency is "1"); the last key, the bucket size, also holds every larger
// latency. Buckets with a zero count are left out. min and max are
// rounded up the same way.
type oslatJSON struct {
	ReturnCode *int `json:"return_code"`
	NumThreads int  `json:"num_threads"`
	Thread     map[string]struct {
		CPU       int               `json:"cpu"`
		Freq      float64           `json:"freq"`
		Min       uint64            `json:"min"`
		Max       uint64            `json:"max"`
		Duration  float64           `json:"duration"`
		Histogram map[string]uint64 `json:"histogram"`
	} `json:"thread"`
}

// oslatResult is one oslat run on one CPU.
type oslatResult struct {
	Dist     dist
	Seconds  float64 // oslat's measured duration
	FreqMHz  float64 // TSC frequency oslat measured
	MinUpper uint64  // minimum, µs upper bound
}

// parseOslat reads oslat's JSON for a run with --bucket-size buckets and
// checks that it measured exactly CPU cpu.
func parseOslat(data []byte, buckets, cpu int) (oslatResult, error) {
	var j oslatJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return oslatResult{}, fmt.Errorf("oslat json: %w", err)
	}
	if j.ReturnCode == nil {
		return oslatResult{}, errors.New("oslat json: no return_code: not oslat's --json output")
	}
	if *j.ReturnCode != 0 {
		return oslatResult{}, fmt.Errorf("oslat json: return_code %d", *j.ReturnCode)
	}
	if len(j.Thread) != 1 || j.NumThreads != 1 {
		return oslatResult{}, fmt.Errorf("oslat json: %d threads, want 1", len(j.Thread))
	}
	var res oslatResult
	for _, t := range j.Thread {
		if t.CPU != cpu {
			return res, fmt.Errorf("oslat json: measured CPU %d, want %d", t.CPU, cpu)
		}
		if t.Duration <= 0 || t.Max == 0 {
			return res, fmt.Errorf("oslat json: duration %g s, max %d µs: nothing measured", t.Duration, t.Max)
		}
		d := dist{Lo: make([]uint64, buckets), Hi: make([]uint64, buckets), Counts: make([]uint64, buckets)}
		for k := 1; k <= buckets; k++ {
			d.Lo[k-1] = uint64(k-1) * 1000
			if k < buckets {
				d.Hi[k-1] = uint64(k) * 1000
			}
		}
		for key, n := range t.Histogram {
			k, err := strconv.Atoi(key)
			if err != nil || k < 1 || k > buckets {
				return res, fmt.Errorf("oslat json: histogram key %q: want 1..%d (was it run with --bucket-size %d?)", key, buckets, buckets)
			}
			d.Counts[k-1] = n
			d.Samples += n
		}
		if d.Samples == 0 {
			return res, errors.New("oslat json: empty histogram")
		}
		d.MaxLo, d.MaxHi = (t.Max-1)*1000, t.Max*1000
		res = oslatResult{Dist: d, Seconds: t.Duration, FreqMHz: t.Freq, MinUpper: t.Min}
	}
	return res, nil
}

// rxprobeResult is one rxprobe run's loop.
type rxprobeResult struct {
	Dist    dist
	Seconds float64 // the loop's run time (report duration_s)
	Polls   uint64
	Mpps    float64
}

// parseReport reads rxprobe's report: one port, one queue polled on cpu,
// and its gap histogram (log2 buckets 64 ns … 64<<24 ns, then unbounded).
func parseReport(data []byte, cpu int) (rxprobeResult, error) {
	r, err := benchkit.ParseRunReport(data, cpu)
	if err != nil {
		return rxprobeResult{}, err
	}
	q := r.Queue()
	h := q.GapHistogram
	if len(h) < 2 || h[len(h)-1].LeNs != nil {
		return rxprobeResult{}, errors.New("rxprobe report: gap_histogram does not end in an unbounded bucket")
	}
	d := dist{MaxLo: q.MaxGapNs, MaxHi: q.MaxGapNs}
	var lo uint64
	for i, b := range h {
		var hi uint64
		if b.LeNs != nil {
			hi = *b.LeNs
			if hi <= lo || i == len(h)-1 {
				return rxprobeResult{}, fmt.Errorf("rxprobe report: gap_histogram bucket %d: le_ns %d after %d", i, hi, lo)
			}
		}
		d.Lo, d.Hi, d.Counts = append(d.Lo, lo), append(d.Hi, hi), append(d.Counts, b.Count)
		d.Samples += b.Count
		lo = hi
	}
	if d.Samples == 0 {
		return rxprobeResult{}, fmt.Errorf("rxprobe report: no gaps in %.3f s: nothing measured", r.DurationS)
	}
	return rxprobeResult{Dist: d, Seconds: r.DurationS, Polls: q.Polls, Mpps: r.RXMpps}, nil
}

// fmtNs prints a duration in ns with a unit that keeps 2–4 digits.
func fmtNs(ns uint64) string {
	switch {
	case ns < 1000:
		return fmt.Sprintf("%dns", ns)
	case ns < 1000_000:
		return trimFloat(float64(ns)/1e3) + "µs"
	case ns < 1000_000_000:
		return trimFloat(float64(ns)/1e6) + "ms"
	default:
		return trimFloat(float64(ns)/1e9) + "s"
	}
}

func trimFloat(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}
