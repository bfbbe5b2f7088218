package counters

import "time"

// GapBuckets is the number of loop-gap histogram buckets. Bucket 0 counts
// gaps <= 64 ns, bucket k gaps <= 64<<k ns, and the last bucket every gap
// longer than 64<<(GapBuckets-2) ns (about 1.07 s). rx/internal/dpdk
// checks at compile time that the C loops use the same number.
const GapBuckets = 26

// GapBucketLimitNs is the upper bound of bucket k in nanoseconds; the
// last bucket has no bound (returns 0).
func GapBucketLimitNs(k int) uint64 {
	if k >= GapBuckets-1 {
		return 0
	}
	return 64 << uint(k)
}

// Loop is a copy of one RX loop's counters.
type Loop struct {
	Packets      uint64
	Bytes        uint64
	Polls        uint64
	EmptyPolls   uint64
	BusyCycles   uint64
	MaxGapCycles uint64
	LastTSC      uint64
	Running      bool
	GapHist      [GapBuckets]uint64
}

// PortStats are a port's basic ethdev counters (rte_eth_stats).
type PortStats struct {
	IPackets uint64
	OPackets uint64
	IBytes   uint64
	OBytes   uint64
	IMissed  uint64 // dropped by the NIC: no free descriptor (host too slow)
	IErrors  uint64
	OErrors  uint64
	RXNoMbuf uint64 // RX mbuf allocation failures: mempool empty
}

// Events count link-state and removal events.
type Events struct {
	LinkChanges uint64
	Removals    uint64
}

// Port describes one started port.
type Port struct {
	Name   string // config name, the metrics' port label
	Device string // PCI address or vdev name
	Driver string // rte_eth_dev_info.driver_name, e.g. "mlx5_pci", "net_af_xdp"
	// Iface is the kernel interface an AF_XDP/AF_PACKET/pcap port is
	// bound to ("" otherwise).
	Iface string
	// XStatNames are the port's xstat names, index-aligned with
	// PortReading.XStats.
	XStatNames   []string
	RXRing       int
	LineRateGbps float64
}

// Queue describes one RX queue and its loop.
type Queue struct {
	Port int // index into Shape.Ports
	ID   uint16
	CPU  int
}

// Shape is what a run reads: its ports and queues, fixed once started.
type Shape struct {
	TSCHz  uint64
	Ports  []Port
	Queues []Queue // grouped by port, in port order
	// Capture: every queue has a capture, and Reading.Captures is filled.
	Capture bool
	// Latency: every loop records latency (rxprobe run --latency), and
	// Reading.Latency is filled.
	Latency bool
	// Clock identifies the RX host's TSC (latency mode).
	Clock HostClock
}

// Capture is one queue's capture counters (cumulative since the capture
// was built): the RX core's handoff, the writer's and the I/O thread's.
type Capture struct {
	Enqueued, FilteredOut, RingDropped uint64 // RX core
	Encoded, Bytes                     uint64 // writer: packets and bytes put in blocks
	BusyNs, BlockWaitNs                uint64 // writer busy, of it waiting for a free block
	Written, DiskDropped               uint64 // packets in finished files, in files that failed
	BytesWritten, WriteNs              uint64
	Files, FilesDeleted, Errors        uint64
	// Trigger mode: events started, triggers coalesced into an open
	// event, packets that expired from the history, its current fill.
	Triggers, TriggersCoalesced, Expired, HistoryBytes uint64
}

// PortReading is one port's counters at a moment.
type PortReading struct {
	Stats    PortStats
	XStats   []uint64 // index-aligned with Port.XStatNames
	StatsErr error    // last read error, if any
}

// Reading is every counter of an engine at one moment. Shape it once with
// NewReading; the engine refills it without allocating.
type Reading struct {
	At     time.Time
	TSC    uint64
	Ports  []PortReading
	Queues []Loop
	// Captures is index-aligned with Queues when Shape.Capture, else nil.
	Captures []Capture
	// Latency is index-aligned with Queues when Shape.Latency, else nil.
	Latency []Latency
	Events  Events
}

