package isolation

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// --- 1. isolcpus

func checkIsolcpus(c *ctx) Result {
	if c.isolatedErr != nil {
		return skip(c.isolatedErr.Error())
	}
	r := Result{Expected: fmt.Sprintf("RX CPUs %s in isolcpus", c.rx)}
	obs := []string{"isolated " + orNone(c.isolated)}
	if c.cmdErr == nil {
		if v, ok := c.cmd.get("isolcpus"); ok {
			obs = append(obs, "isolcpus="+v)
			flags, _, err := parseIsolcpus(v)
			switch {
			case err != nil:
				r.Details = append(r.Details, err.Error())
			case len(flags) == 0:
				r.Details = append(r.Details, "no flags: domain isolation only (the default)")
			default:
				r.Details = append(r.Details, "flags: "+strings.Join(flags, ","))
			}
			if err == nil && !slices.Contains(flags, "managed_irq") {
				r.Details = append(r.Details, "managed_irq not set: managed interrupts (NVMe queues, …) may still be placed on isolated CPUs")
			}
		}
	} else {
		r.Details = append(r.Details, c.cmdErr.Error())
	}
	r.Observed = strings.Join(obs, "; ")
	return c.requireRX(r, c.isolated, "RX CPUs %s are not isolated: the scheduler may run other tasks there", "isolcpus=managed_irq,domain,")
}

// requireRX passes r when every RX CPU is in have, and otherwise fails it
// with reason (formatted with the missing CPUs) and the kernel parameter
// param (followed by the CPU list it needs) as the remedy.
func (c *ctx) requireRX(r Result, have cpuset.Set, reason, param string) Result {
	missing := c.rx.Difference(have)
	if missing.IsEmpty() {
		r.Status = StatusPass
		return r
	}
	r.Status = StatusFail
	r.Reason = fmt.Sprintf(reason, missing)
	r.Remedy = fmt.Sprintf("add %s%s to the kernel command line%s", param, have.Union(c.rx), grubHint)
	return r
}

// --- 2. nohz_full

func checkNohzFull(c *ctx) Result {
	if c.nohzErr != nil {
		return skip(c.nohzErr.Error())
	}
	r := Result{
		Observed: "nohz_full " + orNone(c.nohz),
		Expected: fmt.Sprintf("RX CPUs %s in nohz_full", c.rx),
	}
	if c.cmdErr == nil {
		if v, ok := c.cmd.get("isolcpus"); ok {
			if flags, _, err := parseIsolcpus(v); err == nil && slices.Contains(flags, "nohz") {
				r.Details = append(r.Details, "isolcpus has the nohz flag")
			}
		}
	}
	return c.requireRX(r, c.nohz, "the scheduler tick still interrupts RX CPUs %s", "nohz_full=")
}

// --- 3. rcu_nocbs

func checkRCUNocbs(c *ctx) Result {
	if c.cmdErr != nil {
		return skip(c.cmdErr.Error())
	}
	r := Result{Expected: fmt.Sprintf("RX CPUs %s in rcu_nocbs (nohz_full implies it); no rcu_nocb_poll", c.rx)}
	var nocbs cpuset.Set
	obs := []string{}
	if v, ok := c.cmd.get("rcu_nocbs"); ok {
		set, err := cpuset.Parse(v)
		if err != nil {
			return skip("rcu_nocbs=" + v + ": " + err.Error())
		}
		nocbs = set
		obs = append(obs, "rcu_nocbs="+v)
		if v == "" {
			r.Details = append(r.Details, "rcu_nocbs without a list offloads no CPU at boot")
		}
	} else {
		obs = append(obs, "no rcu_nocbs")
	}
	if c.nohzErr == nil && !c.nohz.IsEmpty() {
		obs = append(obs, "nohz_full "+c.nohz.String())
		nocbs = nocbs.Union(c.nohz)
	}
	_, poll := c.cmd.get("rcu_nocb_poll")
	if poll {
		obs = append(obs, "rcu_nocb_poll")
	}
	r.Observed = strings.Join(obs, "; ")
	switch {
	case !c.rx.Difference(nocbs).IsEmpty():
		return c.requireRX(r, nocbs, "RCU callbacks still run on RX CPUs %s", "rcu_nocbs=")
	case poll:
		r.Status = StatusWarn
		r.Reason = "rcu_nocb_poll makes the RCU offload threads wake up every jiffy to poll"
		r.Remedy = "remove rcu_nocb_poll from the kernel command line" + grubHint
	default:
		r.Status = StatusPass
	}
	return r
}

// --- 8. smt_siblings

func checkSMTSiblings(c *ctx) Result {
	online, _ := c.h.OnlineCPUs()
	r := Result{Expected: "SMT siblings of RX CPUs are offline, or isolated and not used for housekeeping"}
	var t tally
	var obs []string
	for _, cpu := range c.rx.List() {
		sib, err := c.h.ReadCPUList(fmt.Sprintf("%s/cpu%d/topology/thread_siblings_list", hostfs.CPUDir, cpu))
		if err != nil {
			return skip(fmt.Sprintf("CPU %d topology: %v", cpu, err))
		}
		sib.Remove(cpu)
		if sib.IsEmpty() {
			obs = append(obs, fmt.Sprintf("%d: no sibling", cpu))
			continue
		}
		obs = append(obs, fmt.Sprintf("%d: sibling %s", cpu, sib))
		for _, s := range sib.List() {
			switch {
			case !online.IsEmpty() && !online.Has(s):
				// Offline sibling: the core is all ours.
			case c.spec.Housekeeping.Has(s):
				t.fails = append(t.fails, fmt.Sprintf("CPU %d (sibling of RX CPU %d) is a housekeeping CPU", s, cpu))
			case c.rx.Has(s):
				t.warns = append(t.warns, fmt.Sprintf("RX CPUs %d and %d share a core", cpu, s))
			case !c.isolated.Has(s):
				t.warns = append(t.warns, fmt.Sprintf("CPU %d (sibling of RX CPU %d) is not isolated: other tasks may run there", s, cpu))
			}
		}
	}
	r.Observed = strings.Join(obs, "; ")
	t.observed = true
	return t.verdict(r, verdicts{
		fail:       outcome{"a busy hyperthread sibling steals execution units from the poll loop", "remove the siblings from the housekeeping CPUs, or take them offline: echo 0 > /sys/devices/system/cpu/cpuN/online (or boot with nosmt)"},
		warn:       outcome{"RX CPUs share cores with CPUs that may be busy", "isolate the siblings too and leave them idle, or take them offline: echo 0 > /sys/devices/system/cpu/cpuN/online"},
		maxDetails: 30,
	})
}
