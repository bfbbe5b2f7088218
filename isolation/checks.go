package isolation

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rxprobe/rxprobe/hugepages"
	"github.com/rxprobe/rxprobe/internal/cpuset"
)

// ctx holds what several checks share, read once.
type ctx struct {
	h    Host
	spec Spec
	rx   cpuset.Set
	hk   cpuset.Set // housekeeping CPUs used in remedies

	cmd    cmdline
	cmdErr error

	isolated    cpuset.Set // from sysfs, else isolcpus=
	isolatedErr error
	nohz        cpuset.Set // from sysfs, else nohz_full=
	nohzErr     error
}

const grubHint = " (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub and reboot)"

func newCtx(h Host, spec Spec) *ctx {
	c := &ctx{h: h, spec: spec, rx: spec.RXCPUs, hk: spec.Housekeeping}
	if b, err := h.readFile("proc/cmdline", maxSmall); err != nil {
		c.cmdErr = fmt.Errorf("cannot read /proc/cmdline: %w", err)
	} else if c.cmd, err = parseCmdline(b); err != nil {
		c.cmdErr = fmt.Errorf("/proc/cmdline: %w", err)
	}
	if c.hk.IsEmpty() {
		if online, err := h.OnlineCPUs(); err == nil {
			c.hk = online.Difference(c.rx)
		}
	}
	c.isolated, c.isolatedErr = c.kernelSet(cpuDir+"/isolated", "isolcpus")
	c.nohz, c.nohzErr = c.kernelSet(cpuDir+"/nohz_full", "nohz_full")
	return c
}

// kernelSet reads a CPU set the kernel exposes in sysfs (file), falling
// back to the boot parameter when the file is absent.
func (c *ctx) kernelSet(file, param string) (cpuset.Set, error) {
	s, err := c.h.readString(file)
	if err == nil {
		if s == "(null)" { // nohz_full on kernels without it configured
			s = ""
		}
		set, perr := cpuset.Parse(s)
		if perr != nil {
			return cpuset.Set{}, fmt.Errorf("/%s: %w", file, perr)
		}
		return set, nil
	}
	if !notExist(err) {
		return cpuset.Set{}, fmt.Errorf("cannot read /%s: %w", file, err)
	}
	if c.cmdErr != nil {
		return cpuset.Set{}, c.cmdErr
	}
	v, ok := c.cmd.get(param)
	if !ok {
		return cpuset.Set{}, nil
	}
	if param == "isolcpus" {
		_, set, err := parseIsolcpus(v)
		return set, err
	}
	return cpuset.Parse(v)
}

// hkList is the housekeeping list for remedies ("0-1"), or a placeholder.
func (c *ctx) hkList() string {
	if c.hk.IsEmpty() {
		return "<housekeeping CPUs>"
	}
	return c.hk.String()
}

// hkMask is the housekeeping hex mask for remedies, or a placeholder.
func (c *ctx) hkMask() string {
	if c.hk.IsEmpty() {
		return "<housekeeping mask>"
	}
	return c.hk.Mask()
}

func skip(reason string) Result { return Result{Status: StatusSkip, Reason: reason} }

// orNone prints an empty set as "none".
func orNone(s cpuset.Set) string {
	if s.IsEmpty() {
		return "none"
	}
	return s.String()
}

