package sampler

import (
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/isolation/guard"
	"github.com/rxprobe/rxprobe/rx"
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
	// Attribute, when set, is called on the stats thread for a second that
	// raised interrupt events and returns a detail for each (who sent the
	// IPIs). It may allocate: it only runs when something was violated.
	Attribute func(events []guard.Event, window time.Duration)
}

// guardState is the guard's part of the sampler: per-second inputs built
// in preallocated storage.
type guardState struct {
	on       bool
	g        *guard.Guard
	every    int // samples per guard second
	n        int
	in       guard.Input
	prevHist [][rx.GapBuckets]uint64
	rxcpus   []int
	topDelta []uint64
	// per port: value indexes of the ledger sources, -1 if absent
	ports []portLedger
	// metric slots
	violIdx  [][guard.NumIRQKinds + 1]int
	dropsIdx [][guard.NumLayers]int
	line     []byte
	opts     *GuardOptions
	lastAt   time.Time
}

type portLedger struct {
	discards, oob, kernel []int // indexes into vals (sysfs rx_dropped, hw out_of_buffer)
}

func (s *Sampler) guardSchema(b *snapshot.Builder) error {
	o := s.o.Guard
	if o == nil {
		return nil
	}
	g := &s.g
	g.on, g.opts = true, o
	g.every = int(time.Second / s.o.Interval)
	if g.every < 1 {
		g.every = 1
	}
	for _, q := range s.eng.Queues {
		seen := false
		for _, c := range g.rxcpus {
			seen = seen || c == q.CPU
		}
		if !seen {
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
			vi[k] = b.Add("rxprobe_guard_violations_total", snapshot.Counter, 0, L("cpu", strconv.Itoa(cpu)), L("kind", name))
		}
		g.violIdx = append(g.violIdx, vi)
	}
	g.topDelta = make([]uint64, len(g.rxcpus))
	for _, q := range s.eng.Queues {
		th := o.GapNs
		if th == 0 {
			th = guard.GapThresholdNs(q.Port.Cfg.RXRing, q.Port.Cfg.LineRateGbps)
		}
		cfg.GapNs = append(cfg.GapNs, th)
		g.in.Queues = append(g.in.Queues, guard.QueueInput{Port: portIndex(s.eng, q.Port), Queue: int(q.ID), CPU: q.CPU})
	}
	g.prevHist = make([][rx.GapBuckets]uint64, len(s.eng.Queues))
	for i, p := range s.eng.Ports {
		var di [guard.NumLayers]int
		for l, name := range guard.LayerNames {
			di[l] = b.Add("rxprobe_drops_total", snapshot.Counter, 0, L("port", p.Cfg.Name), L("layer", name))
		}
		g.dropsIdx = append(g.dropsIdx, di)
		var pl portLedger
		for k, sl := range s.syss {
			lbl := s.sysLabels[k]
			if lbl.port != i {
				continue
			}
			switch {
			case lbl.name == "rx_dropped" || hasSuffix(lbl.name, "/rx_dropped"):
				pl.kernel = append(pl.kernel, sl.idx)
			case hasSuffix(lbl.name, "/out_of_buffer"):
				pl.oob = append(pl.oob, sl.idx)
			}
		}
		g.ports = append(g.ports, pl)
	}
	g.g = guard.New(cfg)
	g.line = make([]byte, 0, 512)
	b.Help("rxprobe_guard_violations_total", "Seconds in which an RX CPU saw more interrupts of a kind than expected, or a loop gap above the threshold (kind gap).")
	b.Help("rxprobe_drops_total", "Drops by the layer that lost them (the drop ledger).")
	return nil
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

func portIndex(e *rx.Engine, p *rx.Port) int {
	for i := range e.Ports {
		if e.Ports[i] == p {
			return i
		}
	}
	return -1
}

// guardSample feeds the guard once per second. It does not allocate
// unless an event is raised.
func (s *Sampler) guardSample() {
	g := &s.g
	if !g.on {
		return
	}
	g.n++
	if g.n < g.every && g.started() {
		return
	}
	if !in0(g, s) {
		return
	}
	g.n = 0
	in := &g.in
	in.At = s.cur.At
	for i := range in.CPUs {
		in.CPUs[i].Counts = [guard.NumIRQKinds]uint64{}
		in.CPUs[i].TopIRQ = ""
		g.topDelta[i] = 0
	}
	for k := range s.irqs {
		sl := &s.irqs[k]
		if sl.kind < 0 {
			continue
		}
		v := s.vals[sl.idx]
		ci := g.cpuIndex(s.irq.CPUs[sl.pos])
		if ci < 0 {
			continue
		}
		in.CPUs[ci].Counts[sl.kind] += v
		if sl.kind == guard.KindIRQ && v-sl.last > g.topDelta[ci] && v >= sl.last {
			g.topDelta[ci] = v - sl.last
			in.CPUs[ci].TopIRQ = sl.name
		}
		sl.last = v
	}
	for i := range in.Queues {
		c := &s.cur.Queues[i]
		in.Queues[i].Packets = c.Packets
		in.Queues[i].WorstGapNs = 0
		for k := rx.GapBuckets - 1; k >= 0; k-- {
			if c.GapHist[k] != g.prevHist[i][k] {
				if k == rx.GapBuckets-1 {
					in.Queues[i].WorstGapNs = rx.GapBucketLimitNs(k-1) * 2
				} else {
					in.Queues[i].WorstGapNs = rx.GapBucketLimitNs(k)
				}
				break
			}
		}
		g.prevHist[i] = c.GapHist
	}
	in.Drops = [guard.NumLayers]uint64{}
	for i := range s.ports {
		ps, pl := &s.ports[i], &g.ports[i]
		var d [guard.NumLayers]uint64
		if ps.discardsPhy >= 0 {
			d[guard.LayerPortBuffer] = s.vals[ps.discardsIdx]
		}
		host := s.vals[ps.imissed]
		oob := uint64(0)
		if ps.outOfBuffer >= 0 {
			oob = s.vals[ps.oobIdx]
		}
		for _, idx := range pl.oob {
			oob = max(oob, s.vals[idx])
		}
		d[guard.LayerHostTooSlow] = max(host, oob) // mlx5 reports out_of_buffer as imissed too
		d[guard.LayerMempoolEmpty] = s.vals[ps.nombuf]
		for _, idx := range pl.kernel {
			d[guard.LayerKernelPath] += s.vals[idx]
		}
		for l := range d {
			s.vals[g.dropsIdx[i][l]] = d[l]
			in.Drops[l] += d[l]
		}
	}
	events := g.g.Second(in)
	if len(events) > 0 {
		if g.opts.Attribute != nil && !g.lastAt.IsZero() {
			g.opts.Attribute(events, in.At.Sub(g.lastAt))
		}
		s.logEvents(events)
	}
	g.lastAt = in.At
	for ci := range g.rxcpus {
		v := g.g.Violations(ci)
		for k := range v {
			s.vals[g.violIdx[ci][k]] = v[k]
		}
	}
}

// in0 skips a forced second that would be empty (no time passed).
func in0(g *guardState, s *Sampler) bool { return g.lastAt.IsZero() || s.cur.At.After(g.lastAt) }

func (g *guardState) started() bool { return !g.lastAt.IsZero() }

func (g *guardState) cpuIndex(cpu int) int {
	for i, c := range g.rxcpus {
		if c == cpu {
			return i
		}
	}
	return -1
}

// logEvents writes one line per event to EventFD.
func (s *Sampler) logEvents(events []guard.Event) {
	if s.o.EventFD < 0 {
		return
	}
	for i := range events {
		e := &events[i]
		l := s.g.line[:0]
		l = append(l, "\nrxprobe guard: cpu "...)
		l = strconv.AppendInt(l, int64(e.CPU), 10)
		l = append(l, ": "...)
		if e.Kind == "gap" {
			l = append(l, "loop gap "...)
			l = rx.AppendDuration(l, e.Count)
			l = append(l, " on port "...)
			l = strconv.AppendInt(l, int64(e.Port), 10)
			l = append(l, " queue "...)
			l = strconv.AppendInt(l, int64(e.Queue), 10)
			l = append(l, " (threshold "...)
			l = rx.AppendDuration(l, uint64(e.Limit))
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
		_, _ = unix.Write(s.o.EventFD, l)
		s.g.line = l
	}
}

// Guard returns the jitter guard (nil without Options.Guard). Read it only
// after Stop.
func (s *Sampler) Guard() *guard.Guard { return s.g.g }
