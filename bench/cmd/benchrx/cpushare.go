package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// workerPrefixes are the names EAL gives its worker lcore threads
// (22.11: "rte-worker-N"; older "lcore-worker-N"; newer "dpdk-worker-N").
var workerPrefixes = []string{"rte-worker-", "lcore-worker-", "dpdk-worker"}

// findWorker returns the thread id of pid's only EAL worker thread.
func findWorker(pid int) (int, error) {
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
		for _, p := range workerPrefixes {
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

// parseSchedstat returns the first field of /proc/<pid>/task/<tid>/schedstat:
// nanoseconds the thread has run on a CPU.
func parseSchedstat(b []byte) (uint64, error) {
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return 0, fmt.Errorf("schedstat: %d fields, want 3", len(f))
	}
	return strconv.ParseUint(f[0], 10, 64)
}

// cpuSample is a thread's on-CPU time at a moment.
type cpuSample struct {
	At    time.Time
	RunNs uint64
}

func sampleThread(pid, tid int) (cpuSample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, tid))
	if err != nil {
		return cpuSample{}, err
	}
	ns, err := parseSchedstat(b)
	return cpuSample{At: time.Now(), RunNs: ns}, err
}

// share is the fraction of wall time between a and b the thread was on a
// CPU (0 when it cannot tell).
func share(a, b cpuSample) float64 {
	wall := b.At.Sub(a.At)
	if wall <= 0 || b.RunNs < a.RunNs {
		return 0
	}
	return float64(b.RunNs-a.RunNs) / float64(wall.Nanoseconds())
}

// watchWorker waits for ready (a file rxprobe creates once its loops
// run), then samples pid's worker thread every 20 ms until ctx ends or the
// thread exits. It returns the thread's CPU share between the first sample
// and the last one in which the thread had run: the idle tail after the
// loop stopped is left out. 0 means it could not tell.
func watchWorker(ctx context.Context, pid int, ready string) float64 {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	tid := 0
	var first, last, prev cpuSample
	for {
		if tid == 0 {
			if _, err := os.Stat(ready); err == nil {
				if t, err := findWorker(pid); err == nil {
					tid = t
				}
			}
		}
		if tid != 0 {
			s, err := sampleThread(pid, tid)
			if err != nil {
				return share(first, last)
			}
			if first.At.IsZero() {
				first, last = s, s
			} else if s.RunNs > prev.RunNs {
				last = s
			}
			prev = s
		}
		select {
		case <-ctx.Done():
			return share(first, last)
		case <-tick.C:
		}
	}
}
