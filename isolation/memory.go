package isolation

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rxprobe/rxprobe/hugepages"
	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// --- 6. hugepages

func checkHugepages(c *ctx) Result {
	needs := hugepages.MergeNeeds(c.spec.Huge)
	if len(needs) == 0 {
		return skip("config runs with no_huge")
	}
	fs := hugepages.New(c.h.Root())
	r := Result{}
	var want, have []string
	for _, n := range needs {
		want = append(want, fmt.Sprintf("%d × %s on %s", n.Pages(), n.Size, nodeName(n.Node)))
		if free, err := fs.Free(n.Node, n.Size); err == nil {
			have = append(have, fmt.Sprintf("%d free × %s on %s", free, n.Size, nodeName(n.Node)))
		}
	}
	if mounts, err := fs.Mounts(); err == nil {
		for _, m := range mounts {
			have = append(have, fmt.Sprintf("hugetlbfs %s at %s", m.Size.Flag(), m.Path))
		}
	}
	r.Expected = strings.Join(want, ", ") + ", hugetlbfs mounted for each size"
	r.Observed = strings.Join(have, ", ")
	if r.Observed == "" {
		r.Observed = "no hugepage pools or mounts found"
	}
	err := fs.Check(needs)
	var se *hugepages.ShortfallError
	var me *hugepages.NoMountError
	switch {
	case err == nil:
		r.Status = StatusPass
	case errors.As(err, &se):
		r.Status = StatusFail
		r.Reason = err.Error()
		r.Remedy = se.Remedy()
	case errors.As(err, &me):
		r.Status = StatusFail
		r.Reason = err.Error()
		r.Remedy = me.Remedy()
	case errors.Is(err, hugepages.ErrNoNode), errors.Is(err, hugepages.ErrSizeUnsupported):
		r.Status = StatusFail
		r.Reason = err.Error()
		r.Remedy = "change the hugepage size or NUMA node in the config to one this host has (see rxprobe hugepages status)"
	default:
		r.Status = StatusSkip
		r.Reason = err.Error()
	}
	return r
}

func nodeName(n int) string {
	if n < 0 {
		return "any node"
	}
	return fmt.Sprintf("node %d", n)
}

// --- 7. numa_locality

func checkNUMALocality(c *ctx) Result {
	if len(c.spec.PCIDevices) == 0 {
		return skip("virtual devices only")
	}
	r := Result{}
	cpuNodes := map[int]cpuset.Set{}
	for _, cpu := range c.rx.List() {
		n, err := c.h.CPUNode(cpu)
		if err != nil {
			return skip(err.Error())
		}
		s := cpuNodes[n]
		s.Add(cpu)
		cpuNodes[n] = s
	}
	var obs, problems, unknown []string
	devNodes := map[int]bool{}
	for _, dev := range c.spec.PCIDevices {
		if canon, err := hostfs.CanonicalPCI(dev); err == nil {
			dev = canon
		}
		n, err := c.h.PCINode(dev)
		switch {
		case errors.Is(err, hostfs.ErrNoDevice):
			r.Status = StatusFail
			r.Reason = fmt.Sprintf("PCI device %s not found", dev)
			r.Remedy = "check the port's PCI address with lspci -D or dpdk-devbind.py --status"
			r.Observed = err.Error()
			return r
		case errors.Is(err, hostfs.ErrNoLocality):
			// Not node 0 by default: the node is unknown, so say so.
			unknown = append(unknown, err.Error())
			obs = append(obs, dev+" on an unknown node")
			continue
		case err != nil:
			return skip(err.Error())
		}
		devNodes[n] = true
		obs = append(obs, fmt.Sprintf("%s on node %d", dev, n))
		for cn, cpus := range cpuNodes {
			if cn != n {
				problems = append(problems, fmt.Sprintf("%s is on node %d but RX CPUs %s are on node %d", dev, n, cpus, cn))
			}
		}
		for _, need := range hugepages.MergeNeeds(c.spec.Huge) {
			if need.Node >= 0 && need.Node != n {
				problems = append(problems, fmt.Sprintf("%s is on node %d but %s hugepages are taken from node %d", dev, n, need.Size, need.Node))
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(cpuNodes)) {
		obs = append(obs, fmt.Sprintf("RX CPUs %s on node %d", cpuNodes[n], n))
	}
	r.Observed = strings.Join(obs, "; ")
	r.Expected = "every port, RX CPU and hugepage need on the same NUMA node"
	slices.Sort(problems)
	var hints []string
	for n := range devNodes {
		if cpus, err := c.h.NodeCPUs(n); err == nil {
			hints = append(hints, fmt.Sprintf("node %d: CPUs %s", n, cpus))
		}
	}
	slices.Sort(hints)
	t := tally{fails: problems, warns: unknown, observed: true}
	return t.verdict(r, verdicts{
		fail: outcome{"traffic would cross the inter-socket link",
			"pin the RX threads to CPUs of the port's node and take hugepages from that node (" + strings.Join(hints, "; ") + ")"},
		warn: outcome{"the firmware does not say which NUMA node a port is on: memory may land on the far node",
			"enable NUMA locality (ACPI SRAT/_PXM) in the firmware, or find the port's socket from its root port (lspci -tv) and keep RX CPUs and hugepages there"},
	})
}

// --- 10. page_movers

// pageMovers are the settings that move or merge pages under the loop.
var pageMovers = []knob{
	{rel: "sys/kernel/mm/transparent_hugepage/enabled", label: "THP", absent: "no THP", value: bracketed,
		bad:     map[string]finding{"always": {StatusWarn, "THP always: khugepaged collapses and migrates pages", "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (or boot with transparent_hugepage=madvise)"}},
		unknown: "transparent_hugepage/enabled: %q has no [selected] mode"},
	{rel: "proc/sys/kernel/numa_balancing", label: "numa_balancing", absent: "no numa_balancing", good: []string{"0"},
		bad: map[string]finding{
			"1": {StatusFail, numaBalancing, numaBalancingFix}, "2": {StatusFail, numaBalancing, numaBalancingFix}, "3": {StatusFail, numaBalancing, numaBalancingFix}},
		unknown: "kernel.numa_balancing: %q is not a number"},
	{rel: "sys/kernel/mm/ksm/run", label: "KSM run", absent: "no KSM", good: []string{"0", "2"},
		bad:     map[string]finding{"1": {StatusWarn, "KSM merges pages in the background", "echo 2 > /sys/kernel/mm/ksm/run"}},
		unknown: "ksm/run: %q is not 0, 1 or 2"},
}

const (
	numaBalancing    = "NUMA balancing unmaps pages of running tasks to sample them"
	numaBalancingFix = "sysctl -w kernel.numa_balancing=0 (persist in /etc/sysctl.d/)"
)

func checkPageMovers(c *ctx) Result {
	r := Result{Expected: "transparent_hugepage never or madvise, kernel.numa_balancing = 0, KSM off"}
	var t tally
	for _, k := range pageMovers {
		k.judge(c.h, &t)
	}
	return t.verdict(r, verdicts{
		fail:   outcome{reason: "pages are moved or unmapped under the poll loop, causing faults and TLB shootdowns"},
		warn:   outcome{reason: "background page movers cause TLB shootdown IPIs to RX CPUs"},
		unread: "some settings could not be read",
	})
}
