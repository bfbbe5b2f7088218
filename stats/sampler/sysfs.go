package sampler

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/kernel"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// sysfsSource publishes per-port counter files read directly: the kernel
// interface an AF_XDP/AF_PACKET port is bound to, and for a PCI port its
// netdevs and (mlx5) its RDMA hw_counters, where out_of_buffer lives.
type sysfsSource struct {
	root  string
	shape *counters.Shape
	r     *kernel.CounterReader
	c     *kernel.Counters
	slots []devSlot // name = path; one per file
	// Per port: value indexes of the kernel interfaces' rx_dropped and of
	// the hw_counters out_of_buffer files, for the ledger.
	kernelIdx, oobIdx [][]int
}

var mSysfs = metric{"rxprobe_sysfs_counter_total", snapshot.Counter,
	"Per-port kernel counters read from sysfs: the bound interface's statistics, mlx5 hw_counters (out_of_buffer)."}

func (q *sysfsSource) declare(s *schema) error {
	var paths []string
	q.kernelIdx = make([][]int, len(q.shape.Ports))
	q.oobIdx = make([][]int, len(q.shape.Ports))
	for i, p := range q.shape.Ports {
		for _, f := range sysfsCounters(q.root, p) {
			idx := s.add(mSysfs, 0, snapshot.L("port", p.Name), snapshot.L("name", f.name))
			paths = append(paths, f.path)
			q.slots = append(q.slots, devSlot{name: f.path, idx: idx})
			switch {
			case f.name == "rx_dropped" || strings.HasSuffix(f.name, "/rx_dropped"):
				q.kernelIdx[i] = append(q.kernelIdx[i], idx)
			case strings.HasSuffix(f.name, "/out_of_buffer"):
				q.oobIdx[i] = append(q.oobIdx[i], idx)
			}
		}
	}
	var err error
	if q.r, err = kernel.NewCounterReader(q.root, paths); err != nil {
		return fmt.Errorf("sampler: %w", err)
	}
	q.c = q.r.NewSample()
	return nil
}

func (q *sysfsSource) sample(v []uint64) error {
	if len(q.slots) == 0 {
		return nil
	}
	err := q.r.ReadInto(q.c)
	for i := range q.slots {
		if q.c.Present[i] {
			v[q.slots[i].idx] = q.slots[i].m.Update(q.c.Values[i])
		}
	}
	return err
}

func (q *sysfsSource) close() {
	if q.r != nil {
		q.r.Close()
	}
}

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
func sysfsCounters(root string, p counters.Port) []sysfsFile {
	host := hostfs.New(root)
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
	if addr, err := hostfs.CanonicalPCI(p.Device); err == nil {
		dev := filepath.Join("sys/bus/pci/devices", addr)
		if ents, err := os.ReadDir(host.Path(dev, "net")); err == nil {
			for _, e := range ents {
				ifaces = append(ifaces, e.Name())
			}
		}
		ib, _ := filepath.Glob(host.Path(dev, "infiniband", "*", "ports", "*", "hw_counters"))
		sort.Strings(ib)
		for _, d := range ib {
			rel, _ := filepath.Rel(host.Root(), d)
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
