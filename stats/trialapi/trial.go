package trialapi

import (
	"slices"
	"strconv"
	"time"

	"github.com/rxprobe/rxprobe/isolation/guard"
	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/dropclass"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// Sample is one snapshot of the RX process's counters: its schema and its
// values, taken after a request (Source).
type Sample struct {
	// At is the writer's clock when it published the sample.
	At time.Time
	// Served is the sample request the snapshot answers; Samples counts
	// the writer's samples so far.
	Served  uint32
	Samples uint64
	Schema  *snapshot.Schema
	Values  []uint64 // by Series.Index
}

// Metric names read from the snapshot (stats/sampler publishes them).
const (
	mRXPackets  = "rxprobe_rx_packets_total"
	mRXBytes    = "rxprobe_rx_bytes_total"
	mDrops      = "rxprobe_drops_total"
	mViolations = "rxprobe_guard_violations_total"
	mInterrupts = "rxprobe_cpu_interrupts_total"
	mGap        = "rxprobe_loop_gap_seconds"
)

// Result is what a stopped trial measured: every counter's change between
// the two exact samples at its boundaries.
type Result struct {
	// DurationS is the time between the two samples, by the writer's
	// clock.
	DurationS float64 `json:"duration_s"`
	// RXPackets and RXBytes are what the RX loops received, over every
	// port and queue.
	RXPackets uint64       `json:"rx_packets"`
	RXBytes   uint64       `json:"rx_bytes"`
	Ports     []PortDelta  `json:"ports"`
	Ledger    []LayerDelta `json:"ledger"`
	// LostBeforeLoop sums the ledger's layers before the RX loop: with a
	// sender's count, offered = rx_packets + lost_before_loop.
	LostBeforeLoop uint64 `json:"lost_before_loop"`
	// GuardEvents are the jitter guard's violations on the RX CPUs by
	// kind (interrupt kinds and "gap"). The guard judges whole seconds:
	// a violation counts in the trial whose window holds the end of its
	// second.
	GuardEvents      []CPUKinds `json:"guard_events"`
	GuardEventsTotal uint64     `json:"guard_events_total"`
	// Interrupts are the RX CPUs' interrupts by the kinds the guard
	// watches (LOC, CAL, TLB, RES, IWI, NMI, PMI, MCE, and IRQ for every
	// device interrupt), exact at both boundaries.
	Interrupts []CPUKinds `json:"interrupts"`
	// Latency is the one-way latency of stamped frames over every queue,
	// when the run records latency (rxprobe run --latency); per queue in
	// Ports[].Queues[].Latency.
	Latency *LatencyResult `json:"latency,omitempty"`
}

// PortDelta is one port's packets and bytes, with its queues.
type PortDelta struct {
	Port      string       `json:"port"`
	RXPackets uint64       `json:"rx_packets"`
	RXBytes   uint64       `json:"rx_bytes"`
	Queues    []QueueDelta `json:"queues"`
}

// QueueDelta is one RX queue's packets, bytes and loop-gap histogram.
type QueueDelta struct {
	Queue     int    `json:"queue"`
	RXPackets uint64 `json:"rx_packets"`
	RXBytes   uint64 `json:"rx_bytes"`
	// GapHistogram counts the gaps between two polls of the loop during
	// the trial: Counts[k] gaps of at most BoundsS[k] seconds (and more
	// than BoundsS[k-1]); the last count has no upper bound.
	GapHistogram *Histogram `json:"gap_histogram,omitempty"`
	// Latency is the queue's one-way latency during the trial (valid only
	// as Result.Latency says).
	Latency *counters.LatencySummary `json:"latency,omitempty"`
}

// Histogram is a histogram's change: bucket upper bounds and counts
// (one more count than bounds: the last bucket is unbounded).
type Histogram struct {
	BoundsS []float64 `json:"bounds_s"`
	Counts  []uint64  `json:"counts"`
}

// LayerDelta is one ledger layer's drops, summed over ports.
type LayerDelta struct {
	Layer string `json:"layer"`
	Drops uint64 `json:"drops"`
	// AfterLoop marks a layer that lost packets the RX loop had already
	// received (they are part of rx_packets).
	AfterLoop bool `json:"after_loop"`
}

// CPUKinds are counts on one RX CPU by kind.
type CPUKinds struct {
	CPU    int               `json:"cpu"`
	ByKind map[string]uint64 `json:"by_kind"`
}

// delta is cur-prev, 0 when the counter went backwards (a restarted writer).
func delta(cur, prev uint64) uint64 {
	if cur < prev {
		return 0
	}
	return cur - prev
}

// label is the value of the label called name ("" without one).
func label(ls []snapshot.Label, name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// Delta computes what changed from a to b. Both must come from the same
// writer (same schema); series missing from b's schema are left out.
func Delta(a, b *Sample) *Result {
	r := &Result{DurationS: b.At.Sub(a.At).Seconds()}
	d := func(i int) uint64 {
		if i >= len(a.Values) || i >= len(b.Values) {
			return 0
		}
		return delta(b.Values[i], a.Values[i])
	}
	var ledger dropclass.Drops
	port := func(name string) *PortDelta {
		for i := range r.Ports {
			if r.Ports[i].Port == name {
				return &r.Ports[i]
			}
		}
		r.Ports = append(r.Ports, PortDelta{Port: name})
		return &r.Ports[len(r.Ports)-1]
	}
	queue := func(p *PortDelta, id int) *QueueDelta {
		for i := range p.Queues {
			if p.Queues[i].Queue == id {
				return &p.Queues[i]
			}
		}
		p.Queues = append(p.Queues, QueueDelta{Queue: id})
		return &p.Queues[len(p.Queues)-1]
	}
	events, irqs := cpuKinds{}, cpuKinds{}
	for i := range b.Schema.Series {
		se := &b.Schema.Series[i]
		switch se.Metric {
		case mRXPackets, mRXBytes:
			q, _ := strconv.Atoi(label(se.Labels, "queue"))
			p := port(label(se.Labels, "port"))
			qd := queue(p, q)
			if se.Metric == mRXPackets {
				qd.RXPackets, p.RXPackets, r.RXPackets = d(se.Index), p.RXPackets+d(se.Index), r.RXPackets+d(se.Index)
			} else {
				qd.RXBytes, p.RXBytes, r.RXBytes = d(se.Index), p.RXBytes+d(se.Index), r.RXBytes+d(se.Index)
			}
		case mDrops:
			if l := slices.Index(dropclass.Names[:], label(se.Labels, "layer")); l >= 0 {
				ledger[l] += d(se.Index)
			}
		case mViolations:
			events.add(label(se.Labels, "cpu"), label(se.Labels, "kind"), d(se.Index))
			r.GuardEventsTotal += d(se.Index)
		case mInterrupts:
			if k, ok := guard.KindOf(label(se.Labels, "kind")); ok {
				irqs.add(label(se.Labels, "cpu"), guard.KindNames[k], d(se.Index))
			}
		}
	}
	for i := range b.Schema.Histograms {
		h := &b.Schema.Histograms[i]
		if h.Metric != mGap {
			continue
		}
		q, _ := strconv.Atoi(label(h.Labels, "queue"))
		hd := &Histogram{BoundsS: h.Bounds, Counts: make([]uint64, len(h.Bounds)+1)}
		for k := range hd.Counts {
			hd.Counts[k] = d(h.First + k)
		}
		queue(port(label(h.Labels, "port")), q).GapHistogram = hd
	}
	addLatency(r, a, b, func(p string, id int) *QueueDelta { return queue(port(p), id) })
	for l, n := range ledger {
		c := dropclass.Class(l)
		r.Ledger = append(r.Ledger, LayerDelta{Layer: c.String(), Drops: n, AfterLoop: c.AfterLoop()})
	}
	r.LostBeforeLoop = ledger.BeforeLoop()
	r.GuardEvents, r.Interrupts = events.list(guard.KindNames[:]), irqs.list(guard.KindNames[:guard.NumIRQKinds])
	return r
}

// cpuKinds accumulates counts by CPU and kind.
type cpuKinds map[int]map[string]uint64

func (c cpuKinds) add(cpu, kind string, n uint64) {
	id, err := strconv.Atoi(cpu)
	if err != nil {
		return
	}
	if c[id] == nil {
		c[id] = map[string]uint64{}
	}
	c[id][kind] += n
}

// list is c by CPU, every kind present (0 when it did not happen).
func (c cpuKinds) list(kinds []string) []CPUKinds {
	out := []CPUKinds{}
	for cpu, m := range c {
		for _, k := range kinds {
			m[k] += 0
		}
		out = append(out, CPUKinds{CPU: cpu, ByKind: m})
	}
	slices.SortFunc(out, func(x, y CPUKinds) int { return x.CPU - y.CPU })
	return out
}
