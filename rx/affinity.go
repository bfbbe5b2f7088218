package rx

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/cpuset"
)

// ConfineProcess pins every existing thread of the process to cpus and sets
// GOMAXPROCS to its size. Threads created later inherit the mask of the
// thread that creates them, so the Go runtime stays on cpus; EAL then pins
// only its worker lcores to the RX CPUs. Call it before EAL init.
func ConfineProcess(cpus cpuset.Set) error {
	if cpus.IsEmpty() {
		return fmt.Errorf("rx: confine: empty housekeeping set")
	}
	set := cpus.UnixCPUSet()
	// Go may start a thread while we walk the list; walk until stable.
	for pass := 0; pass < 4; pass++ {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("rx: confine: list threads: %w", err)
		}
		changed := false
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			var cur unix.CPUSet
			if err := unix.SchedGetaffinity(tid, &cur); err != nil {
				continue // thread exited
			}
			if cur == set {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil {
				return fmt.Errorf("rx: confine thread %d to CPUs %s: %w", tid, cpus, err)
			}
			changed = true
		}
		if !changed {
			break
		}
	}
	runtime.GOMAXPROCS(cpus.Len())
	return nil
}

// ThreadCPUs returns the affinity of every thread of the process, by tid.
func ThreadCPUs() (map[int]cpuset.Set, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	out := map[int]cpuset.Set{}
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var cur unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &cur); err == nil {
			out[tid] = cpuset.FromUnix(cur)
		}
	}
	return out, nil
}
