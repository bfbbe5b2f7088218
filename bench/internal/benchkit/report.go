package benchkit

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rxprobe/rxprobe/internal/run/report"
)

// RunReport is `rxprobe run --report` as the harnesses read it: the
// report type itself (internal/run/report has no cgo, so importing it does
// not link DPDK into the harnesses).
type RunReport struct{ report.Report }

// ParseRunReport reads a report of a benchmark run: one port with one
// queue whose loop ran on cpu, and packets counted over a positive time.
func ParseRunReport(data []byte, cpu int) (RunReport, error) {
	var r RunReport
	if err := json.Unmarshal(data, &r.Report); err != nil {
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
func (r RunReport) Queue() report.Queue { return r.Ports[0].Queues[0] }
