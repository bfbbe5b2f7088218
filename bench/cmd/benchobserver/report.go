package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// runReport is the part of `rxprobe run --report` (rx.Report) the bench
// reads. Like benchrx, the bench does not import package rx: that would
// link DPDK.
type runReport struct {
	DurationS   float64 `json:"duration_s"`
	RXPackets   uint64  `json:"rx_packets"`
	RXMpps      float64 `json:"rx_mpps"`
	FilePrefix  string  `json:"file_prefix"`
	SteadyState *struct {
		WindowS  float64 `json:"window_s"`
		Mallocs  uint64  `json:"mallocs"`
		GCCycles uint32  `json:"gc_cycles"`
	} `json:"steady_state"`
	Ports []struct {
		Queues []struct {
			CPU          int    `json:"cpu"`
			MaxGapNs     uint64 `json:"max_gap_ns"`
			GapHistogram []struct {
				LeNs  *uint64 `json:"le_ns"`
				Count uint64  `json:"count"`
			} `json:"gap_histogram"`
		} `json:"queues"`
	} `json:"ports"`
}

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
	var r runReport
	if err := json.Unmarshal(data, &r); err != nil {
		return runFigures{}, fmt.Errorf("rxprobe report: %w", err)
	}
	if len(r.Ports) != 1 || len(r.Ports[0].Queues) != 1 {
		return runFigures{}, errors.New("rxprobe report: want one port with one queue")
	}
	q := r.Ports[0].Queues[0]
	if q.CPU != cpu {
		return runFigures{}, fmt.Errorf("rxprobe report: loop ran on CPU %d, the bench measured CPU %d", q.CPU, cpu)
	}
	if r.RXPackets == 0 || r.DurationS <= 0 {
		return runFigures{}, fmt.Errorf("rxprobe report: %d packets in %.3f s: nothing measured", r.RXPackets, r.DurationS)
	}
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