// capDetails keeps at most max lines, with a closing count of the rest.
func capDetails(d []string, max int) []string {
	if len(d) <= max {
		return d
	}
	out := slices.Clone(d[:max])
	return append(out, fmt.Sprintf("… and %d more", len(d)-max))
}

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
	ents, err := os.ReadDir(c.h.path("proc/irq"))
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
	names := map[string]irqRow{}
	var detail []string
	if b, err := c.h.readFile("proc/interrupts", maxTable); err != nil {
		detail = append(detail, fmt.Sprintf("interrupt names unknown: %v", err))
	} else if ints, err := parseInterrupts(bytes.NewReader(b)); err != nil {
		detail = append(detail, fmt.Sprintf("interrupt names unknown: %v", err))
	} else {
		for _, row := range ints.Rows {
			names[row.IRQ] = row
		}
	}

	r := Result{Expected: fmt.Sprintf("no IRQ affinity, default_smp_affinity or irqaffinity= includes RX CPUs %s", c.rx)}
	var fails, warns, unreadable []string
	var movable []string
	total := 0
	for _, n := range irqNums {
		total++
		irq := strconv.Itoa(n)
		row := names[irq]
		label := "irq " + irq
		if row.Name != "" {
			label += " (" + row.Name + ")"
		}
		smp, err := c.irqSet(irq, "smp_affinity")
		if err != nil {
			unreadable = append(unreadable, label+": "+err.Error())
			continue
		}
		eff, err := c.irqSet(irq, "effective_affinity")
		hasEff := err == nil
		if err != nil && !notExist(err) {
			unreadable = append(unreadable, label+": "+err.Error())
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
		case onRX.IsEmpty() || unmovable(row.Name, row.Desc):
			// Only the effective target differs, or the kernel manages
			// it: writing smp_affinity will not help.
			warns = append(warns, line+" (managed or per-CPU: cannot be moved)")
		default:
			fails = append(fails, line)
			movable = append(movable, irq)
		}
	}
	if def, err := c.h.readMask("proc/irq/default_smp_affinity"); err == nil {
		if x := def.Intersect(c.rx); !x.IsEmpty() {
			fails = append(fails, fmt.Sprintf("default_smp_affinity %s includes RX CPUs %s: new interrupts will land there", def.Mask(), x))
		}
	} else if !notExist(err) {
		unreadable = append(unreadable, "default_smp_affinity: "+err.Error())
	}
	irqaff := ""
	if c.cmdErr == nil {
		if v, ok := c.cmd.get("irqaffinity"); ok {
			irqaff = v
			if set, err := cpuset.Parse(v); err != nil {
				unreadable = append(unreadable, "irqaffinity="+v+": "+err.Error())
			} else if x := set.Intersect(c.rx); !x.IsEmpty() {
				fails = append(fails, fmt.Sprintf("irqaffinity=%s includes RX CPUs %s", v, x))
			}
		}
	}

	r.Observed = fmt.Sprintf("%d IRQs: %d on RX CPUs and movable, %d on RX CPUs and not movable, %d unreadable", total, len(movable), len(warns), len(unreadable))
	if irqaff != "" {
		r.Observed += "; irqaffinity=" + irqaff
	}
	r.Details = capDetails(slices.Concat(fails, warns, unreadable, detail), 30)
	switch {
	case len(fails) > 0:
		r.Status = StatusFail
		r.Reason = "interrupts can be delivered to RX CPUs"
		var fix []string
		if len(movable) > 0 {
			fix = append(fix, fmt.Sprintf("for i in %s; do echo %s > /proc/irq/$i/smp_affinity_list; done", strings.Join(movable, " "), c.hkList()))
		}
		fix = append(fix, fmt.Sprintf("echo %s > /proc/irq/default_smp_affinity", c.hkMask()))
		fix = append(fix, fmt.Sprintf("and add irqaffinity=%s to the kernel command line%s", c.hkList(), grubHint))
		r.Remedy = strings.Join(fix, "; ")
	case len(warns) > 0:
		r.Status = StatusWarn
		r.Reason = "kernel-managed or per-CPU interrupts target RX CPUs"
		r.Remedy = "add managed_irq to isolcpus= (isolcpus=managed_irq,domain,…) and unbind or reduce the queues of the devices listed" + grubHint
	case len(unreadable) > 0:
		r.Status = StatusWarn
		r.Reason = "some interrupt affinities could not be read"
	default:
		r.Status = StatusPass
	}
	return r
}

// irqSet reads /proc/irq/N/<base>_list, or the hex mask <base> when the
// list file is absent.
func (c *ctx) irqSet(irq, base string) (cpuset.Set, error) {
	s, err := c.h.readList("proc/irq/" + irq + "/" + base + "_list")
	if err == nil || !notExist(err) {
		return s, err
	}
	return c.h.readMask("proc/irq/" + irq + "/" + base)
}

// --- 5. irqbalance

// findProcess returns the PIDs whose comm is name.
func (h Host) findProcess(name string) ([]int, error) {
	ents, err := os.ReadDir(h.path("proc"))
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := h.readString("proc/" + e.Name() + "/comm")
		if err == nil && comm == name {
			out = append(out, pid)
		}
	}
	return out, nil
}

