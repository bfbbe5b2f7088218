package report

import (
	"time"

	"github.com/rxprobe/rxprobe/isolation/guard"
	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/dropclass"
)

// Input is everything a report is made of, as plain values: the engine's
// counters before the loops started and after they stopped, the guard's
// results, the drift watcher's findings and the heap measurement.
type Input struct {
	Version    string
	FilePrefix string
	EALArgs    []string
	// Started is when the loops were launched, Ended when the final
	// counters were read.
	Started, Ended time.Time
	// TSCHz is the time-stamp counter's rate; FirstTSC and LastTSC were
	// read with the first and final counters.
	TSCHz, FirstTSC, LastTSC uint64
	DPDKEvents               DPDKEvents
	// GapBoundsNs are the upper bounds of the loop-gap histogram's
	// buckets, all but the last (unbounded) one.
	GapBoundsNs []uint64
	Ports       []PortInput
	// Degraded lists, in order, everything that makes this run less than
	// the design promises.
	Degraded    []string
	SteadyState *SteadyState
	// Guard is nil when the run had no stats thread.
	Guard *GuardResult
	// Attribution are the flight recorder's sentences, joined into the
	// guard's interrupt events (see annotate).
	Attribution []Attribution
	// Drift are the drift watcher's events, appended after the guard's.
	Drift []guard.Event
	// CaptureHook is capture.on_file's tally (nil: no command).
	CaptureHook *CaptureHook
	// HostClock identifies this host's TSC (latency runs).
	HostClock counters.HostClock
}

// PortCounters are a port's ethdev counters at one moment.
type PortCounters struct {
	IPackets, IMissed, IErrors, RXNoMbuf uint64
}

// KernelCounters are a kernel interface's RX counters at one moment.
type KernelCounters struct {
	RXPackets, RXDropped uint64
}

// PortInput is one port: identity, counters at start and end, and its
// queues.
type PortInput struct {
	Name, Device, Driver string
	NUMANode             int
	LinkUp               bool
	SpeedMbps            uint32
	First, Last          PortCounters
	// XStats are the final values, index-aligned with XStatNames;
	// XStatsFirst the values before the loops started (nil: all zero).
	XStatNames          []string
	XStats, XStatsFirst []uint64
	// Iface is the bound kernel interface ("" for none); KernelFirst and
	// KernelLast are its counters at start and end (nil: not read).
	Iface                   string
	KernelFirst, KernelLast *KernelCounters
	Queues                  []QueueInput
}

// QueueInput is one loop's final counters (loops count from zero).
type QueueInput struct {
	ID, CPU                           int
	Lcore                             uint
	Packets, Bytes, Polls, EmptyPolls uint64
	BusyCycles, MaxGapCycles          uint64
	GapHist                           []uint64
	// Capture is the queue's capture counters (nil: capture off).
	Capture *Capture
	// Latency is the queue's latency record (nil: latency off).
	Latency *counters.Latency
}

// GuardResult is what the jitter guard found.
type GuardResult struct {
	Ledger     [guard.NumLayers]uint64
	Timeline   []guard.Second
	Events     []guard.Event
	EventsLost int
}

// Build puts the report together. Port counters are deltas over the run
// (ports may have counted before the loops started); loop counters start
// at zero.
func Build(in Input) *Report {
	dur := in.Ended.Sub(in.Started).Seconds()
	r := &Report{Version: in.Version, StartedAt: in.Started, DurationS: dur, Degraded: append([]string{}, in.Degraded...),
		FilePrefix: in.FilePrefix, TSCHz: in.TSCHz, TSCCycles: in.LastTSC - in.FirstTSC, EALArgs: in.EALArgs,
		DPDKEvents: in.DPDKEvents, SteadyState: in.SteadyState}
	for _, p := range in.Ports {
		pr := buildPort(&in, &p)
		for _, q := range pr.Queues {
			r.RXPackets += q.RXPackets
			r.RXBytes += q.RXBytes
		}
		r.RXDropped += dropTotal(&p)
		r.Ports = append(r.Ports, pr)
	}
	if dur > 0 {
		r.RXMpps = float64(r.RXPackets) / dur / 1e6
	}
	if g := in.Guard; g != nil {
		for i, n := range g.Ledger {
			r.Ledger = append(r.Ledger, LedgerEntry{Layer: guard.LayerNames[i], Drops: n, Why: guard.LayerWhy[i],
				AfterLoop: dropclass.Class(i).AfterLoop()})
		}
		r.Timeline = g.Timeline
		r.Events = append([]guard.Event{}, g.Events...)
		r.EventsLost = g.EventsLost
	}
	r.Latency = buildLatency(&in)
	annotate(r.Events, in.Attribution, in.Started)
	r.Events = append(r.Events, in.Drift...)
	r.CaptureHook = in.CaptureHook
	return r
}

