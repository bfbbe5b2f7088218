package sampler

import (
	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/counter"
	"github.com/rxprobe/rxprobe/stats/dropclass"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// Positions of the basic counters in portSlots.raw, before the xstats.
const (
	rawIPackets = iota
	rawIMissed
	rawIErrors
	rawNoMbuf
	rawXStats
)

// portSlots are the value indexes of one port.
type portSlots struct {
	ipackets, imissed, ierrors, nombuf int
	xstat0                             int   // first rxprobe_xstat_total, -1 without xstats
	stable                             []int // value index per plan.Metrics entry
	plan                               *dropclass.Plan
	mono                               []counter.Mono // basic counters, then each xstat
	raw                                []uint64       // monotonic values, same order
}

// portSource publishes each port's basic counters, its stable xstat
// metrics and every xstat, made monotonic (ports may restart).
type portSource struct {
	shape *counters.Shape
	cur   *counters.Reading
	slots []portSlots
	// unknown lists the ports whose driver is not in the drop table.
	unknown []int
}

// The ports' ethdev counters and xstats. The stable xstat metrics
// (rxprobe_rx_discards_phy_total, rxprobe_rx_out_of_buffer_total) are
// declared in stats/dropclass, with the driver names that feed them.
var (
	mPortPackets = metric{"rxprobe_port_rx_packets_total", snapshot.Counter, "Packets the port counted (ethdev ipackets)."}
	mMissed      = metric{"rxprobe_rx_missed_total", snapshot.Counter, "Packets the NIC dropped for lack of a free descriptor (imissed): the host was too slow."}
	mErrors      = metric{"rxprobe_rx_errors_total", snapshot.Counter, "Erroneous received packets (ierrors)."}
	mNoMbuf      = metric{"rxprobe_rx_nombuf_total", snapshot.Counter, "RX mbuf allocation failures: the mempool was empty."}
	mXStat       = metric{"rxprobe_xstat_total", snapshot.Counter, "Every DPDK extended statistic of the port, by name."}
)

func (p *portSource) declare(s *schema) error {
	L := snapshot.L
	for i, pd := range p.shape.Ports {
		pl := L("port", pd.Name)
		ps := portSlots{plan: dropclass.Resolve(pd.Driver, pd.XStatNames), xstat0: -1}
		if !ps.plan.Known {
			p.unknown = append(p.unknown, i)
		}
		ps.ipackets = s.add(mPortPackets, 0, pl)
		ps.imissed = s.add(mMissed, 0, pl)
		ps.ierrors = s.add(mErrors, 0, pl)
		ps.nombuf = s.add(mNoMbuf, 0, pl)
		for _, m := range ps.plan.Metrics {
			ps.stable = append(ps.stable, s.add(metric{m.Metric.Name, snapshot.Counter, m.Metric.Help}, 0, pl))
		}
		for k, n := range pd.XStatNames {
			idx := s.add(mXStat, 0, pl, L("name", n))
			if k == 0 {
				ps.xstat0 = idx
			}
		}
		ps.mono = make([]counter.Mono, rawXStats+len(pd.XStatNames))
		ps.raw = make([]uint64, rawXStats+len(pd.XStatNames))
		p.slots = append(p.slots, ps)
	}
	return nil
}

func (p *portSource) sample(v []uint64) error {
	for i := range p.slots {
		ps, r := &p.slots[i], &p.cur.Ports[i]
		ps.raw[rawIPackets], ps.raw[rawIMissed], ps.raw[rawIErrors], ps.raw[rawNoMbuf] = r.Stats.IPackets, r.Stats.IMissed, r.Stats.IErrors, r.Stats.RXNoMbuf
		copy(ps.raw[rawXStats:], r.XStats)
		for k := range ps.raw {
			ps.raw[k] = ps.mono[k].Update(ps.raw[k])
		}
		v[ps.ipackets], v[ps.imissed], v[ps.ierrors], v[ps.nombuf] = ps.raw[rawIPackets], ps.raw[rawIMissed], ps.raw[rawIErrors], ps.raw[rawNoMbuf]
		xs := ps.raw[rawXStats:]
		if ps.xstat0 >= 0 {
			copy(v[ps.xstat0:ps.xstat0+len(xs)], xs)
		}
		for k, m := range ps.plan.Metrics {
			v[ps.stable[k]] = xs[m.Index]
		}
	}
	return nil
}

// input fills in with port i's monotonic counters for dropclass.
func (p *portSource) input(i int, in *dropclass.Input) {
	ps := &p.slots[i]
	in.Basic = dropclass.Basic{IMissed: ps.raw[rawIMissed], IErrors: ps.raw[rawIErrors], RXNoMbuf: ps.raw[rawNoMbuf]}
	in.XStats = ps.raw[rawXStats:]
}

func (p *portSource) close() {}
