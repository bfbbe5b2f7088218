package dropclass

import "slices"

// Combine says how an xstat joins its class.
type Combine int

const (
	// Adds: drops no basic ethdev counter holds; added to the class.
	Adds Combine = iota
	// AsIMissed: the drops the driver also reports as imissed; the class
	// takes the larger of the two (never both).
	AsIMissed
	// Breakdown: part of a counter already counted (a basic counter, or
	// another xstat split by queue or priority); exported, never added.
	Breakdown
)

// Metric is a stable per-port metric an xstat is exported under, besides
// rxprobe_xstat_total{name=…}.
type Metric struct {
	Name, Help string
}

// The stable xstat metrics. Their names are published (alert rules, the
// Grafana dashboard): never rename.
var (
	MetricDiscardsPhy = Metric{"rxprobe_rx_discards_phy_total",
		"Packets the NIC discarded for lack of buffer at the port, before DMA (kernel rx_discards_phy; mlx5 xstat rx_phy_discard_packets)."}
	MetricOutOfBuffer = Metric{"rxprobe_rx_out_of_buffer_total",
		"Packets dropped because no receive WQE was posted (mlx5 xstat rx_out_of_buffer, the kernel's out_of_buffer)."}
)

// XStat is one xstat name of a driver that carries drops.
type XStat struct {
	// Name as xstats_get_names lists it; "%u" stands for a queue or
	// priority number.
	Name    string
	Class   Class
	Combine Combine
	// Metric is the stable metric it is exported under (zero: none).
	Metric Metric
	// Source is the DPDK 22.11 file the name comes from.
	Source string
}

// Driver is one DPDK driver's drop counters.
type Driver struct {
	// Names are the rte_eth_dev_info.driver_name values it covers.
	Names []string
	// IMissed says what the driver counts in imissed (the basic counter
	// behind host_too_slow).
	IMissed string
	// KernelHoldsIMissed: the bound kernel interface's rx_dropped already
	// counts imissed's drops, so kernel_path takes only the rest.
	KernelHoldsIMissed bool
	XStats             []XStat
}

const (
	srcEthdev = "lib/ethdev/rte_ethdev.c"
	srcMlx5   = "drivers/net/mlx5/linux/mlx5_ethdev_os.c"
	srcIce    = "drivers/net/ice/ice_ethdev.c"
	srcI40e   = "drivers/net/i40e/i40e_ethdev.c"
	srcIxgbe  = "drivers/net/ixgbe/ixgbe_ethdev.c"
	srcIavf   = "drivers/net/iavf/iavf_ethdev.c"
	srcVirtio = "drivers/net/virtio/virtio_ethdev.c"
)

// Ethdev are the names the ethdev layer adds for every driver: the basic
// counters (rx_missed_errors is imissed, rx_errors ierrors,
// rx_mbuf_allocation_errors rx_nombuf) and, for drivers that set
// RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS, rx_q%u_errors. All are breakdowns:
// Classify counts the basic counters themselves.
var Ethdev = []XStat{
	{Name: "rx_missed_errors", Class: HostTooSlow, Combine: Breakdown, Source: srcEthdev},
	{Name: "rx_errors", Class: Errors, Combine: Breakdown, Source: srcEthdev},
	{Name: "rx_mbuf_allocation_errors", Class: MempoolEmpty, Combine: Breakdown, Source: srcEthdev},
	{Name: "rx_q%u_errors", Class: Errors, Combine: Breakdown, Source: srcEthdev},
}

