package sampler

import (
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/isolation/guard"
	"github.com/rxprobe/rxprobe/rx/capture"
	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/dropclass"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// GuardOptions configure the jitter guard inside the stats thread.
type GuardOptions struct {
	NohzFull cpuset.Set
	HZ       int
	// Limits override guard.DefaultLimits by kind name (LOC, TLB, ...).
	Limits map[string]float64
	// GapNs overrides every queue's loop-gap threshold when > 0.
	GapNs uint64
}

// guardSource is the jitter guard's part of the stats thread: once per
// second it feeds the guard from the other sources' values (interrupts,
// gap histograms, drops by class) in preallocated storage, and publishes
// violations and the drop ledger.
type guardSource struct {
	o       *GuardOptions
	every   int // samples per guard second
	eventFD int
	tty     bool // the status line is rewritten in place on the same terminal
	shape   *counters.Shape
	cur     *counters.Reading
	irqs    *interruptSource
	ports   *portSource
	sysfs   *sysfsSource
	capture *captureSource

	g        *guard.Guard
	n        int
	in       guard.Input
	prevHist [][counters.GapBuckets]uint64
	rxcpus   []int
	topDelta []uint64
	drop     []dropclass.Input // per port, IMissedAlso preallocated
	violIdx  [][guard.NumIRQKinds + 1]int
	dropsIdx [][guard.NumLayers]int
	line     []byte
	lastAt   time.Time

	// Trigger-mode capture: what fires (bits 1<<capture.Trigger) and
	// the ledger's total at the last sample.
	trig      CaptureTriggerer
	trigMask  uint8
	dropTotal uint64
	dropSeen  bool
}

var (
	mViolations = metric{"rxprobe_guard_violations_total", snapshot.Counter,
		"Seconds in which an RX CPU saw more interrupts of a kind than expected, or a loop gap above the threshold (kind gap)."}
	mDrops = metric{"rxprobe_drops_total", snapshot.Counter, "Drops by the layer that lost them (the drop ledger)."}
)

func (g *guardSource) declare(s *schema) error {
	o := g.o
	for _, q := range g.shape.Queues {
		if g.cpuIndex(q.CPU) < 0 {
			g.rxcpus = append(g.rxcpus, q.CPU)
		}
	}
	cfg := guard.Config{}
	L := snapshot.L
	for _, cpu := range g.rxcpus {
		lim := guard.DefaultLimits(o.NohzFull.Has(cpu), o.HZ)
		for k, v := range o.Limits {
			if kind, ok := guard.KindOf(k); ok && k != "IRQ" {
				lim[kind] = v
			} else if k == "IRQ" {
				lim[guard.KindIRQ] = v
			}
		}
		cfg.Limits = append(cfg.Limits, lim)
		g.in.CPUs = append(g.in.CPUs, guard.CPUInput{CPU: cpu})
		var vi [guard.NumIRQKinds + 1]int
		for k, name := range guard.KindNames {
			vi[k] = s.add(mViolations, 0, L("cpu", strconv.Itoa(cpu)), L("kind", name))
		}
		g.violIdx = append(g.violIdx, vi)
	}
	g.topDelta = make([]uint64, len(g.rxcpus))
	for _, q := range g.shape.Queues {
		th := o.GapNs
		if th == 0 {
			p := g.shape.Ports[q.Port]
			th = guard.GapThresholdNs(p.RXRing, p.LineRateGbps)
		}
		cfg.GapNs = append(cfg.GapNs, th)
		g.in.Queues = append(g.in.Queues, guard.QueueInput{Port: q.Port, Queue: int(q.ID), CPU: q.CPU})
	}
	g.prevHist = make([][counters.GapBuckets]uint64, len(g.shape.Queues))
	for i, p := range g.shape.Ports {
		var di [guard.NumLayers]int
		for l, name := range guard.LayerNames {
			di[l] = s.add(mDrops, 0, L("port", p.Name), L("layer", name))
		}
		g.dropsIdx = append(g.dropsIdx, di)
		g.drop = append(g.drop, dropclass.Input{IMissedAlso: make([]uint64, len(g.sysfs.oobIdx[i]))})
	}
	g.g = guard.New(cfg)
	g.line = make([]byte, 0, 512)
	return nil
}

// rebase starts the next guard second now (after the loops' launch).
func (g *guardSource) rebase() {
	g.g.Rebase()
	g.n = g.every - 1
}

// sample feeds the guard once per second. It does not allocate unless an
// event is raised.
func (g *guardSource) sample(v []uint64) error {
	drops := g.trigMask&(1<<capture.TriggerDrop) != 0
	if drops {
		g.ledger(v)
		g.dropTrigger()
	}
	g.n++
	if g.n < g.every && g.started() {
		return nil
	}
	if g.started() && !g.cur.At.After(g.lastAt) {
		return nil // a forced second that would be empty
	}
	g.n = 0
	in := &g.in
	in.At = g.cur.At
	g.interrupts(v)
	for i := range in.Queues {
		c := &g.cur.Queues[i]
		in.Queues[i].Packets = c.Packets
		in.Queues[i].WorstGapNs, _ = counters.WorstGap(&g.prevHist[i], &c.GapHist)
		g.prevHist[i] = c.GapHist
	}
	if !drops {
		g.ledger(v)
	}
	if events := g.g.Second(in); len(events) > 0 {
		g.logEvents(events)
		g.eventTriggers(events)
	}
	g.lastAt = in.At
	for ci := range g.rxcpus {
		vi := g.g.Violations(ci)
		for k := range vi {
			v[g.violIdx[ci][k]] = vi[k]
		}
	}
	return nil
}

// between publishes the drop ledger of a sample taken between two guard
// seconds (a requested sample): the ledger's values are exact at once,
// while interrupts, gaps and the second's count are left to the next
// scheduled sample, so the second is judged whole. The guard's own ledger
// takes its delta at the next second, from the same cumulative counters:
// nothing is counted twice. The drop trigger fires as on any sample.
func (g *guardSource) between(v []uint64) {
	g.ledger(v)
	if g.trigMask&(1<<capture.TriggerDrop) != 0 {
		g.dropTrigger()
	}
}

// ledger classifies every port's drops into the guard's input and
// publishes them (the drop ledger).
func (g *guardSource) ledger(v []uint64) {
	in := &g.in
	in.Drops = [guard.NumLayers]uint64{}
	for i := range g.drop {
		d := g.classify(i, v)
		d[dropclass.CaptureRing] += g.capture.ringDropped(i)
		for l := range d {
			v[g.dropsIdx[i][l]] = d[l]
			in.Drops[l] += d[l]
		}
	}
}

// dropTrigger fires the capture's drop trigger when any ledger layer grew
// since the last sample (not at the first: that is the starting point).
func (g *guardSource) dropTrigger() {
	var total uint64
	for _, d := range g.in.Drops {
		total += d
	}
	if g.dropSeen && total > g.dropTotal {
		g.trig.CaptureTrigger(uint8(capture.TriggerDrop))
	}
	g.dropTotal, g.dropSeen = total, true
}

// eventTriggers fires the capture's gap and irq triggers for the
// second's guard events (each at most once a second).
func (g *guardSource) eventTriggers(events []guard.Event) {
	if g.trigMask == 0 {
		return
	}
	var fired uint8
	for i := range events {
		t := capture.TriggerIRQ
		if events[i].Kind == guard.KindNames[guard.KindGap] {
			t = capture.TriggerGap
		}
		if bit := uint8(1) << t; g.trigMask&bit != 0 && fired&bit == 0 {
			fired |= bit
			g.trig.CaptureTrigger(uint8(t))
		}
	}
}

// interrupts sums the watched rows by kind per RX CPU and names the
// device IRQ that grew most.
func (g *guardSource) interrupts(v []uint64) {
	in := &g.in
	for i := range in.CPUs {
		in.CPUs[i].Counts = [guard.NumIRQKinds]uint64{}
		in.CPUs[i].TopIRQ = ""
		g.topDelta[i] = 0
	}
	for k := range g.irqs.slots {
		sl := &g.irqs.slots[k]
		if sl.kind < 0 {
			continue
		}
		val := v[sl.idx]
		ci := g.cpuIndex(g.irqs.irq.CPUs[sl.pos])
		if ci < 0 {
			continue
		}
		in.CPUs[ci].Counts[sl.kind] += val
		if sl.kind == guard.KindIRQ && val >= sl.last && val-sl.last > g.topDelta[ci] {
			g.topDelta[ci] = val - sl.last
			in.CPUs[ci].TopIRQ = sl.name
		}
		sl.last = val
	}
}

// classify is port i's cumulative drops by class (stats/dropclass).
func (g *guardSource) classify(i int, v []uint64) dropclass.Drops {
	in := &g.drop[i]
	g.ports.input(i, in)
	in.Kernel = 0
	for _, idx := range g.sysfs.kernelIdx[i] {
		in.Kernel += v[idx]
	}
	for k, idx := range g.sysfs.oobIdx[i] {
		in.IMissedAlso[k] = v[idx]
	}
	return g.ports.slots[i].plan.Classify(in)
}

func (g *guardSource) started() bool { return !g.lastAt.IsZero() }

func (g *guardSource) cpuIndex(cpu int) int {
	for i, c := range g.rxcpus {
		if c == cpu {
			return i
		}
	}
	return -1
}

// logEvents writes one line per event to the event descriptor.
func (g *guardSource) logEvents(events []guard.Event) {
	if g.eventFD < 0 {
		return
	}
	for i := range events {
		e := &events[i]
		l := g.line[:0]
		if g.tty {
			l = append(l, '\n') // end the status line being rewritten in place
		}
		l = append(l, "rxprobe guard: cpu "...)
		l = strconv.AppendInt(l, int64(e.CPU), 10)
		l = append(l, ": "...)
		if e.Kind == "gap" {
			l = append(l, "loop gap "...)
			l = counters.AppendDuration(l, e.Count)
			l = append(l, " on port "...)
			l = strconv.AppendInt(l, int64(e.Port), 10)
			l = append(l, " queue "...)
			l = strconv.AppendInt(l, int64(e.Queue), 10)
			l = append(l, " (threshold "...)
			l = counters.AppendDuration(l, uint64(e.Limit))
			l = append(l, ')')
		} else {
			l = strconv.AppendUint(l, e.Count, 10)
			l = append(l, ' ')
			l = append(l, e.Kind...)
			if e.IRQ != "" {
				l = append(l, " (irq "...)
				l = append(l, e.IRQ...)
				l = append(l, ')')
			}
			l = append(l, " in 1 s, expected at most "...)
			l = strconv.AppendFloat(l, e.Limit, 'g', -1, 64)
		}
		if e.Detail != "" {
			l = append(l, "; "...)
			l = append(l, e.Detail...)
		}
		l = append(l, '\n')
		_, _ = unix.Write(g.eventFD, l)
		g.line = l
	}
}

func (g *guardSource) close() {}
