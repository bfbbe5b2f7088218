package benchkit

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// WorkerPrefixes are the names EAL gives its worker lcore threads
// (22.11: "rte-worker-N"; older "lcore-worker-N"; newer "dpdk-worker-N").
var WorkerPrefixes = []string{"rte-worker-", "lcore-worker-", "dpdk-worker"}

// FindWorker returns the thread id of pid's only EAL worker thread.
func FindWorker(pid int) (int, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	if err != nil {
		return 0, err
	}
	found := 0
	for _, t := range tasks {
		comm, err := os.ReadFile(filepath.Join(t, "comm"))
		if err != nil {
			continue
		}
		name := strings.TrimSpace(string(comm))
		for _, p := range WorkerPrefixes {
			if strings.HasPrefix(name, p) {
				if found != 0 {
					return 0, fmt.Errorf("pid %d: more than one EAL worker thread", pid)
				}
				found, _ = strconv.Atoi(filepath.Base(t))
			}
		}
	}
	if found == 0 {
		return 0, fmt.Errorf("pid %d: no EAL worker thread", pid)
	}
	return found, nil
}

// ParseSchedstat returns the first field of /proc/<pid>/task/<tid>/schedstat:
// nanoseconds the thread has run on a CPU.
func ParseSchedstat(b []byte) (uint64, error) {
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return 0, fmt.Errorf("schedstat: %d fields, want 3", len(f))
	}
	return strconv.ParseUint(f[0], 10, 64)
}

// CPUSample is a thread's on-CPU time at a moment.
type CPUSample struct {
	At    time.Time
	RunNs uint64
}

// SampleThread reads tid's schedstat.
func SampleThread(pid, tid int) (CPUSample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, tid))
	if err != nil {
		return CPUSample{}, err
	}
	ns, err := ParseSchedstat(b)
	return CPUSample{At: time.Now(), RunNs: ns}, err
}

// Share is the fraction of wall time between a and b the thread was on a
// CPU (0 when it cannot tell).
func Share(a, b CPUSample) float64 {
	wall := b.At.Sub(a.At)
	if wall <= 0 || b.RunNs < a.RunNs {
		return 0
	}
	return float64(b.RunNs-a.RunNs) / float64(wall.Nanoseconds())
}

// Busy is a busy-loop thread's on-CPU share, from schedstat samples taken
// while it runs and after it stops. The share is measured from the first
// sample to the last one before the thread's final stretch of running:
// the interval in which the loop stopped (and the idle tail after it) is
// left out, since how much of it the loop ran is unknown. A loop that
// shares its CPU shows below 1 however often it is sampled.
type Busy struct {
	first, prev, end CPUSample
	n                int
}

// Add records a sample; samples come in time order.
func (b *Busy) Add(s CPUSample) {
	switch {
	case b.n == 0:
		b.first, b.end = s, s
	case s.RunNs > b.prev.RunNs:
		// It ran since prev; prev is inside the running stretch.
		b.end = b.prev
	}
	b.prev = s
	b.n++
}

// Share is the on-CPU share (0 when fewer than three samples, or no
// running, leave nothing to measure).
func (b *Busy) Share() float64 { return Share(b.first, b.end) }

// Ran is the thread's on-CPU time between its first and last samples.
func (b *Busy) Ran() uint64 {
	if b.n == 0 || b.prev.RunNs < b.first.RunNs {
		return 0
	}
	return b.prev.RunNs - b.first.RunNs
}
