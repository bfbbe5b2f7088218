package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/isolation"
	"github.com/rxprobe/rxprobe/isolation/tracer"
)

// DriftLine is one line `rxprobe watch` writes: a change since the last
// check that can move work onto the RX CPUs (Kind "drift"), who sent the
// IPIs an RX CPU took in the last second (Kind "attribution", CPU set), or
// a note such as "attribution unavailable: no tracefs" (Kind "note").
type DriftLine struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	CPU    int       `json:"cpu"`
	Detail string    `json:"detail"`
}

func init() {
	var (
		rxList, hkList, hostRoot string
		excludePID, parentPID    int
		interval                 time.Duration
		trace, logStderr         bool
		outPath                  string
	)
	cmd := &cobra.Command{
		Use:   "watch --rx-cpus LIST [--housekeeping LIST] [--interval 10s]",
		Short: "Report isolation drift: IRQs, pinned tasks, irqbalance and page movers that change under a running probe",
		Long: `watch re-checks, every interval, what can move work onto the RX CPUs after
start-up: IRQ affinities, tasks pinned toward the RX CPUs, irqbalance and its
banned list, THP, NUMA balancing and KSM. It prints one JSON line per change.
'rxprobe run' starts it as a child process (a separate address space: its
/proc scans allocate freely) and folds its lines into the guard's events.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rx, err := cpuset.Parse(rxList)
			if err != nil || rx.IsEmpty() {
				return usageError(fmt.Errorf("--rx-cpus %q: give the RX CPUs as a cpulist (e.g. 1 or 2-9)", rxList))
			}
			h := isolation.Host{Root: hostRoot}
			hk, err := cpuset.Parse(hkList)
			if err != nil {
				return usageError(fmt.Errorf("--housekeeping %q: %v", hkList, err))
			}
			if hk.IsEmpty() {
				online, err := h.OnlineCPUs()
				if err != nil {
					return usageError(err)
				}
				hk = online.Difference(rx)
			}
			if interval < time.Second {
				return usageError(fmt.Errorf("--interval %v: at least 1s", interval))
			}
			prev, err := isolation.TakeState(h, rx, hk, excludePID)
			if err != nil {
				return usageError(err)
			}
			out := cmd.OutOrStdout()
			if outPath != "" {
				f, err := os.OpenFile(outPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
				if err != nil {
					return usageError(fmt.Errorf("--out: %w", err))
				}
				defer f.Close()
				out = f
			}
			enc := &lineWriter{enc: json.NewEncoder(out), log: logStderr}
			// The flight recorder lives here, not in the RX process: its
			// reads and allocations fault pages in, and a fault that replaces
			// a page flushes the TLB of every CPU running the process.
			var rec *tracer.Recorder
			var win tracer.Window
			if trace {
				pid := excludePID
				if pid == 0 {
					pid = os.Getpid()
				}
				rec, err = tracer.Open(tracer.Options{CPUs: rx, PID: pid, Instance: fmt.Sprintf("rxprobe-%d", os.Getpid())})
				if err != nil {
					_ = enc.Encode(DriftLine{At: time.Now(), Kind: "note", CPU: -1, Detail: err.Error()})
					rec = nil
				} else {
					defer rec.Close()
				}
			}
			// Enabling tracepoints patches kernel text, which interrupts every
			// CPU: say when that is over, so the loops start after it.
			_ = enc.Encode(DriftLine{At: time.Now(), Kind: "ready", CPU: -1})
			sigc := make(chan os.Signal, 1)
			signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
			second := time.NewTicker(time.Second)
			defer second.Stop()
			next := time.Now().Add(interval)
			last := time.Now()
			for {
				select {
				case <-sigc:
					return nil
				case <-second.C:
				}
				if parentPID > 0 && (unix.Kill(parentPID, 0) != nil || os.Getppid() != parentPID) {
					return nil
				}
				now := time.Now()
				if rec != nil {
					if err := rec.Collect(&win); err == nil {
						for _, cpu := range rx.List() {
							for i, s := range win.Summary(cpu, now.Sub(last).Seconds()) {
								if i == 3 {
									break
								}
								if err := enc.Encode(DriftLine{At: now, Kind: "attribution", CPU: cpu, Detail: s}); err != nil {
									return nil // the reader is gone
								}
							}
						}
					}
					win.Reset()
				}
				last = now
				if now.Before(next) {
					continue
				}
				next = now.Add(interval)
				cur, err := isolation.TakeState(h, rx, hk, excludePID)
				if err != nil {
					continue
				}
				for _, d := range isolation.Drift(prev, cur, rx) {
					if err := enc.Encode(DriftLine{At: now, Kind: "drift", CPU: -1, Detail: d}); err != nil {
						return nil
					}
				}
				prev = cur
			}
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&rxList, "rx-cpus", "", "RX CPUs (cpulist)")
	fl.StringVar(&hkList, "housekeeping", "", "housekeeping CPUs (default: every other online CPU)")
	fl.DurationVar(&interval, "interval", 10*time.Second, "how often to re-check")
	fl.IntVar(&excludePID, "exclude-pid", 0, "leave this process (rxprobe run) out of the pinned-task check")
	fl.IntVar(&parentPID, "parent-pid", 0, "exit when this process is gone")
	fl.StringVar(&hostRoot, "host-root", "/", "read /proc and /sys under this root")
	fl.BoolVar(&trace, "trace", false, "also run the flight recorder: name who sends IPIs to the RX CPUs (root, tracefs)")
	fl.StringVar(&outPath, "out", "", "append the JSON lines to this file instead of stdout")
	fl.BoolVar(&logStderr, "log", false, "also print each line for people on stderr")
	rootCmd.AddCommand(cmd)
}

// lineWriter writes DriftLines as JSON and, if asked, a readable copy to
// stderr (the RX process leaves the printing to its watcher, so that
// nothing arrives in the RX process while it runs).
type lineWriter struct {
	enc *json.Encoder
	log bool
}

// Encode writes one line.
func (w *lineWriter) Encode(l DriftLine) error {
	if w.log {
		// On a terminal, erase the run's live status line first (it has no
		// newline); elsewhere the lines follow each other.
		erase := ""
		if isTerminal(2) {
			erase = "\r\x1b[K"
		}
		switch l.Kind {
		case "drift":
			fmt.Fprintf(os.Stderr, "%srxprobe guard: drift: %s\n", erase, l.Detail)
		case "attribution", "note":
			fmt.Fprintf(os.Stderr, "%srxprobe guard: %s\n", erase, l.Detail)
		}
	}
	return w.enc.Encode(l)
}
