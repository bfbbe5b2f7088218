package isolation

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/stats/kernel"
)

// --- 4. irq_affinity

// managedIRQ matches interrupt names of drivers whose queue interrupts
// are kernel-managed (their affinity cannot be written).
var managedIRQ = regexp.MustCompile(`^(nvme\d+q[1-9]\d*|virtio\d+-(req|input|output|request)\.\d+|mlx5_comp\d+@.*)$`)

// unmovable reports whether an interrupt looks kernel-managed or per-CPU.
func unmovable(name, desc string) bool {
	d := strings.ToLower(desc)
	return managedIRQ.MatchString(name) || strings.Contains(d, "percpu") || strings.Contains(d, "per-cpu")
}

func checkIRQAffinity(c *ctx) Result {
	ents, err := os.ReadDir(c.h.Path("proc/irq"))
	if err != nil {
		return skip(fmt.Sprintf("cannot list /proc/irq: %v", err))
	}
	var irqNums []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			irqNums = append(irqNums, n)
		}
	}
	slices.Sort(irqNums)
	names, err := interruptNames(c.h)
	var t tally
	if err != nil {
		t.notes = append(t.notes, fmt.Sprintf("interrupt names unknown: %v", err))
	}

	r := Result{Expected: fmt.Sprintf("no IRQ affinity, default_smp_affinity or irqaffinity= includes RX CPUs %s", c.rx)}
	var movable []string
	total := 0
	for _, n := range irqNums {
		total++
		irq := strconv.Itoa(n)
		row := names[irq]
		label := "irq " + irq
		if row.Device != "" {
			label += " (" + row.Device + ")"
		}
		smp, err := c.irqSet(irq, "smp_affinity")
		if err != nil {
			t.unread = append(t.unread, label+": "+err.Error())
			continue
		}
		eff, err := c.irqSet(irq, "effective_affinity")
		hasEff := err == nil
		if err != nil && !hostfs.NotExist(err) {
			t.unread = append(t.unread, label+": "+err.Error())
			continue
		}
		onRX := smp.Intersect(c.rx)
		effRX := cpuset.Set{}
		if hasEff {
			effRX = eff.Intersect(c.rx)
		}
		if onRX.IsEmpty() && effRX.IsEmpty() {
			continue
		}
		line := fmt.Sprintf("%s: affinity %s, effective %s", label, orNone(smp), orNone(eff))
		switch {
		case onRX.IsEmpty() || unmovable(row.Device, row.Desc):
			// Only the effective target differs, or the kernel manages
			// it: writing smp_affinity will not help.
			t.warns = append(t.warns, line+" (managed or per-CPU: cannot be moved)")
		default:
			t.fails = append(t.fails, line)
			movable = append(movable, irq)
		}
	}
	if def, err := c.h.ReadCPUMask("proc/irq/default_smp_affinity"); err == nil {
		if x := def.Intersect(c.rx); !x.IsEmpty() {
			t.fails = append(t.fails, fmt.Sprintf("default_smp_affinity %s includes RX CPUs %s: new interrupts will land there", def.Mask(), x))
		}
	} else if !hostfs.NotExist(err) {
		t.unread = append(t.unread, "default_smp_affinity: "+err.Error())
	}
	irqaff := ""
	if c.cmdErr == nil {
		if v, ok := c.cmd.get("irqaffinity"); ok {
			irqaff = v
			if set, err := cpuset.Parse(v); err != nil {
				t.unread = append(t.unread, "irqaffinity="+v+": "+err.Error())
			} else if x := set.Intersect(c.rx); !x.IsEmpty() {
				t.fails = append(t.fails, fmt.Sprintf("irqaffinity=%s includes RX CPUs %s", v, x))
			}
		}
	}

	r.Observed = fmt.Sprintf("%d IRQs: %d on RX CPUs and movable, %d on RX CPUs and not movable, %d unreadable", total, len(movable), len(t.warns), len(t.unread))
	if irqaff != "" {
		r.Observed += "; irqaffinity=" + irqaff
	}
	var fix []string
	if len(movable) > 0 {
		fix = append(fix, fmt.Sprintf("for i in %s; do echo %s > /proc/irq/$i/smp_affinity_list; done", strings.Join(movable, " "), c.hkList()))
	}
	fix = append(fix, fmt.Sprintf("echo %s > /proc/irq/default_smp_affinity", c.hkMask()))
	fix = append(fix, fmt.Sprintf("and add irqaffinity=%s to the kernel command line%s", c.hkList(), grubHint))
	t.observed = true
	return t.verdict(r, verdicts{
		fail:       outcome{"interrupts can be delivered to RX CPUs", strings.Join(fix, "; ")},
		warn:       outcome{"kernel-managed or per-CPU interrupts target RX CPUs", "add managed_irq to isolcpus= (isolcpus=managed_irq,domain,…) and unbind or reduce the queues of the devices listed" + grubHint},
		unread:     "some interrupt affinities could not be read",
		maxDetails: 30,
	})
}

