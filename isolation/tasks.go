package isolation

import (
	"fmt"
	"os"
	"regexp"
	"strconv"

	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// --- 11. housekeeping_work

// timerMigration lets the kernel queue timers on RX CPUs.
var timerMigration = knob{rel: "proc/sys/kernel/timer_migration", label: "timer_migration", good: []string{"0"},
	bad:     map[string]finding{"1": {StatusWarn, "timer_migration 1: timers may be queued on RX CPUs", "sysctl -w kernel.timer_migration=0"}},
	unknown: "kernel.timer_migration: %q"}

func checkHousekeepingWork(c *ctx) Result {
	r := Result{Expected: fmt.Sprintf("workqueue and watchdog cpumasks exclude RX CPUs %s; kernel.timer_migration = 0; vm.stat_interval >= 10", c.rx)}
	var t tally
	if wq, err := c.h.ReadCPUMask("sys/devices/virtual/workqueue/cpumask"); err == nil {
		t.obs = append(t.obs, "workqueue cpumask "+orNone(wq))
		if x := wq.Intersect(c.rx); !x.IsEmpty() {
			t.find(StatusFail, fmt.Sprintf("unbound workqueues may run on RX CPUs %s", x), fmt.Sprintf("echo %s > /sys/devices/virtual/workqueue/cpumask", c.hkMask()))
		}
	} else if !hostfs.NotExist(err) {
		t.unread = append(t.unread, err.Error())
	}
	timerMigration.judge(c.h, &t)
	if s, ok := t.read(c.h, "proc/sys/vm/stat_interval"); ok {
		if n, err := strconv.Atoi(s); err != nil {
			t.unread = append(t.unread, fmt.Sprintf("vm.stat_interval: %q", s))
		} else {
			t.obs = append(t.obs, "stat_interval "+s)
			if n < 10 {
				t.find(StatusWarn, fmt.Sprintf("vm.stat_interval %d: vmstat work runs every %d s on every CPU", n, n), "sysctl -w vm.stat_interval=10")
			}
		}
	}
	if s, ok := t.read(c.h, "proc/sys/kernel/nmi_watchdog"); ok {
		if s == "0" || s == "1" {
			t.obs = append(t.obs, "nmi_watchdog "+s)
		} else {
			t.unread = append(t.unread, fmt.Sprintf("kernel.nmi_watchdog: %q", s))
		}
		if s == "1" {
			c.watchdogMask(&t)
		}
	}
	return t.verdict(r, verdicts{
		fail:    outcome{reason: "kernel work is scheduled on RX CPUs"},
		warn:    outcome{reason: "periodic kernel work may interrupt RX CPUs"},
		unread:  "some settings could not be read",
		nothing: "none of the workqueue, timer, vmstat or watchdog settings exist on this host",
	})
}

// watchdogMask judges where the NMI watchdog, which is on, fires.
func (c *ctx) watchdogMask(t *tally) {
	wd, err := c.h.ReadCPUList("proc/sys/kernel/watchdog_cpumask")
	switch {
	case err != nil && !hostfs.NotExist(err):
		t.unread = append(t.unread, err.Error())
	case err != nil:
		t.find(StatusWarn, "NMI watchdog on, watchdog_cpumask unknown", "sysctl -w kernel.nmi_watchdog=0")
	default:
		t.obs = append(t.obs, "watchdog_cpumask "+orNone(wd))
		if x := wd.Intersect(c.rx); !x.IsEmpty() {
			t.find(StatusWarn, fmt.Sprintf("NMI watchdog fires on RX CPUs %s", x), fmt.Sprintf("sysctl -w kernel.watchdog_cpumask=%s (or kernel.nmi_watchdog=0)", c.hkList()))
		}
	}
}

// --- 12. foreign_tasks

// perCPUKthread matches the per-CPU kernel threads that must stay on
// every CPU; irq/ threads follow their interrupt.
var perCPUKthread = regexp.MustCompile(`^(kworker/\d+:.*|ksoftirqd/\d+|migration/\d+|cpuhp/\d+|rcu[a-z_]*/\d+|idle_inject/\d+|irq/.*)$`)

func checkForeignTasks(c *ctx) Result {
	procs, err := os.ReadDir(c.h.Path("proc"))
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
		tasks, err := os.ReadDir(c.h.Path("proc", p.Name(), "task"))
		if err != nil {
			continue // the process exited meanwhile
		}
		for _, t := range tasks {
			b, err := c.h.ReadFile("proc/"+p.Name()+"/task/"+t.Name()+"/status", hostfs.MaxSmall)
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
	t := tally{warns: found, unread: bad, observed: threads > 0}
	return t.verdict(r, verdicts{
		warn: outcome{fmt.Sprintf("%d threads may be scheduled on RX CPUs", count),
			fmt.Sprintf("isolate the RX CPUs (isolcpus=domain,%s) or move the tasks: taskset -a -p -c %s PID", c.rx, c.hkList())},
		unread:     "some task status files could not be parsed",
		nothing:    "no readable task status under /proc",
		maxDetails: 20,
	})
}
