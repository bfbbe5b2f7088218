package benchkit

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MaxForeign is the largest share of one CPU that processes outside the
// bench may use during its runs: above it other work ran beside the
// bench, whatever the load average says.
const MaxForeign = 0.05

// procCPU is one process's CPU time and parent, from /proc/PID/stat.
type procCPU struct {
	ppid  int
	ticks uint64 // utime + stime
}

// Foreign measures the CPU time of the processes that are not the bench's
// own: not in the process tree below Root (the harness), and not kernel
// threads (softirq and I/O work the bench causes runs in those). A
// capture bench keeps several of its own loops busy, which the load
// average cannot tell from other work; this can.
type Foreign struct {
	// Root is the harness's pid (0: this process).
	Root  int
	start map[int]procCPU
	at    time.Time
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times (100 on
// every Linux architecture rxprobe builds for).
const clockTicks = 100

// snapshot reads every process's CPU time; kernel threads (children of
// kthreadd, pid 2) are left out.
func snapshot() map[int]procCPU {
	out := map[int]procCPU{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		p, ok := parseStat(b)
		if !ok || p.ppid == 2 || pid == 2 {
			continue
		}
		out[pid] = p
	}
	return out
}

// parseStat takes ppid and utime+stime from a /proc/PID/stat line.
func parseStat(b []byte) (procCPU, bool) {
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procCPU{}, false
	}
	f := strings.Fields(s[i+1:])
	// after the comm: state(0) ppid(1) ... utime(11) stime(12)
	if len(f) < 13 {
		return procCPU{}, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	ut, err2 := strconv.ParseUint(f[11], 10, 64)
	st, err3 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return procCPU{}, false
	}
	return procCPU{ppid: ppid, ticks: ut + st}, true
}

// Start takes the first reading.
func (f *Foreign) Start() {
	f.start, f.at = snapshot(), time.Now()
}

// Stop returns the share of one CPU the foreign processes used since
// Start, and the busiest of them ("pid comm share").
func (f *Foreign) Stop() (share float64, top string) {
	end := snapshot()
	root := f.Root
	if root == 0 {
		root = os.Getpid()
	}
	ownTree := func(m map[int]procCPU, pid int) bool {
		for n := 0; pid > 1 && n < 64; n++ {
			if pid == root {
				return true
			}
			p, ok := m[pid]
			if !ok {
				return false
			}
			pid = p.ppid
		}
		return false
	}
	el := time.Since(f.at).Seconds()
	if el <= 0 {
		return 0, ""
	}
	var total, most uint64
	for pid, p := range end {
		if ownTree(end, pid) || ownTree(f.start, pid) {
			continue
		}
		d := p.ticks
		if s, ok := f.start[pid]; ok && s.ticks <= p.ticks {
			d = p.ticks - s.ticks
		}
		total += d
		if d > most {
			most = d
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			top = fmt.Sprintf("%d %s %.1f %%", pid, strings.TrimSpace(string(comm)), 100*float64(d)/clockTicks/el)
		}
	}
	return float64(total) / clockTicks / el, top
}

// Foreign records the share of one CPU that processes outside the bench
// used during label; above MaxForeign the run is LOADED.
func (g *Gate) Foreign(label string, share float64, top string) {
	if share > MaxForeign {
		g.loaded = append(g.loaded, fmt.Sprintf("%s: other processes used %.1f %% of a CPU (above %.0f %%; busiest: %s)", label, 100*share, 100*MaxForeign, top))
	}
}
