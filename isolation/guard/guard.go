package guard

import (
	"encoding/json"
	"time"

	"github.com/rxprobe/rxprobe/stats/dropclass"
)

// Interrupt kinds the guard watches on RX CPUs, in report order. Device
// IRQs (numeric rows of /proc/interrupts) are summed under KindIRQ.
const (
	KindLOC = iota
	KindCAL
	KindTLB
	KindRES
	KindIWI
	KindNMI
	KindPMI
	KindMCE
	KindIRQ
	NumIRQKinds
)

// KindGap is the event kind of a loop gap above the threshold.
const KindGap = NumIRQKinds

// KindNames name the kinds as /proc/interrupts does (IRQ for device rows,
// gap for loop gaps).
var KindNames = [...]string{"LOC", "CAL", "TLB", "RES", "IWI", "NMI", "PMI", "MCE", "IRQ", "gap"}

// KindOf maps a /proc/interrupts row id to a kind; ok is false for rows
// the guard does not watch (ERR, MIS, SPU, ...).
func KindOf(id string) (kind int, ok bool) {
	if id != "" && id[0] >= '0' && id[0] <= '9' {
		return KindIRQ, true
	}
	for k := 0; k < KindIRQ; k++ {
		if KindNames[k] == id {
			return k, true
		}
	}
	return 0, false
}

// Layers of the drop ledger, in report order: the drop classes of
// stats/dropclass, which defines them.
const (
	LayerPortBuffer   = int(dropclass.PortBuffer)
	LayerHostTooSlow  = int(dropclass.HostTooSlow)
	LayerMempoolEmpty = int(dropclass.MempoolEmpty)
	LayerCaptureRing  = int(dropclass.CaptureRing)
	LayerKernelPath   = int(dropclass.KernelPath)
	LayerErrors       = int(dropclass.Errors)
	NumLayers         = int(dropclass.NumClasses)
)

// LayerNames are the ledger's layer labels (dropclass.Names).
var LayerNames = dropclass.Names

// LayerWhy explains each layer in one sentence (dropclass.Why).
var LayerWhy = dropclass.Why

// Limits are the expected per-second interrupt levels on an RX CPU.
type Limits [NumIRQKinds]float64

// DefaultLimits: LOC at most 1/s on a nohz_full CPU (hz otherwise), no
// TLB, CAL, RES, IWI or device interrupt at all; NMI, PMI and MCE at most
// 1/s (watchdog, perf and machine checks are rare but legal).
func DefaultLimits(nohzFull bool, hz int) Limits {
	var l Limits
	l[KindLOC] = float64(hz)
	if nohzFull {
		l[KindLOC] = 1
	}
	l[KindNMI], l[KindPMI], l[KindMCE] = 1, 1, 1
	return l
}

// GapThresholdNs is the default loop-gap threshold of a queue: a quarter
// of the time its RX ring takes to fill at line rate with minimum-size
// frames (84 bytes on the wire), e.g. 1024 descriptors at 25 Gbit/s
// (37.2 Mpps) fill in 27.5 µs → 6.9 µs. With no line rate known it is 1 ms.
func GapThresholdNs(ring int, lineRateGbps float64) uint64 {
	if lineRateGbps <= 0 || ring <= 0 {
		return 1_000_000
	}
	pps := lineRateGbps * 1e9 / (84 * 8)
	return uint64(float64(ring) / pps * 1e9 / 4)
}

// CPUInput are one RX CPU's cumulative interrupt counts by kind.
type CPUInput struct {
	CPU    int
	Counts [NumIRQKinds]uint64
	// TopIRQ names the device IRQ row that grew most in the last second
	// (set by the caller only when device IRQs grew; may be "").
	TopIRQ string
}

// QueueInput is one loop's cumulative gap histogram and its identity.
type QueueInput struct {
	Port, Queue, CPU int
	// WorstGapNs is the worst gap of the second as counters.WorstGap
	// gives it (0: no poll, or the caller does not know).
	WorstGapNs uint64
	Packets    uint64 // cumulative
}

// Input is what the caller measured at the end of one second.
type Input struct {
	At     time.Time
	CPUs   []CPUInput
	Queues []QueueInput
	// Drops are cumulative drop counts by ledger layer, summed over ports.
	Drops [NumLayers]uint64
}

