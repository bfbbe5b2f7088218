package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

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

func sampleThread(pid, tid int) (benchkit.CPUSample, error) { return benchkit.SampleThread(pid, tid) }

// watchWorker waits for ready (a file rxprobe creates once its loops
// run), then samples pid's worker thread every 20 ms until ctx ends or the
// thread exits. It returns the thread's CPU share between the first sample
// and the last one in which the thread had run: the idle tail after the
// loop stopped is left out. 0 means it could not tell.
func watchWorker(ctx context.Context, pid int, ready string) float64 {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	tid := 0
	var first, last, prev benchkit.CPUSample
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
				return benchkit.Share(first, last)
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
			return benchkit.Share(first, last)
		case <-tick.C:
		}
	}
}
