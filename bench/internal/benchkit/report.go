package benchkit

import (
	"encoding/json"
	"errors"
	"fmt"
)

// RunReport is the part of `rxprobe run --report` (internal/run/report.Report) the
// harnesses read.
type RunReport struct {
	DurationS   float64      `json:"duration_s"`
	RXPackets   uint64       `json:"rx_packets"`
	RXMpps      float64      `json:"rx_mpps"`
	FilePrefix  string       `json:"file_prefix"`
	SteadyState *SteadyState `json:"steady_state"`
	Ports       []ReportPort `json:"ports"`
}

// SteadyState is the report's Go heap figures after rxprobe's warm-up.
type SteadyState struct {
	WindowS  float64 `json:"window_s"`
	Mallocs  uint64  `json:"mallocs"`
	GCCycles uint32  `json:"gc_cycles"`
}

// ReportPort is one port of the report.
type ReportPort struct {
	IMissed  uint64        `json:"imissed"`
	RXNoMbuf uint64        `json:"rx_nombuf"`
	Queues   []ReportQueue `json:"queues"`
}

// ReportQueue is one polled queue: its loop's CPU, polls and gaps.
type ReportQueue struct {
	CPU          int         `json:"cpu"`
	Polls        uint64      `json:"polls"`
	MaxGapNs     uint64      `json:"max_gap_ns"`
	GapHistogram []GapBucket `json:"gap_histogram"`
}

// GapBucket is a histogram bucket: gaps ≤ LeNs (nil: unbounded).
type GapBucket struct {
	LeNs  *uint64 `json:"le_ns"`
	Count uint64  `json:"count"`
}

// ParseRunReport reads a report of a benchmark run: one port with one
// queue whose loop ran on cpu, and packets counted over a positive time.
func ParseRunReport(data []byte, cpu int) (RunReport, error) {
	var r RunReport
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("rxprobe report: %w", err)
	}
	if len(r.Ports) != 1 || len(r.Ports[0].Queues) != 1 {
		return r, errors.New("rxprobe report: want one port with one queue")
	}
	if q := r.Queue(); q.CPU != cpu {
		return r, fmt.Errorf("rxprobe report: loop ran on CPU %d, the bench measured CPU %d (the config's rx_cpus)", q.CPU, cpu)
	}
	if r.RXPackets == 0 || r.DurationS <= 0 {
		return r, fmt.Errorf("rxprobe report: %d packets in %.3f s: nothing measured", r.RXPackets, r.DurationS)
	}
	return r, nil
}

// Queue is the report's only queue (ParseRunReport checked there is one).
func (r RunReport) Queue() ReportQueue { return r.Ports[0].Queues[0] }