// Event is one violation.
type Event struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	CPU    int       `json:"cpu"`
	Port   int       `json:"port"`  // gap events; -1 otherwise
	Queue  int       `json:"queue"` // gap events; -1 otherwise
	Count  uint64    `json:"count"` // interrupts in the second, or the gap in ns
	Limit  float64   `json:"limit"` // per second, or the threshold in ns
	IRQ    string    `json:"irq,omitempty"`
	Detail string    `json:"detail,omitempty"` // e.g. who sent the IPIs
}

// Second is one timeline entry.
type Second struct {
	At         time.Time           `json:"at"`
	RXPackets  uint64              `json:"rx_packets"`
	Drops      [NumLayers]uint64   `json:"drops"`
	Interrupts [NumIRQKinds]uint64 `json:"interrupts"` // summed over RX CPUs
	WorstGapNs uint64              `json:"worst_gap_ns"`
	Events     int                 `json:"events"`
}

// Config sets the guard up.
type Config struct {
	// Limits per RX CPU, index-aligned with the CPUs of every Input.
	Limits []Limits
	// GapNs per queue, index-aligned with the Queues of every Input.
	GapNs       []uint64
	TimelineCap int // seconds kept (default 3600)
	EventCap    int // events kept (default 4096)
}

// Guard evaluates one second at a time.
type Guard struct {
	cfg        Config
	prevCPU    []CPUInput
	prevQueue  []QueueInput
	prevDrops  [NumLayers]uint64
	started    bool
	timeline   []Second
	head, n    int
	events     []Event
	lost       int
	violations [][NumIRQKinds + 1]uint64 // per CPU, by kind (gap last)
	ledger     [NumLayers]uint64
	rebase     bool
}

// New allocates a guard for len(cfg.Limits) CPUs and len(cfg.GapNs) queues.
func New(cfg Config) *Guard {
	if cfg.TimelineCap <= 0 {
		cfg.TimelineCap = 3600
	}
	if cfg.EventCap <= 0 {
		cfg.EventCap = 4096
	}
	return &Guard{cfg: cfg,
		prevCPU:    make([]CPUInput, len(cfg.Limits)),
		prevQueue:  make([]QueueInput, len(cfg.GapNs)),
		timeline:   make([]Second, cfg.TimelineCap),
		events:     make([]Event, 0, cfg.EventCap),
		violations: make([][NumIRQKinds + 1]uint64, len(cfg.Limits)),
	}
}

func delta(cur, prev uint64) uint64 {
	if cur < prev {
		return 0
	}
	return cur - prev
}

// Second evaluates the second ending at in.At and returns the events it
// raised (a view into the guard's own storage, valid until the next call).
// The first call only records the starting point. It does not allocate
// unless an event is raised.
func (g *Guard) Second(in *Input) []Event {
	if !g.started {
		copy(g.prevCPU, in.CPUs)
		copy(g.prevQueue, in.Queues)
		g.prevDrops = in.Drops
		g.started = true
		return nil
	}
	if g.rebase {
		g.rebase = false
		copy(g.prevCPU, in.CPUs)
		copy(g.prevQueue, in.Queues)
		for l := 0; l < NumLayers; l++ {
			g.ledger[l] += delta(in.Drops[l], g.prevDrops[l])
		}
		g.prevDrops = in.Drops
		return nil
	}
	first := len(g.events)
	raised := 0
	sec := Second{At: in.At}
	for i := range in.CPUs {
		if i >= len(g.cfg.Limits) {
			break
		}
		cur, prev := &in.CPUs[i], &g.prevCPU[i]
		for k := 0; k < NumIRQKinds; k++ {
			d := delta(cur.Counts[k], prev.Counts[k])
			sec.Interrupts[k] += d
			if float64(d) > g.cfg.Limits[i][k] {
				g.violations[i][k]++
				raised++
				g.add(Event{At: in.At, Kind: KindNames[k], CPU: cur.CPU, Port: -1, Queue: -1, Count: d, Limit: g.cfg.Limits[i][k], IRQ: irqName(k, cur)})
			}
		}
		*prev = *cur
	}
	for i := range in.Queues {
		if i >= len(g.cfg.GapNs) {
			break
		}
		q := &in.Queues[i]
		sec.RXPackets += delta(q.Packets, g.prevQueue[i].Packets)
		if q.WorstGapNs > sec.WorstGapNs {
			sec.WorstGapNs = q.WorstGapNs
		}
		if q.WorstGapNs > g.cfg.GapNs[i] {
			if c := g.cpuIndex(q.CPU); c >= 0 {
				g.violations[c][KindGap]++
			}
			raised++
			g.add(Event{At: in.At, Kind: KindNames[KindGap], CPU: q.CPU, Port: q.Port, Queue: q.Queue, Count: q.WorstGapNs, Limit: float64(g.cfg.GapNs[i])})
		}
		g.prevQueue[i] = *q
	}
	for l := 0; l < NumLayers; l++ {
		d := delta(in.Drops[l], g.prevDrops[l])
		sec.Drops[l] = d
		g.ledger[l] += d
	}
	g.prevDrops = in.Drops
	sec.Events = raised
	g.timeline[g.head] = sec
	g.head = (g.head + 1) % len(g.timeline)
	if g.n < len(g.timeline) {
		g.n++
	}
	return g.events[first:]
}

