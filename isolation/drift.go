package isolation

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// State is what the drift check compares over time: the host settings that
// can change under a running probe and move work onto its RX CPUs.
type State struct {
	// IRQs maps an IRQ number to where it may and does fire, for IRQs
	// whose affinity or effective affinity includes an RX CPU.
	IRQs map[string]IRQState
	// Pinned are tasks allowed on an RX CPU but not on every housekeeping
	// CPU: someone pinned them toward the RX CPUs (taskset, cgroups). On a
	// host that is not isolated every task is allowed everywhere; those are
	// not listed, or every short-lived command would be news.
	Pinned map[int]TaskState
	// IRQBalance is the pid of a running irqbalance (0: none) and its
	// banned CPUs.
	IRQBalance       int
	IRQBalanceBanned string
	// PageMovers are THP, numa_balancing and KSM settings.
	THP, NUMABalancing, KSM string
}

// IRQState is one IRQ's affinity.
type IRQState struct {
	Name      string
	Affinity  cpuset.Set
	Effective cpuset.Set
}

// TaskState is one pinned task.
type TaskState struct {
	PID     int
	Comm    string
	Allowed cpuset.Set
}

// TakeState reads the drift-relevant state of the host for RX CPUs rx and
// housekeeping CPUs hk. excludePID leaves one process (rxprobe itself) out.
// It allocates freely: rxprobe runs it in the watcher process, never in
// the RX process.
func TakeState(h hostfs.FS, rx, hk cpuset.Set, excludePID int) (State, error) {
	st := State{IRQs: map[string]IRQState{}, Pinned: map[int]TaskState{}}
	names, _ := interruptNames(h) // names are a courtesy: absent, the IRQ numbers remain
	ents, err := os.ReadDir(h.Path("proc/irq"))
	if err != nil {
		return st, fmt.Errorf("isolation: drift: %w", err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		aff, err1 := h.ReadCPUList("proc/irq/" + e.Name() + "/smp_affinity_list")
		eff, err2 := h.ReadCPUList("proc/irq/" + e.Name() + "/effective_affinity_list")
		if err1 != nil {
			continue
		}
		if err2 != nil {
			eff = aff
		}
		if !aff.Intersect(rx).IsEmpty() || !eff.Intersect(rx).IsEmpty() {
			st.IRQs[e.Name()] = IRQState{Name: names[e.Name()].Device, Affinity: aff, Effective: eff}
		}
	}
	procs, _ := os.ReadDir(h.Path("proc"))
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == excludePID {
			continue
		}
		tasks, _ := os.ReadDir(h.Path("proc", p.Name(), "task"))
		for _, t := range tasks {
			b, err := h.ReadFile("proc/"+p.Name()+"/task/"+t.Name()+"/status", hostfs.MaxSmall)
			if err != nil {
				continue
			}
			ts, err := parseStatus(b)
			if err != nil || ts.Kthread {
				continue
			}
			if !ts.Allowed.Intersect(rx).IsEmpty() && !hk.Difference(ts.Allowed).IsEmpty() {
				st.Pinned[ts.TID] = TaskState{PID: pid, Comm: ts.Name, Allowed: ts.Allowed}
			}
		}
	}
	if pids, err := findProcess(h, "irqbalance"); err == nil && len(pids) > 0 {
		st.IRQBalance = pids[0]
		for _, f := range []string{"etc/default/irqbalance", "etc/sysconfig/irqbalance"} {
			if b, err := h.ReadFile(f, hostfs.MaxSmall); err == nil {
				vars := parseShellVars(b)
				st.IRQBalanceBanned = strings.TrimSpace(vars["IRQBALANCE_BANNED_CPULIST"] + " " + vars["IRQBALANCE_BANNED_CPUS"])
			}
		}
	}
	st.THP, _ = h.ReadString("sys/kernel/mm/transparent_hugepage/enabled")
	st.NUMABalancing, _ = h.ReadString("proc/sys/kernel/numa_balancing")
	st.KSM, _ = h.ReadString("sys/kernel/mm/ksm/run")
	return st, nil
}

// Drift lists, one sentence each, what changed from old to cur that
// matters to RX CPUs rx.
func Drift(old, cur State, rx cpuset.Set) []string {
	var out []string
	var irqs []string
	for n := range cur.IRQs {
		irqs = append(irqs, n)
	}
	sort.Slice(irqs, func(i, j int) bool { return numLess(irqs[i], irqs[j]) })
	for _, n := range irqs {
		c := cur.IRQs[n]
		o, had := old.IRQs[n]
		if !had || !o.Affinity.Equal(c.Affinity) || !o.Effective.Equal(c.Effective) {
			was := "did not target RX CPUs"
			if had {
				was = "was " + o.Affinity.String()
			}
			out = append(out, fmt.Sprintf("irq %s (%s) now may fire on RX CPU %s: smp_affinity_list %s, effective %s (%s)",
				n, c.Name, c.Affinity.Union(c.Effective).Intersect(rx), c.Affinity, c.Effective, was))
		}
	}
	var tids []int
	for tid := range cur.Pinned {
		tids = append(tids, tid)
	}
	sort.Ints(tids)
	for _, tid := range tids {
		c := cur.Pinned[tid]
		if o, had := old.Pinned[tid]; !had || !o.Allowed.Equal(c.Allowed) {
			who := fmt.Sprintf("pid %d (%s)", c.PID, c.Comm)
			if tid != c.PID {
				who = fmt.Sprintf("tid %d of pid %d (%s)", tid, c.PID, c.Comm)
			}
			out = append(out, fmt.Sprintf("%s is now pinned toward RX CPU %s (Cpus_allowed_list %s)", who, c.Allowed.Intersect(rx), c.Allowed))
		}
	}
	switch {
	case old.IRQBalance == 0 && cur.IRQBalance != 0:
		out = append(out, fmt.Sprintf("irqbalance started (pid %d, banned %q): it may move IRQs onto RX CPUs", cur.IRQBalance, cur.IRQBalanceBanned))
	case cur.IRQBalance != 0 && old.IRQBalanceBanned != cur.IRQBalanceBanned:
		out = append(out, fmt.Sprintf("irqbalance banned CPUs changed from %q to %q", old.IRQBalanceBanned, cur.IRQBalanceBanned))
	}
	for _, s := range []struct{ name, o, c string }{
		{"transparent_hugepage", old.THP, cur.THP},
		{"kernel.numa_balancing", old.NUMABalancing, cur.NUMABalancing},
		{"KSM (ksm/run)", old.KSM, cur.KSM},
	} {
		if s.o != s.c {
			out = append(out, fmt.Sprintf("%s changed from %q to %q: page moves cause TLB shootdowns", s.name, s.o, s.c))
		}
	}
	return out
}

func numLess(a, b string) bool {
	x, e1 := strconv.Atoi(a)
	y, e2 := strconv.Atoi(b)
	if e1 == nil && e2 == nil {
		return x < y
	}
	return a < b
}
