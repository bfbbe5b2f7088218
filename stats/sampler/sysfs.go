package sampler

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/rx"
)

// sysfsFile is one counter file of a port.
type sysfsFile struct {
	name string // label: "rx_dropped", "mlx5_0/out_of_buffer", ...
	path string // relative to the host root
}

// ifaceStats are the netdev statistics that count frames lost before the
// PMD saw them.
var ifaceStats = []string{"rx_dropped", "rx_missed_errors", "rx_fifo_errors", "rx_over_errors"}

// hwCounters are the mlx5 RDMA port counters that explain drops.
var hwCounters = []string{"out_of_buffer", "out_of_sequence"}

// sysfsCounters lists the counter files of port p that exist at start-up
// (resolved once; globbing is start-up work, never a sample's).
func sysfsCounters(root string, p *rx.Port) []sysfsFile {
	host := hostfs.New(root)
	root = host.Root()
	var out []sysfsFile
	add := func(name, rel string) {
		if host.Exists(rel) {
			out = append(out, sysfsFile{name: name, path: rel})
		}
	}
	var ifaces []string
	if p.Iface != "" {
		ifaces = append(ifaces, p.Iface)
	}
	if addr, err := hostfs.CanonicalPCI(p.Cfg.Device); err == nil {
		dev := filepath.Join("sys/bus/pci/devices", addr)
		if ents, err := os.ReadDir(host.Path(dev, "net")); err == nil {
			for _, e := range ents {
				ifaces = append(ifaces, e.Name())
			}
		}
		ib, _ := filepath.Glob(host.Path(dev, "infiniband", "*", "ports", "*", "hw_counters"))
		sort.Strings(ib)
		for _, d := range ib {
			rel, _ := filepath.Rel(root, d)
			parts := strings.Split(rel, string(filepath.Separator))
			ibdev := parts[len(parts)-4] + "/" + parts[len(parts)-2] // mlx5_0/1
			for _, c := range hwCounters {
				add(ibdev+"/"+c, filepath.Join(rel, c))
			}
		}
	}
	for _, ifc := range ifaces {
		for _, st := range ifaceStats {
			name := st
			if len(ifaces) > 1 {
				name = ifc + "/" + st
			}
			add(name, filepath.Join("sys/class/net", ifc, "statistics", st))
		}
	}
	return out
}
