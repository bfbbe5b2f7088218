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

	"github.com/rxprobe/rxprobe/isolation"
	"github.com/rxprobe/rxprobe/isolation/cpuset"
)

// DriftLine is one line `rxprobe watch` writes: a change since the last
// check that can move work onto the RX CPUs.
type DriftLine struct {
	At     time.Time `json:"at"`
	Detail string    `json:"detail"`
}

func init() {
	var (
		rxList, hkList, hostRoot string
		excludePID, parentPID    int
		interval                 time.Duration
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
			sigc := make(chan os.Signal, 1)
			signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
			t := time.NewTicker(interval)
			defer t.Stop()
			enc := json.NewEncoder(cmd.OutOrStdout())
			for {
				select {
				case <-sigc:
					return nil
				case <-t.C:
				}
				if parentPID > 0 && (unix.Kill(parentPID, 0) != nil || os.Getppid() != parentPID) {
					return nil
				}
				cur, err := isolation.TakeState(h, rx, hk, excludePID)
				if err != nil {
					continue
				}
				now := time.Now()
				for _, d := range isolation.Drift(prev, cur, rx) {
					if err := enc.Encode(DriftLine{At: now, Detail: d}); err != nil {
						return nil // the reader is gone
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
	rootCmd.AddCommand(cmd)
}
