package rx

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/rxprobe/rxprobe/isolation/guard"
	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/dropclass"
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
	// RXDropped is every port's drops over the run, every class summed
	// (stats/dropclass: the ledger's definition).
	RXDropped  uint64       `json:"rx_dropped"`
	Degraded   []string     `json:"degraded"`
	FilePrefix string       `json:"file_prefix"`
	TSCHz      uint64       `json:"tsc_hz"`
	TSCCycles  uint64       `json:"tsc_cycles"`
	EALArgs    []string     `json:"eal_args"`
	DPDKEvents ReportEvents `json:"events_dpdk"`
	// SteadyState is the Go heap activity measured after warm-up.
	SteadyState *SteadyState `json:"steady_state,omitempty"`
	Ports       []PortReport `json:"ports"`
	// Ledger classifies every drop of the run by the layer that lost it.
	Ledger []LedgerEntry `json:"ledger,omitempty"`
	// Timeline has one entry per second (the last hour at most).
	Timeline []guard.Second `json:"timeline,omitempty"`
	// Events are the jitter guard's violations; EventsLost counts those
	// beyond the kept number.
	Events     []guard.Event `json:"events"`
	EventsLost int           `json:"events_lost,omitempty"`
}

// LedgerEntry is one layer of the drop ledger.
type LedgerEntry struct {
	Layer string `json:"layer"`
	Drops uint64 `json:"drops"`
	Why   string `json:"why"`
}

// AddGuard copies the guard's ledger, timeline and events into r.
func (r *Report) AddGuard(g *guard.Guard) {
	if g == nil {
		return
	}
	l := g.Ledger()
	for i, n := range l {
		r.Ledger = append(r.Ledger, LedgerEntry{Layer: guard.LayerNames[i], Drops: n, Why: guard.LayerWhy[i]})
	}
	r.Timeline = g.Timeline()
	ev, lost := g.Events()
	r.Events = append([]guard.Event{}, ev...)
	r.EventsLost = lost
}

// ReportEvents counts DPDK link-state and removal events during the run.
type ReportEvents struct {
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

// PortReport is one port's final counters.
type PortReport struct {
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
	Kernel *KernelReport `json:"kernel,omitempty"`
	Queues []QueueReport `json:"queues"`
}

// QueueReport is one loop's final counters.
type QueueReport struct {
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
}

// KernelReport is a kernel interface's RX counters over the run: frames
// the kernel dropped before the PMD saw them (for AF_XDP, a full socket
// ring or empty fill ring) show in RXDropped.
type KernelReport struct {
	Iface     string `json:"iface"`
	RXPackets uint64 `json:"rx_packets"`
	RXDropped uint64 `json:"rx_dropped"`
}

// GapBucket is one histogram bucket: gaps <= LeNs (nil: unbounded, +Inf).
type GapBucket struct {
	LeNs  *uint64 `json:"le_ns"`
	Count uint64  `json:"count"`
}

// BuildReport turns the first and final readings into a report. Counters
// in the report are deltas over the run (ports may have counted before the
// loops started).
func (e *Engine) BuildReport(version string, first, last *Reading) *Report {
	dur := last.At.Sub(e.Started).Seconds()
	r := &Report{Version: version, StartedAt: e.Started, DurationS: dur, Degraded: append([]string{}, e.Degraded...),
		FilePrefix: e.sess.plan.Prefix, TSCHz: e.TSCHz, EALArgs: e.sess.plan.Args,
		DPDKEvents: ReportEvents{LinkChanges: last.Events.LinkChanges, Removals: last.Events.Removals}}
	r.RXPackets, r.RXBytes = last.Totals()
	r.TSCCycles = last.TSC - first.TSC
	if dur > 0 {
		r.RXMpps = float64(r.RXPackets) / dur / 1e6
	}
	qi := 0
	for i, p := range e.Ports {
		f, l := first.Ports[i].Stats, last.Ports[i].Stats
		pr := PortReport{Name: p.Cfg.Name, Device: p.Cfg.Device, Driver: p.Info.Driver, NUMANode: p.Node,
			LinkUp: p.Link.Up, SpeedMbps: p.Link.SpeedMbps,
			IPackets: l.IPackets - f.IPackets, IMissed: l.IMissed - f.IMissed, IErrors: l.IErrors - f.IErrors,
			RXNoMbuf: l.RXNoMbuf - f.RXNoMbuf, XStats: map[string]uint64{}}
		dropsIn, dropsOut := dropclass.Input{XStats: first.Ports[i].XStats}, dropclass.Input{XStats: last.Ports[i].XStats}
		dropsIn.Basic = dropclass.Basic{IMissed: f.IMissed, IErrors: f.IErrors, RXNoMbuf: f.RXNoMbuf}
		dropsOut.Basic = dropclass.Basic{IMissed: l.IMissed, IErrors: l.IErrors, RXNoMbuf: l.RXNoMbuf}
		if p.Iface != "" {
			if end := readNetdev(e.hostRoot, p.Iface); end.OK && p.NetdevStart.OK {
				pr.Kernel = &KernelReport{Iface: p.Iface, RXPackets: end.RXPackets - p.NetdevStart.RXPackets, RXDropped: end.RXDropped - p.NetdevStart.RXDropped}
				dropsIn.Kernel, dropsOut.Kernel = p.NetdevStart.RXDropped, end.RXDropped
			}
		}
		plan := dropclass.Resolve(p.Info.Driver, p.XStatNames())
		drops := plan.Classify(&dropsOut).Sub(plan.Classify(&dropsIn))
		r.RXDropped += drops.Total()
		for k, name := range p.XStatNames() {
			pr.XStats[name] = last.Ports[i].XStats[k]
		}
		for ; qi < len(e.Queues) && e.Queues[qi].Port == p; qi++ {
			q, c := e.Queues[qi], &last.Queues[qi]
			qr := QueueReport{ID: int(q.ID), CPU: q.CPU, Lcore: q.Lcore, RXPackets: c.Packets, RXBytes: c.Bytes,
				Polls: c.Polls, EmptyPolls: c.EmptyPolls, BusyCycles: c.BusyCycles, MaxGapNs: e.CyclesToNs(c.MaxGapCycles)}
			if total := last.TSC - first.TSC; total > 0 {
				qr.BusyFraction = float64(c.BusyCycles) / float64(total)
			}
			for k := 0; k < GapBuckets; k++ {
				b := GapBucket{Count: c.GapHist[k]}
				if k < GapBuckets-1 {
					le := counters.GapBucketLimitNs(k)
					b.LeNs = &le
				}
				qr.GapHistogram = append(qr.GapHistogram, b)
			}
			pr.Queues = append(pr.Queues, qr)
		}
		r.Ports = append(r.Ports, pr)
	}
	return r
}

// CyclesToNs converts TSC cycles to nanoseconds.
func (e *Engine) CyclesToNs(c uint64) uint64 {
	if e.TSCHz == 0 {
		return 0
	}
	return uint64(float64(c) * 1e9 / float64(e.TSCHz))
}

// WriteReport writes r as indented JSON to path (atomically: temp + rename).
func WriteReport(path string, r any) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("rx: report: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("rx: report: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rx: report: %w", err)
	}
	return nil
}
