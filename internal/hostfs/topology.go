package hostfs

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/rxprobe/rxprobe/internal/cpuset"
)

// Directories of the topology files, relative to the root.
const (
	CPUDir  = "sys/devices/system/cpu"
	NodeDir = "sys/devices/system/node"
)

// Sentinel errors of the topology lookups; match them with errors.Is.
var (
	// ErrNoSuchCPU means a CPU number is not on any NUMA node of the host.
	ErrNoSuchCPU = errors.New("CPU not found on any NUMA node")
	// ErrNoDevice means there is no such PCI device under ROOT/sys/bus/pci.
	ErrNoDevice = errors.New("no such PCI device")
	// ErrNoLocality means a PCI device on a host with several NUMA nodes
	// does not say which node it is on (numa_node is -1 or absent): where
	// its memory should go is unknown.
	ErrNoLocality = errors.New("device reports no NUMA locality on a multi-node host")
)

// OnlineCPUs returns the CPUs the kernel has online
// (ROOT/sys/devices/system/cpu/online).
func (fs FS) OnlineCPUs() (cpuset.Set, error) {
	s, err := fs.ReadCPUList(CPUDir + "/online")
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("hostfs: online CPUs: %w", err)
	}
	return s, nil
}

// HasNUMA reports whether the kernel exposes NUMA nodes
// (ROOT/sys/devices/system/node exists). A kernel built without NUMA has
// none; everything is then on node 0.
func (fs FS) HasNUMA() bool { return fs.Exists(NodeDir) }

// Nodes returns the NUMA node numbers of the host, sorted (the nodeN
// directories of ROOT/sys/devices/system/node). A kernel built without NUMA
// has no node directory; Nodes then returns [0], the single node
// everything is on.
func (fs FS) Nodes() ([]int, error) {
	ents, err := os.ReadDir(fs.Path(NodeDir))
	if NotExist(err) {
		return []int{0}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("hostfs: listing NUMA nodes: %w", err)
	}
	var out []int
	for _, e := range ents {
		num, ok := strings.CutPrefix(e.Name(), "node")
		if !ok || !e.IsDir() {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 {
			continue
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return []int{0}, nil
	}
	slices.Sort(out)
	return out, nil
}

// NodeCPUs returns the CPUs of a NUMA node (nodeN/cpulist). On a kernel
// without NUMA, node 0 holds every online CPU.
func (fs FS) NodeCPUs(node int) (cpuset.Set, error) {
	if !fs.HasNUMA() {
		if node != 0 {
			return cpuset.Set{}, fmt.Errorf("hostfs: node %d: no such NUMA node", node)
		}
		return fs.OnlineCPUs()
	}
	s, err := fs.ReadCPUList(fmt.Sprintf("%s/node%d/cpulist", NodeDir, node))
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("hostfs: node %d: %w", node, err)
	}
	return s, nil
}

// CPUNode returns the NUMA node of cpu. On a kernel without NUMA every CPU
// is on node 0. A CPU on no node is ErrNoSuchCPU.
func (fs FS) CPUNode(cpu int) (int, error) {
	nodes, err := fs.Nodes()
	if err != nil {
		return 0, err
	}
	for _, n := range nodes {
		set, err := fs.NodeCPUs(n)
		if err != nil {
			return 0, fmt.Errorf("hostfs: NUMA node of CPU %d: %w", cpu, err)
		}
		if set.Has(cpu) {
			return n, nil
		}
	}
	return 0, fmt.Errorf("hostfs: CPU %d: %w", cpu, ErrNoSuchCPU)
}

// PCINode returns the NUMA node of the PCI device addr (any form
// ParsePCIAddr accepts), read from ROOT/sys/bus/pci/devices/ADDR/numa_node.
//
// Firmware that gives no locality makes the kernel report -1, and a kernel
// without NUMA has no numa_node file. On a host with a single NUMA node
// both mean node 0, the only node there is, and PCINode returns 0. On a
// host with several nodes they are ErrNoLocality: the node is unknown and
// the caller must say so (a preflight warning, a degraded run), never
// assume node 0. A bad address, a missing device (ErrNoDevice) and an
// unreadable or garbled numa_node are errors too.
func (fs FS) PCINode(addr string) (int, error) {
	a, err := ParsePCIAddr(addr)
	if err != nil {
		return 0, fmt.Errorf("hostfs: %w", err)
	}
	if _, err := os.Stat(fs.PCIDevice(a)); err != nil {
		if NotExist(err) {
			return 0, fmt.Errorf("hostfs: %s: %w", a, ErrNoDevice)
		}
		return 0, fmt.Errorf("hostfs: %s: %w", a, err)
	}
	rel := "sys/bus/pci/devices/" + a.String() + "/numa_node"
	s, err := fs.ReadString(rel)
	n := -1
	switch {
	case NotExist(err):
		s = "absent"
	case err != nil:
		return 0, fmt.Errorf("hostfs: NUMA node of %s: %w", a, err)
	default:
		n, err = strconv.Atoi(s)
		if err != nil || n < -1 || n >= 1<<16 {
			return 0, fmt.Errorf("hostfs: NUMA node of %s: numa_node %q is not a node number", a, s)
		}
	}
	if n >= 0 {
		return n, nil
	}
	nodes, err := fs.Nodes()
	if err != nil {
		return 0, fmt.Errorf("hostfs: NUMA node of %s: %w", a, err)
	}
	if len(nodes) == 1 {
		return nodes[0], nil
	}
	return 0, fmt.Errorf("hostfs: NUMA node of %s: numa_node %s on a host with nodes %v: %w", a, s, nodes, ErrNoLocality)
}

// NohzFull returns the CPUs the kernel runs tickless
// (ROOT/sys/devices/system/cpu/nohz_full; "(null)" when none). The error
// matches fs.ErrNotExist on kernels built without NO_HZ_FULL.
func (fs FS) NohzFull() (cpuset.Set, error) { return fs.kernelCPUs("nohz_full") }

// IsolatedCPUs returns the CPUs isolated from the scheduler by isolcpus=
// (ROOT/sys/devices/system/cpu/isolated). The error matches
// fs.ErrNotExist on kernels without the file.
func (fs FS) IsolatedCPUs() (cpuset.Set, error) { return fs.kernelCPUs("isolated") }

// kernelCPUs reads a CPU set the kernel prints under
// /sys/devices/system/cpu, where "(null)" or an empty line means none.
func (fs FS) kernelCPUs(name string) (cpuset.Set, error) {
	rel := CPUDir + "/" + name
	s, err := fs.ReadString(rel)
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("cannot read /%s: %w", rel, err)
	}
	if s == "(null)" {
		s = ""
	}
	set, err := cpuset.Parse(s)
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("/%s: %w", rel, err)
	}
	return set, nil
}
