package dropclass

// Basic are a port's basic ethdev drop counters.
type Basic struct {
	IMissed, IErrors, RXNoMbuf uint64
}

// Input is what Classify reads for one port, all cumulative.
type Input struct {
	Basic Basic
	// XStats are the port's xstat values, index-aligned with the names
	// given to Resolve.
	XStats []uint64
	// Kernel is the bound kernel interface's rx_dropped, cumulative like
	// the rest (0 without one).
	Kernel uint64
	// IMissedAlso are other readings of the drops imissed counts (mlx5:
	// the RDMA hw_counters out_of_buffer); the class takes the largest.
	IMissedAlso []uint64
}

// slot is one resolved xstat.
type slot struct {
	idx     int
	class   Class
	combine Combine
}

// MetricSlot is one stable metric a port has: its xstat position.
type MetricSlot struct {
	Metric Metric
	Index  int // into the port's xstat names
}

// Plan classifies one port's counters. Build it once with Resolve.
type Plan struct {
	// Driver is the driver name the plan was resolved for.
	Driver string
	// Known is false when the driver is not in the table: its drops are
	// classified from the basic counters only (and the generic ethdev
	// names), so they are only partly classified.
	Known bool
	// kernelHoldsIMissed: see Driver.KernelHoldsIMissed.
	kernelHoldsIMissed bool
	// Metrics are the stable metrics this port exports, in table order.
	Metrics []MetricSlot
	slots   []slot
}

// Resolve matches a port's xstat names (as xstats_get_names lists them)
// against the driver's table entry and the generic ethdev names.
func Resolve(driver string, names []string) *Plan {
	p := &Plan{Driver: driver}
	entries := Ethdev
	if d := Lookup(driver); d != nil {
		p.Known, p.kernelHoldsIMissed = true, d.KernelHoldsIMissed
		entries = append(append([]XStat{}, d.XStats...), Ethdev...)
	}
	for _, e := range entries {
		for i, n := range names {
			if !match(e.Name, n) || p.has(i) {
				continue
			}
			p.slots = append(p.slots, slot{idx: i, class: e.Class, combine: e.Combine})
			if e.Metric.Name != "" {
				p.Metrics = append(p.Metrics, MetricSlot{Metric: e.Metric, Index: i})
			}
		}
	}
	return p
}

// has reports whether xstat i is already resolved (the first entry that
// matches a name wins: driver entries before the generic ones).
func (p *Plan) has(i int) bool {
	for _, s := range p.slots {
		if s.idx == i {
			return true
		}
	}
	return false
}

// ClassOf returns the class of xstat i and how it combines; ok is false
// for an xstat that carries no drop.
func (p *Plan) ClassOf(i int) (c Class, how Combine, ok bool) {
	for _, s := range p.slots {
		if s.idx == i {
			return s.class, s.combine, true
		}
	}
	return 0, 0, false
}

// Classify turns one port's cumulative counters into cumulative drops by
// class: the one definition of each class.
//
//   - port_buffer: the driver's port-buffer xstats (mlx5
//     rx_phy_discard_packets, the kernel's rx_discards_phy).
//   - host_too_slow: imissed, or the largest other reading of the same
//     drops (mlx5 rx_out_of_buffer, hw_counters out_of_buffer), plus any
//     host-too-slow xstat imissed does not hold.
//   - mempool_empty: rx_nombuf.
//   - kernel_path: the bound interface's rx_dropped, less imissed where
//     the interface counts those drops too (AF_XDP on veth).
//   - errors: ierrors plus error xstats ierrors does not hold (mlx5 PHY
//     CRC, length and symbol errors).
//   - capture_ring: 0 here; the stats thread adds the capture rings'
//     ring-full drops (stats/sampler's capture source).
//
// Breakdowns (per queue, per priority, the basic names) are never added.
// It does not allocate.
func (p *Plan) Classify(in *Input) Drops {
	var d Drops
	host := in.Basic.IMissed
	for _, v := range in.IMissedAlso {
		host = max(host, v)
	}
	for _, s := range p.slots {
		if s.idx >= len(in.XStats) {
			continue
		}
		v := in.XStats[s.idx]
		switch s.combine {
		case Adds:
			d[s.class] += v
		case AsIMissed:
			if s.class == HostTooSlow {
				host = max(host, v)
			}
		}
	}
	d[HostTooSlow] += host
	d[MempoolEmpty] += in.Basic.RXNoMbuf
	d[Errors] += in.Basic.IErrors
	kernel := in.Kernel
	if p.kernelHoldsIMissed {
		kernel -= min(kernel, in.Basic.IMissed)
	}
	d[KernelPath] += kernel
	return d
}
