package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/internal/parent"
	"github.com/rxprobe/rxprobe/isolation"
)

func init() {
	rootCmd.AddCommand(newWatchCmd())
}

type watchFlags struct {
	rxList, hkList, hostRoot string
	excludePID, parentPID    int
	interval                 time.Duration
	trace, logStderr         bool
	outPath                  string
}

func newWatchCmd() *cobra.Command {
	var f watchFlags
	cmd := &cobra.Command{
		Use:   "watch --rx-cpus LIST [--housekeeping LIST] [--interval 10s]",
		Short: "Report isolation drift: IRQs, pinned tasks, irqbalance and page movers that change under a running probe",
		Long: `watch re-checks, every interval, what can move work onto the RX CPUs after
start-up: IRQ affinities, tasks pinned toward the RX CPUs, irqbalance and its
banned list, THP, NUMA balancing and KSM. It prints one JSON line per change.
'rxprobe run' starts it as a child process (a separate address space: its
/proc scans allocate freely) and folds its lines into the guard's events.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runWatch(cmd.OutOrStdout(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.rxList, "rx-cpus", "", "RX CPUs (cpulist)")
	fl.StringVar(&f.hkList, "housekeeping", "", "housekeeping CPUs (default: every other online CPU)")
	fl.DurationVar(&f.interval, "interval", 10*time.Second, "how often to re-check")
	fl.IntVar(&f.excludePID, "exclude-pid", 0, "leave this process (rxprobe run) out of the pinned-task check")
	fl.IntVar(&f.parentPID, "parent-pid", 0, "exit when this process is gone")
	fl.StringVar(&f.hostRoot, "host-root", "/", "read /proc and /sys under this root")
	fl.BoolVar(&f.trace, "trace", false, "also run the flight recorder: name who sends IPIs to the RX CPUs (root, tracefs)")
	fl.StringVar(&f.outPath, "out", "", "append the JSON lines to this file instead of stdout")
	fl.BoolVar(&f.logStderr, "log", false, "also print each line for people on stderr")
	return cmd
}

func runWatch(out io.Writer, f watchFlags) error {
	o := isolation.WatchOptions{Host: hostfs.New(f.hostRoot), Interval: f.interval, ExcludePID: f.excludePID, Trace: f.trace}
	var err error
	if o.RX, err = cpuset.Parse(f.rxList); err != nil || o.RX.IsEmpty() {
		return usageError(fmt.Errorf("--rx-cpus %q: give the RX CPUs as a cpulist (e.g. 1 or 2-9)", f.rxList))
	}
	if o.Housekeeping, err = cpuset.Parse(f.hkList); err != nil {
		return usageError(fmt.Errorf("--housekeeping %q: %v", f.hkList, err))
	}
	if o.Housekeeping.IsEmpty() {
		online, err := o.Host.OnlineCPUs()
		if err != nil {
			return usageError(err)
		}
		o.Housekeeping = online.Difference(o.RX)
	}
	if f.interval < time.Second {
		return usageError(fmt.Errorf("--interval %v: at least 1s", f.interval))
	}
	if f.outPath != "" {
		file, err := os.OpenFile(f.outPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return usageError(fmt.Errorf("--out: %w", err))
		}
		defer file.Close()
		out = file
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, unwatch := parent.Watch(ctx, f.parentPID)
	defer unwatch()
	enc := json.NewEncoder(out)
	emit := func(l isolation.DriftLine) error {
		if f.logStderr {
			logDriftLine(l)
		}
		return enc.Encode(l)
	}
	if err := isolation.Watch(ctx, o, emit); err != nil {
		return usageError(err)
	}
	return nil
}

// logDriftLine prints a readable copy of a line on stderr: the RX process
// leaves the printing to its watcher, so that nothing arrives in the RX
// process while it runs.
func logDriftLine(l isolation.DriftLine) {
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