func irqName(kind int, c *CPUInput) string {
	if kind == KindIRQ {
		return c.TopIRQ
	}
	return ""
}

func (g *Guard) cpuIndex(cpu int) int {
	for i := range g.prevCPU {
		if g.prevCPU[i].CPU == cpu {
			return i
		}
	}
	return -1
}

func (g *Guard) add(e Event) {
	if len(g.events) < cap(g.events) {
		g.events = append(g.events, e)
		return
	}
	g.lost++
}

// Rebase makes the next Second take the interrupt and gap counters of its
// input as the new starting point, without judging them (e.g. after the
// loops were launched: waking their threads is not a violation). Drops
// are still counted across it: the ledger covers the whole run.
func (g *Guard) Rebase() { g.rebase = true }

// Violations returns the cumulative violation count of CPU index i by kind
// (index KindGap for loop gaps).
func (g *Guard) Violations(i int) [NumIRQKinds + 1]uint64 { return g.violations[i] }

// Ledger returns the cumulative drops by layer since the first second.
func (g *Guard) Ledger() [NumLayers]uint64 { return g.ledger }

// Events returns the events kept and how many more were dropped.
func (g *Guard) Events() ([]Event, int) { return g.events, g.lost }

// Timeline returns the kept seconds, oldest first (allocates; report time).
func (g *Guard) Timeline() []Second {
	out := make([]Second, 0, g.n)
	start := (g.head - g.n + len(g.timeline)) % len(g.timeline)
	for i := 0; i < g.n; i++ {
		out = append(out, g.timeline[(start+i)%len(g.timeline)])
	}
	return out
}

// secondJSON is a Second on the wire: drops and interrupts keyed by layer
// and kind names.
type secondJSON struct {
	At         time.Time         `json:"at"`
	RXPackets  uint64            `json:"rx_packets"`
	Drops      map[string]uint64 `json:"drops"`
	Interrupts map[string]uint64 `json:"interrupts"`
	WorstGapNs uint64            `json:"worst_gap_ns"`
	Events     int               `json:"events"`
}

// MarshalJSON writes drops and interrupts keyed by layer and kind names.
func (s Second) MarshalJSON() ([]byte, error) {
	drops := make(map[string]uint64, NumLayers)
	for l, n := range s.Drops {
		drops[LayerNames[l]] = n
	}
	irqs := make(map[string]uint64, NumIRQKinds)
	for k, n := range s.Interrupts {
		irqs[KindNames[k]] = n
	}
	return json.Marshal(secondJSON{s.At, s.RXPackets, drops, irqs, s.WorstGapNs, s.Events})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Second) UnmarshalJSON(b []byte) error {
	var v secondJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Second{At: v.At, RXPackets: v.RXPackets, WorstGapNs: v.WorstGapNs, Events: v.Events}
	for l, name := range LayerNames {
		s.Drops[l] = v.Drops[name]
	}
	for k := 0; k < NumIRQKinds; k++ {
		s.Interrupts[k] = v.Interrupts[KindNames[k]]
	}
	return nil
}
