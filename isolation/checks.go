package isolation

import (
	"fmt"
	"runtime/debug"

	"github.com/rxprobe/rxprobe/hugepages"
	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// Spec is what the preflight checks are measured against: the CPUs that
// will poll, the CPUs left for everything else, the PCI devices of the
// ports and the hugepage memory the configuration needs.
type Spec struct {
	// RXCPUs are the CPUs the RX poll threads are pinned to.
	RXCPUs cpuset.Set `json:"rx_cpus"`
	// Housekeeping are the CPUs for rxprobe's other threads and the rest
	// of the system. When empty, the online CPUs minus RXCPUs are used in
	// remedies.
	Housekeeping cpuset.Set `json:"housekeeping"`
	// PCIDevices are the PCI addresses of the ports, in any form
	// hostfs.ParsePCIAddr accepts ("0000:3b:00.0" or "3b:00.0"); virtual
	// devices have none.
	PCIDevices []string `json:"pci_devices"`
	// Huge is the hugepage memory needed per node; empty when the
	// configuration runs without hugepages (no_huge).
	Huge []hugepages.Need `json:"huge"`
	// ExcludePID, when non-zero, is a process (all its threads) left out
	// of the foreign_tasks check: rxprobe run passes its own PID because
	// it calls Run before pinning itself.
	ExcludePID int `json:"exclude_pid,omitempty"`
}

// check is one preflight check.
type check struct {
	id, title string
	run       func(c *ctx) Result
}

// checks lists every check in report order.
var checks = []check{
	{"isolcpus", "RX CPUs isolated from the scheduler (isolcpus)", checkIsolcpus},
	{"nohz_full", "Scheduler tick stopped on RX CPUs (nohz_full)", checkNohzFull},
	{"rcu_nocbs", "RCU callbacks offloaded from RX CPUs (rcu_nocbs)", checkRCUNocbs},
	{"irq_affinity", "No interrupt targets an RX CPU", checkIRQAffinity},
	{"irqbalance", "irqbalance leaves RX CPUs alone", checkIrqbalance},
	{"hugepages", "Hugepages reserved and mounted", checkHugepages},
	{"numa_locality", "Ports, RX CPUs and hugepages on one NUMA node", checkNUMALocality},
	{"smt_siblings", "SMT siblings of RX CPUs are idle", checkSMTSiblings},
	{"cpu_power", "RX CPUs at full speed, deep C-states off", checkCPUPower},
	{"page_movers", "No THP, NUMA balancing or KSM moving pages", checkPageMovers},
	{"housekeeping_work", "Kernel housekeeping work kept off RX CPUs", checkHousekeepingWork},
	{"foreign_tasks", "No other task may run on RX CPUs", checkForeignTasks},
}

// CheckIDs returns the IDs of every check in report order.
func CheckIDs() []string {
	out := make([]string, len(checks))
	for i, c := range checks {
		out[i] = c.id
	}
	return out
}

// Run performs every check against h and returns one Result per check, in
// a fixed order. It reads only; it never panics on bad host files.
func Run(h hostfs.FS, spec Spec) Report {
	c := newCtx(h, spec)
	rep := Report{Host: h.Hostname()}
	for _, ch := range checks {
		rep.Results = append(rep.Results, runOne(c, ch))
	}
	return rep
}

// runOne runs a check and turns a panic into a failed result, so one bad
// check cannot take the others down.
func runOne(c *ctx, ch check) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = Result{Status: StatusFail, Reason: fmt.Sprintf("internal error: %v", p),
				Details: []string{string(debug.Stack())}}
		}
		res.ID, res.Title = ch.id, ch.title
	}()
	if c.spec.RXCPUs.IsEmpty() && ch.id != "hugepages" && ch.id != "page_movers" {
		return Result{Status: StatusSkip, Reason: "no RX CPUs given"}
	}
	return ch.run(c)
}
