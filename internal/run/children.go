package run

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/internal/run/report"
	"github.com/rxprobe/rxprobe/isolation"
	"github.com/rxprobe/rxprobe/isolation/guard"
	"github.com/rxprobe/rxprobe/rx/config"
)

// The exporter and the drift watcher are child processes of this binary
// (`rxprobe exporter`, `rxprobe watch`): they allocate freely, and their
// garbage collectors, scavengers and page faults live in other address
// spaces, where they cannot shoot down the RX CPUs' TLBs. Both get
// --parent-pid and end when this process is gone (internal/parent).

// childStopWait is how long a child gets to exit after SIGTERM before it
// is killed.
const childStopWait = 2 * time.Second

// watcherReadyWait is how long the loops wait for the watcher's tracepoints.
const watcherReadyWait = 10 * time.Second

// child is a running child process.
type child struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // Wait's result, set before exited closes
}

// startChild starts this binary with args; its output goes to stderr.
func startChild(args ...string) (*child, error) { return startChildWith(nil, args...) }

// startChildWith is startChild with prep adjusting the command (extra
// files, process group) before it starts; prep may be nil.
func startChildWith(prep func(*exec.Cmd), args ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if prep != nil {
		prep(cmd)
	}
	return startProcess(cmd)
}

// startProcess starts cmd and reaps it in the background.
func startProcess(cmd *exec.Cmd) (*child, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, exited: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.exited) }()
	return c, nil
}

// terminate asks the child to exit (SIGTERM) without waiting, so that
// several children wind down at the same time. Nil-safe.
func (c *child) terminate() {
	if c != nil {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
	}
}

// stop ends the child with SIGTERM and waits for it, killing it after
// childStopWait. It does nothing on a nil child or one already gone.
func (c *child) stop() {
	if c == nil {
		return
	}
	c.terminate()
	select {
	case <-c.exited:
	case <-time.After(childStopWait):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// startExporter starts `rxprobe exporter` on the run's segment. A failure
// to start is reported and the run goes on without /metrics (nil child).
func startExporter(log io.Writer, cfg *config.Config, prefix string) *child {
	if !cfg.Stats.Exporter {
		return nil
	}
	c, err := startChild("exporter", "--attach", prefix, "--shm-dir", cfg.Stats.ShmDir,
		"--metrics-addr", cfg.Stats.MetricsAddr, "--parent-pid", strconv.Itoa(os.Getpid()))
	if err != nil {
		fmt.Fprintf(log, "rxprobe: exporter: %v (continuing without /metrics)\n", err)
		return nil
	}
	return c
}

// startTrialAPI starts `rxprobe trial-api` on the run's segment. A
// failure to start is reported and the run goes on without it (nil).
func startTrialAPI(log io.Writer, cfg *config.Config, prefix string, o TrialAPI) *child {
	args := []string{"trial-api", "--attach", prefix, "--shm-dir", cfg.Stats.ShmDir, "--trial-api", o.Addr,
		"--parent-pid", strconv.Itoa(os.Getpid())}
	if o.Public {
		args = append(args, "--trial-api-public")
	}
	if o.TokenFile != "" {
		args = append(args, "--trial-api-token-file", o.TokenFile)
	}
	c, err := startChild(args...)
	if err != nil {
		fmt.Fprintf(log, "rxprobe: trial API: %v (continuing without it)\n", err)
		return nil
	}
	return c
}

// watcher is the `rxprobe watch` child: it prints its findings itself and
// appends them to a file this process reads only after the loops stopped,
// so that nothing arrives in the RX process while it runs.
type watcher struct {
	*child
	path string
}

// watcherFindings are what the watcher wrote.
type watcherFindings struct {
	drift  []guard.Event
	attrib []report.Attribution
	notes  []string
}

// startWatcher starts `rxprobe watch` (drift checks, and the flight
// recorder with guard.attribution) and waits until it says it is ready:
// enabling tracepoints patches kernel text, which interrupts every CPU,
// so the loops start after it. It returns nil when the watcher could not
// start; the run goes on without it.
func startWatcher(log io.Writer, cfg *config.Config, hostRoot string) *watcher {
	interval := cfg.Guard.DriftInterval
	if interval == 0 {
		interval = 1000 * time.Hour // attribution only
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("rxprobe-watch-%d.jsonl", os.Getpid()))
	_ = os.Remove(path)
	c, err := startChild("watch", "--rx-cpus", cfg.RXCPUSet().String(), "--housekeeping", cfg.HousekeepingSet().String(),
		"--interval", interval.String(), "--exclude-pid", strconv.Itoa(os.Getpid()),
		"--parent-pid", strconv.Itoa(os.Getpid()), "--host-root", hostfs.New(hostRoot).Root(),
		"--trace="+strconv.FormatBool(cfg.Guard.Attribution), "--out", path, "--log")
	if err != nil {
		fmt.Fprintf(log, "rxprobe: drift watcher: %v (continuing without it)\n", err)
		return nil
	}
	w := &watcher{child: c, path: path}
	deadline := time.Now().Add(watcherReadyWait)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), `"kind":"ready"`) {
			return w
		}
		select {
		case <-c.exited:
			fmt.Fprintln(log, "rxprobe: drift watcher exited at start (continuing without it)")
			return w
		case <-time.After(20 * time.Millisecond):
		}
	}
	fmt.Fprintln(log, "rxprobe: drift watcher not ready after 10s (continuing)")
	return w
}

// stop ends the watcher, reads what it found and removes its file.
func (w *watcher) stop() watcherFindings {
	var f watcherFindings
	if w == nil {
		return f
	}
	w.child.stop()
	defer os.Remove(w.path)
	file, err := os.Open(w.path)
	if err != nil {
		return f
	}
	defer file.Close()
	dec := json.NewDecoder(file)
	for {
		var l isolation.DriftLine
		if dec.Decode(&l) != nil {
			break
		}
		switch l.Kind {
		case "attribution":
			f.attrib = append(f.attrib, report.Attribution{At: l.At, CPU: l.CPU, Detail: l.Detail})
		case "note":
			f.notes = append(f.notes, l.Detail)
		case "drift":
			f.drift = append(f.drift, guard.Event{At: l.At, Kind: "drift", CPU: -1, Port: -1, Queue: -1, Detail: l.Detail})
		}
	}
	return f
}