// interruptNames maps each row of ROOT/proc/interrupts by its ID ("24",
// "LOC") for the device names and descriptions.
func interruptNames(h hostfs.FS) (map[string]kernel.InterruptRow, error) {
	b, err := h.ReadFile("proc/interrupts", hostfs.MaxTable)
	if err != nil {
		return nil, err
	}
	ints, err := kernel.ParseInterruptsAll(b)
	if err != nil {
		return nil, err
	}
	out := make(map[string]kernel.InterruptRow, len(ints.Rows))
	for _, row := range ints.Rows {
		out[row.ID] = row
	}
	return out, nil
}

// irqSet reads /proc/irq/N/<base>_list, or the hex mask <base> when the
// list file is absent.
func (c *ctx) irqSet(irq, base string) (cpuset.Set, error) {
	s, err := c.h.ReadCPUList("proc/irq/" + irq + "/" + base + "_list")
	if err == nil || !hostfs.NotExist(err) {
		return s, err
	}
	return c.h.ReadCPUMask("proc/irq/" + irq + "/" + base)
}

// --- 5. irqbalance

// findProcess returns the PIDs whose comm is name.
func findProcess(h hostfs.FS, name string) ([]int, error) {
	ents, err := os.ReadDir(h.Path("proc"))
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := h.ReadString("proc/" + e.Name() + "/comm")
		if err == nil && comm == name {
			out = append(out, pid)
		}
	}
	return out, nil
}

func checkIrqbalance(c *ctx) Result {
	pids, err := findProcess(c.h, "irqbalance")
	if err != nil {
		return skip(fmt.Sprintf("cannot list processes: %v", err))
	}
	r := Result{Expected: fmt.Sprintf("irqbalance not running, or its banned CPUs cover RX CPUs %s", c.rx)}
	if len(pids) == 0 {
		r.Status = StatusPass
		r.Observed = "irqbalance not running"
		return r
	}
	r.Observed = fmt.Sprintf("irqbalance running (pid %d)", pids[0])
	var banned cpuset.Set
	var found []string
	for _, file := range []string{"etc/default/irqbalance", "etc/sysconfig/irqbalance"} {
		b, err := c.h.ReadFile(file, hostfs.MaxSmall)
		if err != nil {
			if !hostfs.NotExist(err) {
				r.Details = append(r.Details, err.Error())
			}
			continue
		}
		vars := parseShellVars(b)
		for _, key := range []struct {
			name  string
			parse func(string) (cpuset.Set, error)
		}{{"IRQBALANCE_BANNED_CPULIST", cpuset.Parse}, {"IRQBALANCE_BANNED_CPUS", cpuset.ParseMask}} {
			v, ok := vars[key.name]
			if !ok {
				continue
			}
			set, err := key.parse(v)
			if err != nil {
				r.Status = StatusFail
				r.Reason = fmt.Sprintf("/%s: %s: %v", file, key.name, err)
				r.Remedy = fmt.Sprintf("set IRQBALANCE_BANNED_CPULIST=%s in /%s and run systemctl restart irqbalance", c.rx, file)
				return r
			}
			banned = banned.Union(set)
			found = append(found, fmt.Sprintf("/%s %s=%s", file, key.name, v))
		}
	}
	if len(found) == 0 {
		r.Observed += "; no banned CPUs configured"
	} else {
		r.Observed += "; " + strings.Join(found, ", ")
	}
	missing := c.rx.Difference(banned)
	remedy := fmt.Sprintf("set IRQBALANCE_BANNED_CPULIST=%s in /etc/default/irqbalance and run systemctl restart irqbalance (or systemctl disable --now irqbalance)", banned.Union(c.rx))
	switch {
	case missing.IsEmpty():
		r.Status = StatusPass
	case missing.Difference(c.isolated).Difference(c.nohz).IsEmpty():
		r.Status = StatusWarn
		r.Reason = fmt.Sprintf("RX CPUs %s are not banned; only irqbalance 1.8 or later skips isolated and nohz_full CPUs by itself", missing)
		r.Remedy = remedy
	default:
		r.Status = StatusFail
		r.Reason = fmt.Sprintf("irqbalance may move interrupts onto RX CPUs %s", missing)
		r.Remedy = remedy
	}
	return r
}
