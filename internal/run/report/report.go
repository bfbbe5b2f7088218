package report

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/rxprobe/rxprobe/isolation/guard"
	"github.com/rxprobe/rxprobe/rx/counters"
)

// Report is the JSON document `rxprobe run --report` writes. Other tools
// read it: fields may be added, never renamed.
type Report struct {
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	DurationS float64   `json:"duration_s"`
	RXPackets uint64    `json:"rx_packets"`
	RXBytes   uint64    `json:"rx_bytes"`
	RXMpps    float64   `json:"rx_mpps"`
	// RXDropped is every port's drops over the run, every class of
	// stats/dropclass summed: the ledger's definition (see dropTotal).
	RXDropped  uint64     `json:"rx_dropped"`
	Degraded   []string   `json:"degraded"`
	FilePrefix string     `json:"file_prefix"`
	TSCHz      uint64     `json:"tsc_hz"`
	TSCCycles  uint64     `json:"tsc_cycles"`
	EALArgs    []string   `json:"eal_args"`
	DPDKEvents DPDKEvents `json:"events_dpdk"`
	// SteadyState is the Go heap activity measured after warm-up.
	SteadyState *SteadyState `json:"steady_state,omitempty"`
	Ports       []Port       `json:"ports"`
	// Ledger classifies every drop of the run by the layer that lost it.
	Ledger []LedgerEntry `json:"ledger,omitempty"`
	// Timeline has one entry per second (the last hour at most).
	Timeline []guard.Second `json:"timeline,omitempty"`
	// Events are the jitter guard's violations and the drift watcher's
	// findings; EventsLost counts guard events beyond the kept number.
	Events     []guard.Event `json:"events"`
	EventsLost int           `json:"events_lost,omitempty"`
	// CaptureHook is what capture.on_file did (absent: no command).
	CaptureHook *CaptureHook `json:"capture_hook,omitempty"`
	// Latency is the one-way latency over every queue (absent: the run
	// did not record latency, run.latency).
	Latency *Latency `json:"latency,omitempty"`
}

// Latency is a run's one-way latency of frames stamped by `rxprobe gen
// --latency`. The figures hold only if that generator ran on this host
// and boot: compare HostClock with the generator report's "clock"
// (counters.SameTSC); the run cannot know which generator sent.
type Latency struct {
	Clock     string             `json:"clock"` // "same-host TSC"
	HostClock counters.HostClock `json:"host_clock"`
	counters.LatencySummary
}

// LedgerEntry is one layer of the drop ledger.
type LedgerEntry struct {
	Layer string `json:"layer"`
	Drops uint64 `json:"drops"`
	Why   string `json:"why"`
	// AfterLoop marks a layer that lost packets the RX loop had already
	// received (capture_ring): they are in rx_packets too. What the
	// senders offered is rx_packets + LostBeforeLoop.
	AfterLoop bool `json:"after_loop,omitempty"`
}

// LostBeforeLoop sums the ledger's layers before the RX loop: with a
// sender's count, offered = rx_packets + LostBeforeLoop.
func (r *Report) LostBeforeLoop() uint64 {
	var n uint64
	for _, l := range r.Ledger {
		if !l.AfterLoop {
			n += l.Drops
		}
	}
	return n
}

// DPDKEvents counts DPDK link-state and removal events during the run.
type DPDKEvents struct {
	LinkChanges uint64 `json:"link_changes"`
	Removals    uint64 `json:"removals"`
}

// SteadyState is the Go heap activity between warm-up and stop.
type SteadyState struct {
	WindowS     float64 `json:"window_s"`
	Mallocs     uint64  `json:"mallocs"`
	HeapBytes   uint64  `json:"heap_alloc_bytes"`
	GCCycles    uint32  `json:"gc_cycles"`
	HeapSysDiff int64   `json:"heap_sys_delta_bytes"`
}

// Port is one port's counters over the run.
type Port struct {
	Name      string            `json:"name"`
	Device    string            `json:"device"`
	Driver    string            `json:"driver"`
	NUMANode  int               `json:"numa_node"`
	LinkUp    bool              `json:"link_up"`
	SpeedMbps uint32            `json:"link_speed_mbps"`
	IPackets  uint64            `json:"ipackets"`
	IMissed   uint64            `json:"imissed"`
	IErrors   uint64            `json:"ierrors"`
	RXNoMbuf  uint64            `json:"rx_nombuf"`
	XStats    map[string]uint64 `json:"xstats"`
	// Kernel is the bound kernel interface's RX counters over the run
	// (AF_XDP, AF_PACKET and pcap ports only).
	Kernel *Kernel `json:"kernel,omitempty"`
	Queues []Queue `json:"queues"`
}

// Queue is one loop's final counters.
type Queue struct {
	ID           int         `json:"id"`
	CPU          int         `json:"cpu"`
	Lcore        uint        `json:"lcore"`
	RXPackets    uint64      `json:"rx_packets"`
	RXBytes      uint64      `json:"rx_bytes"`
	Polls        uint64      `json:"polls"`
	EmptyPolls   uint64      `json:"empty_polls"`
	BusyCycles   uint64      `json:"busy_cycles"`
	BusyFraction float64     `json:"busy_fraction"`
	MaxGapNs     uint64      `json:"max_gap_ns"`
	GapHistogram []GapBucket `json:"gap_histogram"`
	// Capture is the queue's capture block (absent: capture off).
	Capture *Capture `json:"capture,omitempty"`
	// Latency is the queue's one-way latency (absent: latency off).
	Latency *counters.LatencySummary `json:"latency,omitempty"`
}

// Kernel is a kernel interface's RX counters over the run: frames the
// kernel dropped before the PMD saw them (for AF_XDP, a full socket ring
// or empty fill ring) show in RXDropped.
type Kernel struct {
	Iface     string `json:"iface"`
	RXPackets uint64 `json:"rx_packets"`
	RXDropped uint64 `json:"rx_dropped"`
}

// GapBucket is one histogram bucket: gaps <= LeNs (nil: unbounded, +Inf).
type GapBucket struct {
	LeNs  *uint64 `json:"le_ns"`
	Count uint64  `json:"count"`
}

// Write writes r as indented JSON to path, atomically (a temporary file
// renamed over path).
func Write(path string, r *Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