// dropTotal is what a port adds to the report's rx_dropped: every drop
// class of stats/dropclass (the ledger's definition) over the run, from the
// port's basic counters, its xstats and its kernel interface's rx_dropped.
func dropTotal(p *PortInput) uint64 {
	plan := dropclass.Resolve(p.Driver, p.XStatNames)
	first := dropclass.Input{Basic: dropclass.Basic{IMissed: p.First.IMissed, IErrors: p.First.IErrors, RXNoMbuf: p.First.RXNoMbuf},
		XStats: p.XStatsFirst}
	if first.XStats == nil {
		first.XStats = make([]uint64, len(p.XStats))
	}
	last := dropclass.Input{Basic: dropclass.Basic{IMissed: p.Last.IMissed, IErrors: p.Last.IErrors, RXNoMbuf: p.Last.RXNoMbuf},
		XStats: p.XStats}
	if p.KernelFirst != nil && p.KernelLast != nil {
		first.Kernel, last.Kernel = p.KernelFirst.RXDropped, p.KernelLast.RXDropped
	}
	d := plan.Classify(&last).Sub(plan.Classify(&first))
	return d.Total()
}

func buildPort(in *Input, p *PortInput) Port {
	f, l := p.First, p.Last
	pr := Port{Name: p.Name, Device: p.Device, Driver: p.Driver, NUMANode: p.NUMANode, LinkUp: p.LinkUp, SpeedMbps: p.SpeedMbps,
		IPackets: l.IPackets - f.IPackets, IMissed: l.IMissed - f.IMissed, IErrors: l.IErrors - f.IErrors,
		RXNoMbuf: l.RXNoMbuf - f.RXNoMbuf, XStats: map[string]uint64{}}
	if p.Iface != "" && p.KernelFirst != nil && p.KernelLast != nil {
		pr.Kernel = &Kernel{Iface: p.Iface, RXPackets: p.KernelLast.RXPackets - p.KernelFirst.RXPackets,
			RXDropped: p.KernelLast.RXDropped - p.KernelFirst.RXDropped}
	}
	for k, name := range p.XStatNames {
		pr.XStats[name] = p.XStats[k]
	}
	total := in.LastTSC - in.FirstTSC
	for _, q := range p.Queues {
		qr := Queue{ID: q.ID, CPU: q.CPU, Lcore: q.Lcore, RXPackets: q.Packets, RXBytes: q.Bytes, Polls: q.Polls,
			EmptyPolls: q.EmptyPolls, BusyCycles: q.BusyCycles, MaxGapNs: cyclesToNs(q.MaxGapCycles, in.TSCHz)}
		if q.Latency != nil {
			s := q.Latency.Summary()
			qr.Latency = &s
		}
		if q.Capture != nil {
			c := *q.Capture
			c.check(q.Packets)
			qr.Capture = &c
		}
		if total > 0 {
			qr.BusyFraction = float64(q.BusyCycles) / float64(total)
		}
		for k, n := range q.GapHist {
			b := GapBucket{Count: n}
			if k < len(in.GapBoundsNs) {
				le := in.GapBoundsNs[k]
				b.LeNs = &le
			}
			qr.GapHistogram = append(qr.GapHistogram, b)
		}
		pr.Queues = append(pr.Queues, qr)
	}
	return pr
}

// buildLatency sums the queues' latency records; nil without any.
func buildLatency(in *Input) *Latency {
	var total counters.Latency
	any := false
	for _, p := range in.Ports {
		for _, q := range p.Queues {
			if q.Latency != nil {
				total.Add(q.Latency)
				any = true
			}
		}
	}
	if !any {
		return nil
	}
	return &Latency{Clock: counters.ClockName, HostClock: in.HostClock, LatencySummary: total.Summary()}
}

// cyclesToNs converts TSC cycles to nanoseconds (0 with no known rate).
func cyclesToNs(c, hz uint64) uint64 {
	if hz == 0 {
		return 0
	}
	return uint64(float64(c) * 1e9 / float64(hz))
}