// Drivers is the table: each driver's xstats that carry drops, read from
// the DPDK 22.11 sources named per entry (names a driver lists without a
// drop meaning — sizes, bytes, flow control — are not here; every xstat is
// still exported as rxprobe_xstat_total).
var Drivers = []Driver{
	{
		Names: []string{"mlx5_pci"},
		// mlx5_stats.c: imissed is read from the out_of_buffer counter;
		// ierrors counts only CQE errors (rxq idropped).
		IMissed: "out_of_buffer: no receive WQE posted (mlx5_stats.c)",
		XStats: []XStat{
			// dpdk_name for the kernel's ctr_name rx_discards_phy.
			{Name: "rx_phy_discard_packets", Class: PortBuffer, Combine: Adds, Metric: MetricDiscardsPhy, Source: srcMlx5},
			{Name: "rx_prio%u_buf_discard_packets", Class: PortBuffer, Combine: Breakdown, Source: srcMlx5},
			{Name: "rx_prio%u_cong_discard_packets", Class: PortBuffer, Combine: Breakdown, Source: srcMlx5},
			// dpdk_name for out_of_buffer (a device counter, .dev = 1).
			{Name: "rx_out_of_buffer", Class: HostTooSlow, Combine: AsIMissed, Metric: MetricOutOfBuffer, Source: srcMlx5},
			// PHY errors are not in mlx5's ierrors.
			{Name: "rx_phy_crc_errors", Class: Errors, Combine: Adds, Source: srcMlx5},
			{Name: "rx_phy_in_range_len_errors", Class: Errors, Combine: Adds, Source: srcMlx5},
			{Name: "rx_phy_symbol_errors", Class: Errors, Combine: Adds, Source: srcMlx5},
		},
	},
	{
		Names: []string{"net_ice"},
		// ice_stats_get: imissed = port rx_discards + VSI rx_discards;
		// ierrors = crc + undersize + oversize + fragments + jabber.
		IMissed: "port and VSI rx_discards: no descriptor available (ice_stats_get)",
		XStats: slices.Concat([]XStat{
			{Name: "rx_dropped_packets", Class: HostTooSlow, Combine: Breakdown, Source: srcIce},
			{Name: "rx_len_errors", Class: Errors, Combine: Adds, Source: srcIce},
			{Name: "rx_mac_short_pkt_dropped", Class: Errors, Combine: Adds, Source: srcIce},
		}, inIErrors(srcIce, "rx_crc_errors", "rx_undersized_errors", "rx_oversize_errors", "rx_fragmented_errors", "rx_jabber_errors")),
	},
	{
		Names: []string{"net_i40e"},
		// i40e_dev_stats_get: imissed = port + VSI rx_discards; ierrors =
		// crc + length + undersize + oversize + fragments + jabber + rx_err1.
		IMissed: "port and VSI rx_discards: no descriptor available (i40e_dev_stats_get)",
		XStats: slices.Concat([]XStat{
			{Name: "rx_dropped_packets", Class: HostTooSlow, Combine: Breakdown, Source: srcI40e},
			{Name: "rx_mac_short_dropped", Class: Errors, Combine: Adds, Source: srcI40e},
		}, inIErrors(srcI40e, "rx_crc_errors", "rx_length_errors", "rx_undersized_errors", "rx_oversize_errors",
			"rx_fragmented_errors", "rx_jabber_errors")),
	},
	{
		Names: []string{"net_ixgbe"},
		// ixgbe_dev_stats_get: imissed = the sum of MPC, packets missed
		// because the RX packet buffer was full — on a poll-mode receiver,
		// because the loop did not refill descriptors in time; ierrors =
		// crcerrs + mspdc + rlec + ruc + roc + illerrc + errbc + rfc + ...
		IMissed: "MPC: RX packet buffer full, descriptors not refilled in time (ixgbe_dev_stats_get)",
		XStats: slices.Concat([]XStat{
			{Name: "rx_total_missed_packets", Class: HostTooSlow, Combine: AsIMissed, Source: srcIxgbe},
			{Name: "rx_priority%u_dropped", Class: HostTooSlow, Combine: Breakdown, Source: srcIxgbe},
		}, inIErrors(srcIxgbe, "rx_crc_errors", "rx_mac_short_packet_dropped", "rx_length_errors", "rx_undersize_errors",
			"rx_oversize_errors", "rx_illegal_byte_errors", "rx_error_bytes", "rx_fragment_errors")),
	},
	{
		// The VF lists one xstat (rx_multicast_packets): its drops are
		// the basic counters.
		Names:   []string{"net_ixgbe_vf"},
		IMissed: "not counted by the VF (ixgbevf_dev_stats_get)",
	},
	{
		Names: []string{"net_iavf"},
		// iavf_dev_stats_get: imissed = rx_discards, the xstat below.
		IMissed: "VF rx_discards: no descriptor available (iavf_dev_stats_get)",
		XStats: []XStat{
			{Name: "rx_dropped_packets", Class: HostTooSlow, Combine: AsIMissed, Source: srcIavf},
		},
	},
	{
		Names: []string{"net_virtio", "net_virtio_user"},
		// virtio_dev_stats_get: ierrors is the sum of the queues' errors.
		IMissed: "not counted (virtio_dev_stats_get)",
		XStats: []XStat{
			{Name: "rx_q%u_errors", Class: Errors, Combine: Breakdown, Source: srcVirtio},
		},
	},
	{
		// No xstats of its own in 22.11 (recorded: testdata/net_af_xdp.txt).
		// A frame the XDP program cannot put on a full socket ring is
		// counted twice: in XDP_STATISTICS rx_dropped (imissed) and, on
		// veth, in the interface's rx_dropped (measured: equal counts in
		// cmd/rxprobe's AF_XDP veth test). A NIC driver in XDP mode may
		// not count it there; kernel_path then misses up to imissed.
		Names:              []string{"net_af_xdp"},
		IMissed:            "XDP socket drops: RX ring full, no fill-ring entry (eth_stats_get, XDP_STATISTICS)",
		KernelHoldsIMissed: true,
	},
	{
		// No xstats and no imissed in 22.11: the kernel interface's
		// rx_dropped (kernel_path) is where its drops show.
		Names:   []string{"net_af_packet"},
		IMissed: "not counted (eth_stats_get)",
	},
	{
		Names:   []string{"net_null"},
		IMissed: "not counted: a null device drops nothing",
	},
}

// inIErrors are error xstats the driver sums into ierrors: breakdowns.
func inIErrors(source string, names ...string) []XStat {
	out := make([]XStat, len(names))
	for i, n := range names {
		out[i] = XStat{Name: n, Class: Errors, Combine: Breakdown, Source: source}
	}
	return out
}

// Lookup returns the table's entry for a driver name, or nil.
func Lookup(driver string) *Driver {
	for i := range Drivers {
		for _, n := range Drivers[i].Names {
			if n == driver {
				return &Drivers[i]
			}
		}
	}
	return nil
}

// match reports whether name is pattern, where "%u" in pattern stands for
// one or more decimal digits.
func match(pattern, name string) bool {
	for i := 0; i+1 < len(pattern); i++ {
		if pattern[i] == '%' && pattern[i+1] == 'u' {
			if len(name) < i || name[:i] != pattern[:i] {
				return false
			}
			j := i
			for j < len(name) && name[j] >= '0' && name[j] <= '9' {
				j++
			}
			return j > i && match(pattern[i+2:], name[j:])
		}
	}
	return pattern == name
}
