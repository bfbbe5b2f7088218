package rx

import (
	"time"

	"github.com/rxprobe/rxprobe/rx/internal/dpdk"
)

// GapBuckets is the number of loop-gap histogram buckets.
const GapBuckets = dpdk.GapBuckets

// GapBucketLimitNs is bucket k's upper bound in ns (0 for the last,
// unbounded bucket).
func GapBucketLimitNs(k int) uint64 { return dpdk.GapBucketLimitNs(k) }

// RXCounters are one loop's counters (see dpdk.RXCounters).
type RXCounters = dpdk.RXCounters

// PortStats are a port's basic ethdev counters.
type PortStats = dpdk.PortStats

// PortSnapshot is one port's counters at a moment.
type PortSnapshot struct {
	Stats    PortStats
	XStats   []uint64 // index-aligned with Port.XStatNames
	StatsErr error    // last read error, if any
}

// QueueSnapshot is one loop's counters at a moment.
type QueueSnapshot struct {
	RXCounters
}

// Snapshot is every counter of the engine at one moment. Build it once
// with NewSnapshot; Engine.Snapshot refills it without allocating.
type Snapshot struct {
	At     time.Time
	TSC    uint64
	Ports  []PortSnapshot
	Queues []QueueSnapshot
	Events dpdk.Events
}

// NewSnapshot allocates a snapshot shaped for the engine.
func (e *Engine) NewSnapshot() *Snapshot {
	s := &Snapshot{Ports: make([]PortSnapshot, len(e.Ports)), Queues: make([]QueueSnapshot, len(e.Queues))}
	for i, p := range e.Ports {
		s.Ports[i].XStats = make([]uint64, len(p.XStatNames()))
	}
	return s
}

// Snapshot fills s with the current counters. It does not allocate.
func (e *Engine) Snapshot(s *Snapshot) {
	s.At = time.Now()
	s.TSC = dpdk.TSC()
	for i, p := range e.Ports {
		ps := &s.Ports[i]
		ps.StatsErr = p.stats.Read(&ps.Stats)
		if err := p.xstats.Read(); err == nil {
			copy(ps.XStats, p.xstats.Values())
		}
	}
	for i, q := range e.Queues {
		q.rxq.Read(&s.Queues[i].RXCounters)
	}
	s.Events = dpdk.ReadEvents()
}

// Totals sums packets and bytes over all queues.
func (s *Snapshot) Totals() (packets, bytes uint64) {
	for i := range s.Queues {
		packets += s.Queues[i].Packets
		bytes += s.Queues[i].Bytes
	}
	return
}

// Drops sums the port drop counters: imissed, rx_nombuf and ierrors.
func (s *Snapshot) Drops() (missed, nombuf, errs uint64) {
	for i := range s.Ports {
		missed += s.Ports[i].Stats.IMissed
		nombuf += s.Ports[i].Stats.RXNoMbuf
		errs += s.Ports[i].Stats.IErrors
	}
	return
}

// WorstGapNs is the upper bound of the highest histogram bucket that grew
// between prev and s over all queues (the worst loop gap of the interval),
// and whether it is the unbounded bucket (> ~1 s).
func WorstGapNs(prev, s *Snapshot) (ns uint64, unbounded bool) {
	worst := -1
	for i := range s.Queues {
		for k := GapBuckets - 1; k > worst; k-- {
			if s.Queues[i].GapHist[k] != prev.Queues[i].GapHist[k] {
				worst = k
				break
			}
		}
	}
	if worst < 0 {
		return 0, false
	}
	if worst == GapBuckets-1 {
		return GapBucketLimitNs(GapBuckets - 2), true
	}
	return GapBucketLimitNs(worst), false
}

// CopyFrom makes s an independent copy of o (same engine shape) without
// allocating.
func (s *Snapshot) CopyFrom(o *Snapshot) {
	s.At, s.TSC, s.Events = o.At, o.TSC, o.Events
	for i := range o.Ports {
		x := s.Ports[i].XStats
		s.Ports[i] = o.Ports[i]
		s.Ports[i].XStats = x
		copy(x, o.Ports[i].XStats)
	}
	copy(s.Queues, o.Queues)
}
