package isolation

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rxprobe/rxprobe/internal/cpuset"
)

// Host is a machine seen through its root directory: Root "/" (or "") is
// the live host, anything else a copy of another host's /proc, /sys and
// /etc.
type Host struct {
	Root string
}

const (
	cpuDir  = "sys/devices/system/cpu"
	nodeDir = "sys/devices/system/node"
)

// ErrNoSuchCPU means a CPU number is not on any NUMA node of the host.
var ErrNoSuchCPU = errors.New("CPU not found on any NUMA node")

// OnlineCPUs returns the CPUs the kernel has online
// (ROOT/sys/devices/system/cpu/online).
func (h Host) OnlineCPUs() (cpuset.Set, error) {
	s, err := h.readList(cpuDir + "/online")
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("isolation: online CPUs: %w", err)
	}
	return s, nil
}

// Nodes returns the NUMA node numbers of the host, sorted. A kernel built
// without NUMA has no node directory; Nodes then returns [0], the single
// node everything is on.
func (h Host) Nodes() ([]int, error) {
	ents, err := os.ReadDir(h.path(nodeDir))
	if notExist(err) {
		return []int{0}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("isolation: listing NUMA nodes: %w", err)
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
func (h Host) NodeCPUs(node int) (cpuset.Set, error) {
	if !h.exists(nodeDir) {
		if node != 0 {
			return cpuset.Set{}, fmt.Errorf("isolation: node %d: no such NUMA node", node)
		}
		return h.OnlineCPUs()
	}
	s, err := h.readList(fmt.Sprintf("%s/node%d/cpulist", nodeDir, node))
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("isolation: node %d: %w", node, err)
	}
	return s, nil
}

// CPUNode returns the NUMA node of cpu. On a kernel without NUMA every CPU
// is on node 0 (never -1), matching PCINode's treatment of devices without
// locality. A CPU on no node is ErrNoSuchCPU.
func (h Host) CPUNode(cpu int) (int, error) {
	nodes, err := h.Nodes()
	if err != nil {
		return 0, err
	}
	for _, n := range nodes {
		set, err := h.NodeCPUs(n)
		if err != nil {
			return 0, fmt.Errorf("isolation: NUMA node of CPU %d: %w", cpu, err)
		}
		if set.Has(cpu) {
			return n, nil
		}
	}
	return 0, fmt.Errorf("isolation: CPU %d: %w", cpu, ErrNoSuchCPU)
}

// pciAddr matches a full PCI address "0000:3b:00.0".
var pciAddr = regexp.MustCompile(`^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$`)

// PCINode returns the NUMA node of a PCI device
// (ROOT/sys/bus/pci/devices/ADDR/numa_node). Firmware that gives no
// locality reports -1; PCINode returns 0 for it, the node DPDK assumes
// too (the numa_locality check says so in its details).
func (h Host) PCINode(addr string) (int, error) {
	n, err := h.pciNodeRaw(addr)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, nil
	}
	return n, nil
}

// pciNodeRaw is PCINode without mapping -1 to 0.
func (h Host) pciNodeRaw(addr string) (int, error) {
	if !pciAddr.MatchString(addr) {
		return 0, fmt.Errorf("isolation: %q is not a PCI address like 0000:3b:00.0", addr)
	}
	s, err := h.readString("sys/bus/pci/devices/" + strings.ToLower(addr) + "/numa_node")
	if err != nil {
		return 0, fmt.Errorf("isolation: NUMA node of %s: %w", addr, err)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < -1 || n >= 1<<16 {
		return 0, fmt.Errorf("isolation: NUMA node of %s: %q is not a node number", addr, s)
	}
	return n, nil
}

// hostname returns the host's name from ROOT/proc/sys/kernel/hostname or
// ROOT/etc/hostname, or "" if neither can be read.
func (h Host) hostname() string {
	for _, p := range []string{"proc/sys/kernel/hostname", "etc/hostname"} {
		if s, err := h.readString(p); err == nil && s != "" && len(s) <= 255 {
			return s
		}
	}
	return ""
}
