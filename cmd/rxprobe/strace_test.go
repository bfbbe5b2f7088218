package main

import (
	"fmt"
	"github.com/rxprobe/rxprobe/internal/run"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// straceWindow attaches strace to every thread of the running RX process
// (pid) after warm-up, lets it run for window, stops the run with SIGTERM
// and returns the memory-mapping calls seen before the SIGTERM arrived,
// each with the name of the thread that made it, and the number of
// threads strace attached to.
func straceWindow(t *testing.T, strace string, cmd *exec.Cmd, done chan error, window time.Duration) (calls []string, threads int) {
	t.Helper()
	pid := cmd.Process.Pid
	names := map[string]string{}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/comm", pid, e.Name()))
		names[e.Name()] = strings.TrimSpace(string(b))
	}
	out := filepath.Join(t.TempDir(), "strace.out")
	// -f with -p attaches to every thread of pid (and would follow new
	// ones); the trace set is every call that maps, unmaps or changes
	// mappings, and thread creation.
	st := exec.Command(strace, "-f", "-o", out, "-e", "trace=mmap,munmap,madvise,mprotect,mremap,brk,clone,clone3",
		"-e", "signal=SIGTERM", "-p", strconv.Itoa(pid))
	var stderr lockedBuffer // written by exec's copying goroutine, read here
	st.Stderr = &stderr
	if err := st.Start(); err != nil {
		t.Fatal(err)
	}
	stDone := make(chan error, 1)
	go func() { stDone <- st.Wait() }()
	// Wait until strace says it attached: "Process PID attached with N
	// threads" (every thread of the process, as -f asks).
	attached := regexp.MustCompile(`(?m)^\S*strace: Process (\d+) attached(?: with (\d+) threads)?`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := attached.FindStringSubmatch(stderr.String()); m != nil {
			threads = 1
			if m[2] != "" {
				threads, _ = strconv.Atoi(m[2])
			}
			break
		}
		select {
		case err := <-stDone:
			msg := strings.TrimSpace(stderr.String())
			if strings.Contains(msg, "ptrace") || strings.Contains(msg, "not permitted") {
				_ = cmd.Process.Signal(syscall.SIGTERM)
				<-done
				t.Skipf("strace cannot attach here (ptrace refused): %s", strings.SplitN(msg, "\n", 2)[0])
			}
			t.Fatalf("strace exited: %v\n%s", err, msg)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("strace did not attach within 10 s:\n%s", stderr.String())
		}
	}
	if threads < len(tasks) {
		t.Errorf("strace attached to %d threads, the process has %d", threads, len(tasks))
	}
	time.Sleep(window)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("rxprobe run: %v", err)
	}
	select {
	case <-stDone:
	case <-time.After(10 * time.Second):
		_ = st.Process.Kill()
		t.Fatal("strace did not exit with its tracee")
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		tid, call, _ := strings.Cut(strings.TrimSpace(line), " ")
		call = strings.TrimSpace(call)
		if strings.HasPrefix(call, "--- SIGTERM") {
			break // the stop begins: unmapping is allowed from here on
		}
		if call == "" || strings.HasPrefix(call, "+++") || strings.HasPrefix(call, "---") {
			continue
		}
		name, ok := names[tid]
		if !ok {
			name = "a thread created in the window"
		}
		calls = append(calls, fmt.Sprintf("tid %s (%s): %s", tid, name, call))
	}
	return calls, threads
}

// The whole RX process is quiet once warmed up: strace, attached to every
// thread of `rxprobe run` (Go runtime, stats thread, EAL's threads and the
// lcores) with the stats thread at 100 ms, the exporter, the guard and the
// watcher on, sees no mmap, munmap, madvise, mprotect, mremap, brk or
// thread creation until the SIGTERM that stops the run. A control first:
// the same procedure on a run with a planted munmap thread must see its
// munmaps.
func TestIntegrationStraceWholeRXProcess(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("needs strace (apt-get install strace)")
	}
	attrib := "true"
	if ok, _ := haveTracefs(); !ok {
		attrib = "false"
	}
	start := func(extra ...string) (*exec.Cmd, chan error, string) {
		prefix := uniquePrefix(t)
		cfg := writeConfig(t, nullConfig(prefix, true, "")+"guard:\n  drift_interval: 1s\n  attribution: "+attrib+"\n")
		args := append([]string{"--stats-interval", "100ms", "--metrics-addr", freeLoopbackPort(t), "--status", "never"}, extra...)
		cmd, done := startRun(t, cfg, filepath.Join(t.TempDir(), "r.json"), args...)
		terminateOnCleanup(t, cmd, done)
		time.Sleep(run.Warmup + 500*time.Millisecond)
		return cmd, done, prefix
	}

	cmd, done, _ := start("--debug-munmap-hz", "50")
	control, _ := straceWindow(t, strace, cmd, done, 2*time.Second)
	planted := slices.ContainsFunc(control, func(c string) bool { return strings.Contains(c, "(rxp-munmap): munmap(") })
	if !planted {
		t.Fatalf("control: strace saw no munmap from the planted rxp-munmap thread; calls: %q", control)
	}
	t.Logf("control: %d calls, e.g. %s", len(control), control[0])

	cmd, done, prefix := start()
	calls, threads := straceWindow(t, strace, cmd, done, 8*time.Second)
	t.Logf("strace attached to %d threads of the RX process for 8 s", threads)
	if threads < 4 {
		t.Errorf("attached to %d threads: want every thread (Go runtime, stats thread, EAL, lcore)", threads)
	}
	if len(calls) > 0 {
		t.Errorf("the RX process changed its mappings in steady state (%d calls):\n%s", len(calls), strings.Join(calls, "\n"))
	}
	assertNoLeftovers(t, prefix)
}