// NewReading allocates a reading shaped like sh.
func NewReading(sh *Shape) *Reading {
	r := &Reading{Ports: make([]PortReading, len(sh.Ports)), Queues: make([]Loop, len(sh.Queues))}
	for i, p := range sh.Ports {
		r.Ports[i].XStats = make([]uint64, len(p.XStatNames))
	}
	if sh.Capture {
		r.Captures = make([]Capture, len(sh.Queues))
	}
	if sh.Latency {
		r.Latency = make([]Latency, len(sh.Queues))
	}
	return r
}

// Totals sums packets and bytes over all queues.
func (r *Reading) Totals() (packets, bytes uint64) {
	for i := range r.Queues {
		packets += r.Queues[i].Packets
		bytes += r.Queues[i].Bytes
	}
	return
}

// CaptureTotals sums the queues' capture counters (zero without capture).
func (r *Reading) CaptureTotals() Capture {
	var t Capture
	for i := range r.Captures {
		c := &r.Captures[i]
		t.Enqueued += c.Enqueued
		t.FilteredOut += c.FilteredOut
		t.RingDropped += c.RingDropped
		t.Encoded += c.Encoded
		t.Bytes += c.Bytes
		t.Written += c.Written
		t.DiskDropped += c.DiskDropped
		t.BytesWritten += c.BytesWritten
	}
	return t
}

// Drops sums the ports' basic drop counters: imissed, rx_nombuf and
// ierrors.
func (r *Reading) Drops() (missed, nombuf, errs uint64) {
	for i := range r.Ports {
		missed += r.Ports[i].Stats.IMissed
		nombuf += r.Ports[i].Stats.RXNoMbuf
		errs += r.Ports[i].Stats.IErrors
	}
	return
}

// CopyFrom makes r an independent copy of o (same shape) without
// allocating.
func (r *Reading) CopyFrom(o *Reading) {
	r.At, r.TSC, r.Events = o.At, o.TSC, o.Events
	for i := range o.Ports {
		x := r.Ports[i].XStats
		r.Ports[i] = o.Ports[i]
		r.Ports[i].XStats = x
		copy(x, o.Ports[i].XStats)
	}
	copy(r.Queues, o.Queues)
	copy(r.Captures, o.Captures)
	copy(r.Latency, o.Latency)
}

// WorstGap is the worst loop gap between two readings of one gap
// histogram: the highest bucket that grew. ns is that bucket's upper
// bound; for the open-ended last bucket it is the bucket's lower bound
// (64<<(GapBuckets-2) ns, ~1.07 s) and unbounded is true: the gap was
// longer than ns. No bucket grew: 0, false.
func WorstGap(prev, cur *[GapBuckets]uint64) (ns uint64, unbounded bool) {
	return bucketGap(highestGrown(prev, cur, -1))
}

// WorstGapAll is WorstGap over every queue of two readings.
func WorstGapAll(prev, cur *Reading) (ns uint64, unbounded bool) {
	worst := -1
	for i := range cur.Queues {
		worst = highestGrown(&prev.Queues[i].GapHist, &cur.Queues[i].GapHist, worst)
	}
	return bucketGap(worst)
}

// highestGrown is the highest bucket above floor that differs between
// prev and cur, or floor.
func highestGrown(prev, cur *[GapBuckets]uint64, floor int) int {
	for k := GapBuckets - 1; k > floor; k-- {
		if cur[k] != prev[k] {
			return k
		}
	}
	return floor
}

func bucketGap(k int) (uint64, bool) {
	switch {
	case k < 0:
		return 0, false
	case k == GapBuckets-1:
		return GapBucketLimitNs(GapBuckets - 2), true
	}
	return GapBucketLimitNs(k), false
}
