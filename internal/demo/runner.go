package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/run/report"
)

// runner runs `rxprobe run` and `rxprobe gen` once with one config.
type runner struct {
	o    Options
	tmp  string
	cfg  string
	sigc chan os.Signal
	// housekeeping are the CPUs the generator is started on.
	housekeeping cpuset.Set
}

// run starts `rxprobe run`, waits until its loops run, starts the
// generator in the namespace and compares what was sent with what arrived.
// started tells whether the RX side came up (so a fallback makes no sense).
func (r runner) run() (started bool, err error) {
	ready := filepath.Join(r.tmp, "ready")
	genRep := filepath.Join(r.tmp, "gen.json")
	_ = os.Remove(r.o.Report) // a report left by an earlier demo is not this run's
	run := exec.Command(r.o.Self, "run", "--config", r.cfg, "--duration", r.o.Duration.String(), "--report", r.o.Report, "--ready-file", ready)
	run.Stdout, run.Stderr = os.Stdout, os.Stderr
	if err := run.Start(); err != nil {
		return false, err
	}
	runDone := make(chan error, 1)
	go func() { runDone <- run.Wait() }()

	deadline := time.After(60 * time.Second)
wait:
	for {
		select {
		case err := <-runDone:
			return false, fmt.Errorf("rxprobe run exited before its loops ran: %v", err)
		case <-r.sigc:
			_ = run.Process.Signal(syscall.SIGTERM)
			<-runDone
			return false, errors.New("interrupted")
		case <-deadline:
			_ = run.Process.Kill()
			<-runDone
			return false, errors.New("rxprobe run did not start within 60s")
		case <-time.After(50 * time.Millisecond):
			if _, err := os.Stat(ready); err == nil {
				break wait
			}
		}
	}
	genFor := r.o.Duration - 4*time.Second
	gen := exec.Command("ip", "netns", "exec", NS, r.o.Self, "gen", "--config", r.cfg, "--duration", genFor.String(), "--report", genRep)
	gen.Stdout, gen.Stderr = os.Stdout, io.Discard
	genErr := startOn(gen, r.housekeeping)
	genDone := make(chan error, 1)
	if genErr == nil {
		go func() { genDone <- gen.Wait() }()
	} else {
		genDone <- genErr
	}
	var runErr error
	for runDone != nil {
		select {
		case s := <-r.sigc:
			_ = run.Process.Signal(s)
			if gen.Process != nil {
				_ = gen.Process.Signal(s)
			}
		case genErr = <-genDone:
			genDone = nil
		case runErr = <-runDone:
			runDone = nil
		}
	}
	if genDone != nil {
		genErr = <-genDone
	}
	if runErr != nil {
		return true, fmt.Errorf("rxprobe run: %w", runErr)
	}
	if genErr != nil {
		return true, fmt.Errorf("rxprobe gen: %w", genErr)
	}
	var rr report.Report
	var gr struct {
		Sent uint64 `json:"sent"`
	}
	if err := readJSON(r.o.Report, &rr); err != nil {
		return true, err
	}
	if err := readJSON(genRep, &gr); err != nil {
		return true, err
	}
	fmt.Fprintln(r.o.Out, "demo: "+compare(gr.Sent, rr.RXPackets, rr.Ledger))
	return true, nil
}

// compare says how what arrived relates to what was sent and whether the
// drop ledger accounts for the difference.
func compare(sent, received uint64, ledger []report.LedgerEntry) string {
	lost := int64(sent) - int64(received)
	s := fmt.Sprintf("sent %d, received %d, difference %d", sent, received, lost)
	var total uint64
	var parts []string
	for _, l := range ledger {
		if l.AfterLoop { // received, then lost by capture: not in the difference
			continue
		}
		total += l.Drops
		if l.Drops > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", l.Layer, l.Drops))
		}
	}
	switch {
	case lost == 0:
		return s + ": nothing lost"
	case lost > 0 && uint64(lost) == total:
		return s + " = the drop ledger (" + strings.Join(parts, ", ") + ")"
	default:
		return fmt.Sprintf("%s; the drop ledger accounts for %d (%s)", s, total, strings.Join(parts, ", "))
	}
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// startOn starts cmd with its CPU affinity already set to cpus (all CPUs
// when cpus is empty). A process that once ran on an RX CPU stays in its
// memory's CPU mask there, so its later munmaps send TLB-shootdown IPIs to
// the RX CPU: the generator confines itself at start, but by then the
// Go runtime may have run on CPU 1. Children inherit the affinity of the
// thread that forks them, so the fork happens on a locked thread pinned to
// cpus, whose affinity is restored afterwards.
func startOn(cmd *exec.Cmd, cpus cpuset.Set) error {
	if cpus.IsEmpty() {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return cmd.Start()
	}
	want := cpus.UnixCPUSet()
	if err := unix.SchedSetaffinity(0, &want); err != nil {
		return cmd.Start()
	}
	defer func() { _ = unix.SchedSetaffinity(0, &old) }()
	return cmd.Start()
}
