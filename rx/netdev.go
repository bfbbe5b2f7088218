package rx

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// KernelIface returns the kernel interface a virtual device is bound to
// (the iface= devarg of net_af_xdp, net_af_packet, net_pcap), or "".
func KernelIface(devargs string) string {
	for _, kv := range strings.Split(devargs, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok && (k == "iface" || k == "rx_iface") {
			return v
		}
	}
	return ""
}

// NetdevCounters are a kernel interface's RX counters.
type NetdevCounters struct {
	RXPackets uint64
	RXDropped uint64
	OK        bool
}

// readNetdev reads ROOT/sys/class/net/IF/statistics. It is used at start
// and stop only, never in the steady state.
func readNetdev(root, iface string) NetdevCounters {
	if iface == "" {
		return NetdevCounters{}
	}
	dir := hostfs.New(root).Sys("class/net", iface, "statistics")
	get := func(name string) (uint64, bool) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return 0, false
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		return v, err == nil
	}
	p, ok1 := get("rx_packets")
	d, ok2 := get("rx_dropped")
	return NetdevCounters{RXPackets: p, RXDropped: d, OK: ok1 && ok2}
}

// ReadKernelCounters reads the RX counters of p's kernel interface now
// (OK false for a port without one, or when they cannot be read). It
// allocates: call it at start and stop only.
func (e *Engine) ReadKernelCounters(p *Port) NetdevCounters { return readNetdev(e.hostRoot, p.Iface) }
