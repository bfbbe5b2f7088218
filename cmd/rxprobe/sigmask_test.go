package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// blocked reads a thread's blocked-signal mask (SigBlk in its status).
func blocked(t *testing.T, task string) uint64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(task, "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "SigBlk:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("%s: no SigBlk", task)
	return 0
}

// TestRXThreadsBlockSignals: a signal to the run (SIGUSR1 fires capture
// triggers, SIGTERM stops it) is never delivered on an RX core: EAL's
// threads block every signal, while the Go threads that handle them do
// not (which also shows the mask reading can tell the two apart).
func TestRXThreadsBlockSignals(t *testing.T) {
	cfg := writeConfig(t, nullConfig(fmt.Sprintf("rxpsig%d", os.Getpid()), true, ""))
	cmd, done := startRun(t, cfg, filepath.Join(t.TempDir(), "run.json"))
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", cmd.Process.Pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("tasks of %d: %v", cmd.Process.Pid, err)
	}
	bit := func(s syscall.Signal) uint64 { return 1 << (uint(s) - 1) }
	want := bit(syscall.SIGUSR1) | bit(syscall.SIGTERM) | bit(syscall.SIGINT)
	var workers, goOpen int
	for _, task := range tasks {
		comm, _ := os.ReadFile(filepath.Join(task, "comm"))
		name := strings.TrimSpace(string(comm))
		m := blocked(t, task)
		switch {
		case strings.HasPrefix(name, "rte-worker"):
			workers++
			if m&want != want {
				t.Errorf("%s (%s): SigBlk %016x lets SIGUSR1/SIGTERM/SIGINT in", name, task, m)
			}
		case m&bit(syscall.SIGUSR1) == 0:
			goOpen++ // a Go thread: the runtime handles signals there
		}
	}
	stopRun(t, cmd, done)
	if workers == 0 {
		t.Fatal("no rte-worker thread found")
	}
	if goOpen == 0 {
		t.Error("every Go thread blocks SIGUSR1: the check cannot tell blocked from open")
	}
}