func checkIrqbalance(c *ctx) Result {
	pids, err := c.h.findProcess("irqbalance")
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
		b, err := c.h.readFile(file, maxSmall)
		if err != nil {
			if !notExist(err) {
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

// --- 6. hugepages

func checkHugepages(c *ctx) Result {
	needs := hugepages.MergeNeeds(c.spec.Huge)
	if len(needs) == 0 {
		return skip("config runs with no_huge")
	}
	fs := hugepages.New(c.h.Root)
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
	var obs, problems []string
	devNodes := map[int]bool{}
	for _, dev := range c.spec.PCIDevices {
		raw, err := c.h.pciNodeRaw(dev)
		if err != nil {
			if notExist(err) {
				r.Status = StatusFail
				r.Reason = fmt.Sprintf("PCI device %s not found", dev)
				r.Remedy = "check the port's PCI address with lspci -D or dpdk-devbind.py --status"
				r.Observed = err.Error()
				return r
			}
			return skip(err.Error())
		}
		n := max(raw, 0)
		if raw < 0 {
			r.Details = append(r.Details, fmt.Sprintf("%s reports numa_node -1 (no locality from firmware): treated as node 0", dev))
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
	for _, n := range slices.Sorted(mapsKeys(cpuNodes)) {
		obs = append(obs, fmt.Sprintf("RX CPUs %s on node %d", cpuNodes[n], n))
	}
	r.Observed = strings.Join(obs, "; ")
	r.Expected = "every port, RX CPU and hugepage need on the same NUMA node"
	slices.Sort(problems)
	r.Details = append(r.Details, problems...)
	if len(problems) == 0 {
		r.Status = StatusPass
		return r
	}
	r.Status = StatusFail
	r.Reason = "traffic would cross the inter-socket link"
	var hints []string
	for n := range devNodes {
		if cpus, err := c.h.NodeCPUs(n); err == nil {
			hints = append(hints, fmt.Sprintf("node %d: CPUs %s", n, cpus))
		}
	}
	slices.Sort(hints)
	r.Remedy = "pin the RX threads to CPUs of the port's node and take hugepages from that node (" + strings.Join(hints, "; ") + ")"
	return r
}

func mapsKeys[V any](m map[int]V) func(func(int) bool) {
	return func(yield func(int) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// --- 8. smt_siblings

func checkSMTSiblings(c *ctx) Result {
	online, _ := c.h.OnlineCPUs()
	r := Result{Expected: "SMT siblings of RX CPUs are offline, or isolated and not used for housekeeping"}
	var fails, warns, obs []string
	for _, cpu := range c.rx.List() {
		sib, err := c.h.readList(fmt.Sprintf("%s/cpu%d/topology/thread_siblings_list", cpuDir, cpu))
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
				fails = append(fails, fmt.Sprintf("CPU %d (sibling of RX CPU %d) is a housekeeping CPU", s, cpu))
			case c.rx.Has(s):
				warns = append(warns, fmt.Sprintf("RX CPUs %d and %d share a core", cpu, s))
			case !c.isolated.Has(s):
				warns = append(warns, fmt.Sprintf("CPU %d (sibling of RX CPU %d) is not isolated: other tasks may run there", s, cpu))
			}
		}
	}
	r.Observed = strings.Join(obs, "; ")
	r.Details = capDetails(slices.Concat(fails, warns), 30)
	switch {
	case len(fails) > 0:
		r.Status = StatusFail
		r.Reason = "a busy hyperthread sibling steals execution units from the poll loop"
		r.Remedy = "remove the siblings from the housekeeping CPUs, or take them offline: echo 0 > /sys/devices/system/cpu/cpuN/online (or boot with nosmt)"
	case len(warns) > 0:
		r.Status = StatusWarn
		r.Reason = "RX CPUs share cores with CPUs that may be busy"
		r.Remedy = "isolate the siblings too and leave them idle, or take them offline: echo 0 > /sys/devices/system/cpu/cpuN/online"
	default:
		r.Status = StatusPass
	}
	return r
}

// --- 9. cpu_power

func checkCPUPower(c *ctx) Result {
	r := Result{Expected: "governor performance on RX CPUs; deep C-states off (idle=poll, intel_idle.max_cstate=0 or processor.max_cstate=1)"}
	var obs, warns []string
	govs := map[string][]int{}
	noFreq := 0
	for _, cpu := range c.rx.List() {
		g, err := c.h.readString(fmt.Sprintf("%s/cpu%d/cpufreq/scaling_governor", cpuDir, cpu))
		if notExist(err) {
			noFreq++
			continue
		}
		if err != nil {
			warns = append(warns, fmt.Sprintf("CPU %d: governor unreadable: %v", cpu, err))
			continue
		}
		if g == "" || len(g) > 32 || strings.ContainsAny(g, " \t\n") {
			warns = append(warns, fmt.Sprintf("CPU %d: governor unreadable: %q is not a governor name", cpu, g))
			continue
		}
		govs[g] = append(govs[g], cpu)
	}
	if noFreq == c.rx.Len() {
		obs = append(obs, "no cpufreq (governor check skipped)")
	}
	for _, g := range slices.Sorted(func(yield func(string) bool) {
		for k := range govs {
			if !yield(k) {
				return
			}
		}
	}) {
		obs = append(obs, fmt.Sprintf("governor %s on %s", g, cpuset.Of(govs[g]...)))
		if g != "performance" {
			warns = append(warns, fmt.Sprintf("CPUs %s use governor %s", cpuset.Of(govs[g]...), g))
		}
	}
	limited := false
	if c.cmdErr != nil {
		obs = append(obs, "C-states unknown: "+c.cmdErr.Error())
	} else {
		var cs []string
		if v, ok := c.cmd.get("idle"); ok {
			cs = append(cs, "idle="+v)
			limited = limited || v == "poll"
		}
		if v, ok := c.cmd.get("intel_idle.max_cstate"); ok {
			cs = append(cs, "intel_idle.max_cstate="+v)
			limited = limited || v == "0"
		}
		if v, ok := c.cmd.get("processor.max_cstate"); ok {
			cs = append(cs, "processor.max_cstate="+v)
			n, err := strconv.Atoi(v)
			limited = limited || (err == nil && n <= 1)
		}
		if len(cs) == 0 {
			obs = append(obs, "no C-state limit on the command line")
		} else {
			obs = append(obs, strings.Join(cs, " "))
		}
		if !limited {
			warns = append(warns, "deep C-states allowed: waking from them adds latency")
		}
	}
	r.Observed = strings.Join(obs, "; ")
	r.Details = warns
	if len(warns) == 0 {
		r.Status = StatusPass
		return r
	}
	r.Status = StatusWarn
	r.Reason = "RX CPUs may run slower or sleep deeply between bursts"
	var fix []string
	if len(govs) > 0 {
		fix = append(fix, fmt.Sprintf("for c in %s; do echo performance > /sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor; done", listWords(c.rx)))
	}
	if !limited {
		fix = append(fix, "add intel_idle.max_cstate=0 processor.max_cstate=1 to the kernel command line"+grubHint)
	}
	r.Remedy = strings.Join(fix, "; ")
	return r
}

// listWords prints a set as space-separated numbers for a shell loop.
func listWords(s cpuset.Set) string {
	var sb strings.Builder
	for i, c := range s.List() {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(strconv.Itoa(c))
	}
	return sb.String()
}

// --- 10. page_movers

func checkPageMovers(c *ctx) Result {
	r := Result{Expected: "transparent_hugepage never or madvise, kernel.numa_balancing = 0, KSM off"}
	var obs, fails, warns, fix, unread []string
	if s, err := c.h.readString("sys/kernel/mm/transparent_hugepage/enabled"); err == nil {
		mode, ok := bracketed(s)
		switch {
		case !ok:
			unread = append(unread, fmt.Sprintf("transparent_hugepage/enabled: %q has no [selected] mode", s))
		case mode == "always":
			obs = append(obs, "THP always")
			warns = append(warns, "THP always: khugepaged collapses and migrates pages")
			fix = append(fix, "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (or boot with transparent_hugepage=madvise)")
		default:
			obs = append(obs, "THP "+mode)
		}
	} else if !notExist(err) {
		unread = append(unread, err.Error())
	} else {
		obs = append(obs, "no THP")
	}
	if s, err := c.h.readString("proc/sys/kernel/numa_balancing"); err == nil {
		switch s {
		case "0":
			obs = append(obs, "numa_balancing 0")
		case "1", "2", "3":
			obs = append(obs, "numa_balancing "+s)
			fails = append(fails, "NUMA balancing unmaps pages of running tasks to sample them")
			fix = append(fix, "sysctl -w kernel.numa_balancing=0 (persist in /etc/sysctl.d/)")
		default:
			unread = append(unread, fmt.Sprintf("kernel.numa_balancing: %q is not a number", s))
		}
	} else if !notExist(err) {
		unread = append(unread, err.Error())
	} else {
		obs = append(obs, "no numa_balancing")
	}
	if s, err := c.h.readString("sys/kernel/mm/ksm/run"); err == nil {
		switch s {
		case "0", "2":
			obs = append(obs, "KSM run "+s)
		case "1":
			obs = append(obs, "KSM run 1")
			warns = append(warns, "KSM merges pages in the background")
			fix = append(fix, "echo 2 > /sys/kernel/mm/ksm/run")
		default:
			unread = append(unread, fmt.Sprintf("ksm/run: %q is not 0, 1 or 2", s))
		}
	} else if !notExist(err) {
		unread = append(unread, err.Error())
	} else {
		obs = append(obs, "no KSM")
	}
	r.Observed = strings.Join(obs, "; ")
	r.Details = slices.Concat(fails, warns, unread)
	r.Remedy = strings.Join(fix, "; ")
	switch {
	case len(fails) > 0:
		r.Status = StatusFail
		r.Reason = "pages are moved or unmapped under the poll loop, causing faults and TLB shootdowns"
	case len(warns) > 0:
		r.Status = StatusWarn
		r.Reason = "background page movers cause TLB shootdown IPIs to RX CPUs"
	case len(obs) == 0:
		r.Status = StatusSkip
		r.Reason = strings.Join(unread, "; ")
	case len(unread) > 0:
		r.Status = StatusWarn
		r.Reason = "some settings could not be read"
	default:
		r.Status = StatusPass
	}
	return r
}

// --- 11. housekeeping_work

func checkHousekeepingWork(c *ctx) Result {
	r := Result{Expected: fmt.Sprintf("workqueue and watchdog cpumasks exclude RX CPUs %s; kernel.timer_migration = 0; vm.stat_interval >= 10", c.rx)}
	var obs, fails, warns, fix, unread []string
	if wq, err := c.h.readMask("sys/devices/virtual/workqueue/cpumask"); err == nil {
		obs = append(obs, "workqueue cpumask "+orNone(wq))
		if x := wq.Intersect(c.rx); !x.IsEmpty() {
			fails = append(fails, fmt.Sprintf("unbound workqueues may run on RX CPUs %s", x))
			fix = append(fix, fmt.Sprintf("echo %s > /sys/devices/virtual/workqueue/cpumask", c.hkMask()))
		}
	} else if !notExist(err) {
		unread = append(unread, err.Error())
	}
	if s, err := c.h.readString("proc/sys/kernel/timer_migration"); err == nil {
		switch s {
		case "0":
			obs = append(obs, "timer_migration 0")
		case "1":
			obs = append(obs, "timer_migration 1")
			warns = append(warns, "timer_migration 1: timers may be queued on RX CPUs")
			fix = append(fix, "sysctl -w kernel.timer_migration=0")
		default:
			unread = append(unread, fmt.Sprintf("kernel.timer_migration: %q", s))
		}
	} else if !notExist(err) {
		unread = append(unread, err.Error())
	}
	if s, err := c.h.readString("proc/sys/vm/stat_interval"); err == nil {
		n, err := strconv.Atoi(s)
		if err != nil {
			unread = append(unread, fmt.Sprintf("vm.stat_interval: %q", s))
		} else {
			obs = append(obs, "stat_interval "+s)
		}
		if err == nil && n < 10 {
			warns = append(warns, fmt.Sprintf("vm.stat_interval %d: vmstat work runs every %d s on every CPU", n, n))
			fix = append(fix, "sysctl -w vm.stat_interval=10")
		}
	} else if !notExist(err) {
		unread = append(unread, err.Error())
	}
	if s, err := c.h.readString("proc/sys/kernel/nmi_watchdog"); err == nil {
		if s == "0" || s == "1" {
			obs = append(obs, "nmi_watchdog "+s)
		} else {
			unread = append(unread, fmt.Sprintf("kernel.nmi_watchdog: %q", s))
		}
		if s == "1" {
			wd, err := c.h.readList("proc/sys/kernel/watchdog_cpumask")
			switch {
			case err != nil && !notExist(err):
				unread = append(unread, err.Error())
			case err != nil:
				warns = append(warns, "NMI watchdog on, watchdog_cpumask unknown")
				fix = append(fix, "sysctl -w kernel.nmi_watchdog=0")
			default:
				obs = append(obs, "watchdog_cpumask "+orNone(wd))
				if x := wd.Intersect(c.rx); !x.IsEmpty() {
					warns = append(warns, fmt.Sprintf("NMI watchdog fires on RX CPUs %s", x))
					fix = append(fix, fmt.Sprintf("sysctl -w kernel.watchdog_cpumask=%s (or kernel.nmi_watchdog=0)", c.hkList()))
				}
			}
		}
	} else if !notExist(err) {
		unread = append(unread, err.Error())
	}
	r.Observed = strings.Join(obs, "; ")
	r.Details = slices.Concat(fails, warns, unread)
	r.Remedy = strings.Join(fix, "; ")
	switch {
	case len(fails) > 0:
		r.Status = StatusFail
		r.Reason = "kernel work is scheduled on RX CPUs"
	case len(warns) > 0:
		r.Status = StatusWarn
		r.Reason = "periodic kernel work may interrupt RX CPUs"
	case len(obs) == 0 && len(unread) > 0:
		r.Status = StatusSkip
		r.Reason = strings.Join(unread, "; ")
	case len(obs) == 0:
		r.Status = StatusSkip
		r.Reason = "none of the workqueue, timer, vmstat or watchdog settings exist on this host"
	case len(unread) > 0:
		r.Status = StatusWarn
		r.Reason = "some settings could not be read"
	default:
		r.Status = StatusPass
	}
	return r
}

// --- 12. foreign_tasks

// perCPUKthread matches the per-CPU kernel threads that must stay on
// every CPU; irq/ threads follow their interrupt.
var perCPUKthread = regexp.MustCompile(`^(kworker/\d+:.*|ksoftirqd/\d+|migration/\d+|cpuhp/\d+|rcu[a-z_]*/\d+|idle_inject/\d+|irq/.*)$`)

func checkForeignTasks(c *ctx) Result {
	procs, err := os.ReadDir(c.h.path("proc"))
	if err != nil {
		return skip(fmt.Sprintf("cannot list /proc: %v", err))
	}
	r := Result{Expected: fmt.Sprintf("only per-CPU kernel threads allowed on RX CPUs %s", c.rx)}
	var found, bad []string
	threads, count := 0, 0
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		if c.spec.ExcludePID != 0 && pid == c.spec.ExcludePID {
			continue
		}
		tasks, err := os.ReadDir(c.h.path("proc", p.Name(), "task"))
		if err != nil {
			continue // the process exited meanwhile
		}
		for _, t := range tasks {
			b, err := c.h.readFile("proc/"+p.Name()+"/task/"+t.Name()+"/status", maxSmall)
			if err != nil {
				continue
			}
			threads++
			st, err := parseStatus(b)
			if err != nil {
				bad = append(bad, fmt.Sprintf("task %s/%s: %v", p.Name(), t.Name(), err))
				continue
			}
			if st.Kthread && perCPUKthread.MatchString(st.Name) {
				continue
			}
			if st.Allowed.Intersect(c.rx).IsEmpty() {
				continue
			}
			count++
			who := fmt.Sprintf("pid %d", st.TGID)
			if st.TID != st.TGID {
				who = fmt.Sprintf("tid %d (pid %d)", st.TID, st.TGID)
			}
			found = append(found, fmt.Sprintf("%s %s allowed on %s", who, st.Name, st.Allowed))
		}
	}
	r.Observed = fmt.Sprintf("%d of %d threads allowed on RX CPUs", count, threads)
	if c.spec.ExcludePID != 0 {
		r.Observed += fmt.Sprintf(" (pid %d excluded)", c.spec.ExcludePID)
	}
	r.Details = capDetails(slices.Concat(found, bad), 20)
	switch {
	case threads == 0:
		r.Status = StatusSkip
		r.Reason = "no readable task status under /proc"
	case count > 0:
		r.Status = StatusWarn
		r.Reason = fmt.Sprintf("%d threads may be scheduled on RX CPUs", count)
		r.Remedy = fmt.Sprintf("isolate the RX CPUs (isolcpus=domain,%s) or move the tasks: taskset -a -p -c %s PID", c.rx, c.hkList())
	case len(bad) > 0:
		r.Status = StatusWarn
		r.Reason = "some task status files could not be parsed"
	default:
		r.Status = StatusPass
	}
	return r
}
