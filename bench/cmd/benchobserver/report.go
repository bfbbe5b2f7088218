package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"errors"
	"fmt"
	"time"
)

// runFigures are what a scenario's table row shows from the report.
type runFigures struct {
	Mpps    float64
	MaxGap  time.Duration
	Above   uint64        // loop gaps longer than AboveNs
	AboveNs time.Duration // the histogram bound Above counts from
	Mallocs uint64        // Go heap allocations in the steady state
	GCs     uint32
	Prefix  string
}

// parseRunReport checks that the report is one loop on cpu and extracts
// the figures. Gaps above threshold are counted from the first histogram
// bound at or above threshold (the buckets are powers of two, so 10 µs
// counts gaps above 16.384 µs: every one of them is above 10 µs).
func parseRunReport(data []byte, cpu int, threshold time.Duration) (runFigures, error) {
	r, err := benchkit.ParseRunReport(data, cpu)
	if err != nil {
		return runFigures{}, err
	}
	q := r.Queue()
	f := runFigures{Mpps: r.RXMpps, MaxGap: time.Duration(q.MaxGapNs), Prefix: r.FilePrefix}
	if r.SteadyState == nil {
		return f, errors.New("rxprobe report: no steady_state (run shorter than its warm-up?)")
	}
	f.Mallocs, f.GCs = r.SteadyState.Mallocs, r.SteadyState.GCCycles
	counting := false
	for _, b := range q.GapHistogram {
		if counting {
			f.Above += b.Count
			continue
		}
		if b.LeNs == nil {
			return f, fmt.Errorf("rxprobe report: no gap histogram bound at or above %s", threshold)
		}
		if time.Duration(*b.LeNs) >= threshold {
			counting, f.AboveNs = true, time.Duration(*b.LeNs)
		}
	}
	if !counting {
		return f, errors.New("rxprobe report: empty gap histogram")
	}
	return f, nil
}
