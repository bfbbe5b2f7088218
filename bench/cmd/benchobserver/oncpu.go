package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The names EAL gives its worker lcore threads across versions.
var workerPrefixes = []string{"rte-worker-", "lcore-worker-", "dpdk-worker"}

// loopThread returns the thread id of pid's EAL worker thread (0 if
// there is not exactly one).
func loopThread(pid int) int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	found := 0
	for _, t := range tasks {
		comm, err := os.ReadFile(filepath.Join(t, "comm"))
		if err != nil {
			continue
		}
		for _, p := range workerPrefixes {
			if strings.HasPrefix(strings.TrimSpace(string(comm)), p) {
				if found != 0 {
					return 0
				}
				found, _ = strconv.Atoi(filepath.Base(t))
			}
		}
	}
	return found
}

// runNs is the first field of /proc/PID/task/TID/schedstat: nanoseconds
// the thread has been on a CPU.
func runNs(pid, tid int) (uint64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, tid))
	if err != nil {
		return 0, false
	}
	return parseSchedstat(b)
}

func parseSchedstat(b []byte) (uint64, bool) {
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return 0, false
	}
	n, err := strconv.ParseUint(f[0], 10, 64)
	return n, err == nil
}
