package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/isolation"
	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/rx/config"
)

func init() {
	// EAL adopts the thread that calls rte_eal_init as its main lcore; every
	// later DPDK control call must come from that same thread. Commands run
	// on the main goroutine, so lock it to the main thread for good.
	runtime.LockOSThread()
	rootCmd.AddCommand(newRunCmd())
}

// warmup is how many status intervals pass before the steady-state heap
// measurement starts.
const warmup = 2

type runFlags struct {
	config    string
	hostRoot  string
	status    string
	readyFile string
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run --config FILE [--duration 10s] [--report out.json]",
		Short: "Poll the configured ports with C loops on the RX CPUs and report what arrived",
		Args:  cobra.NoArgs,
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.config, "config", "c", "", "YAML config file (see configs/)")
	fl.Duration("duration", 0, "stop after this long (0: until SIGINT/SIGTERM)")
	fl.String("report", "", "write the JSON report here")
	fl.Bool("allow-unisolated", false, "run even when preflight fails (development hosts)")
	fl.StringVar(&f.hostRoot, "host-root", "/", "read /proc and /sys under this root")
	fl.StringVar(&f.status, "status", "auto", "live status line: auto (when stdout is a terminal), always, never")
	fl.StringVar(&f.readyFile, "ready-file", "", "create this file once the loops run (removed at exit); for scripts and tests")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		v := config.NewViper()
		for key, name := range map[string]string{"run.duration": "duration", "run.report": "report", "run.allow_unisolated": "allow-unisolated"} {
			if err := v.BindPFlag(key, fl.Lookup(name)); err != nil {
				return usageError(err)
			}
		}
		if f.status != "auto" && f.status != "always" && f.status != "never" {
			return usageError(fmt.Errorf("--status %q: use auto, always or never", f.status))
		}
		cfg, host, err := loadConfig(f.config, f.hostRoot, v)
		if err != nil {
			return err
		}
		return runProbe(cmd.OutOrStdout(), cfg, host, f)
	}
	return cmd
}

// isTerminal reports whether fd is a terminal.
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// preflightGate runs the host checks; failures stop the run unless allowed.
func preflightGate(cfg *config.Config, host isolation.Host) ([]string, error) {
	spec := specOf(cfg, host)
	spec.ExcludePID = os.Getpid()
	rep := isolation.Run(host, spec)
	var failed []string
	for _, r := range rep.Results {
		if r.Status == isolation.StatusFail {
			failed = append(failed, r.ID)
		}
	}
	if len(failed) == 0 {
		return nil, nil
	}
	if !cfg.Run.AllowUnisolated {
		return nil, usageError(fmt.Errorf("preflight failed (%s): see `rxprobe preflight --config FILE` for remedies, or pass --allow-unisolated on a development host", strings.Join(failed, ", ")))
	}
	return []string{"unisolated: preflight failed " + strings.Join(failed, ", ") + " (--allow-unisolated)"}, nil
}

func runProbe(out io.Writer, cfg *config.Config, host isolation.Host, f runFlags) error {
	degraded, err := preflightGate(cfg, host)
	if err != nil {
		return err
	}
	// Catch signals before EAL starts so a SIGTERM during start-up still
	// ends in an orderly stop.
	sigc := make(chan os.Signal, 2)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigc)

	eng, err := rx.Open(cfg, rx.Options{HostRoot: host.Root})
	if err != nil {
		if errors.Is(err, rx.ErrHugepages) {
			return usageError(err)
		}
		return usageError(err)
	}
	eng.Degraded = append(eng.Degraded, degraded...)
	showStatus := f.status == "always" || (f.status == "auto" && isTerminal(1))
	tty := isTerminal(1)

	first, prev, cur, last := eng.NewSnapshot(), eng.NewSnapshot(), eng.NewSnapshot(), eng.NewSnapshot()
	statusBuf := make([]byte, 0, 512)
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	var deadline <-chan time.Time
	if cfg.Run.Duration > 0 {
		t := time.NewTimer(cfg.Run.Duration)
		defer t.Stop()
		deadline = t.C
	}
	var msBase, msEnd runtime.MemStats
	var baseAt time.Time
	ticks := 0

	// Everything the steady state needs is allocated; collect start-up
	// garbage and return it to the kernel now, then keep the collector off:
	// the loop below allocates nothing, and no GC cycle means no scavenger
	// madvise while the loops run.
	runtime.GC()
	debug.FreeOSMemory()
	gcPercent := debug.SetGCPercent(-1)

	eng.Snapshot(first)
	if err := eng.Start(); err != nil {
		debug.SetGCPercent(gcPercent)
		return errors.Join(usageError(err), eng.Close())
	}
	first.At = eng.Started
	prev.CopyFrom(first)
	fmt.Fprintf(os.Stderr, "rxprobe: running %d loop(s) on CPUs %s, housekeeping %s, file prefix %s\n",
		len(eng.Queues), cfg.RXCPUSet(), cfg.HousekeepingSet(), eng.Plan().Prefix)
	if f.readyFile != "" {
		if err := os.WriteFile(f.readyFile, []byte(eng.Plan().Prefix+"\n"), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "rxprobe: ready file: %v\n", err)
		}
		defer os.Remove(f.readyFile)
	}

loop:
	for {
		select {
		case <-ticker.C:
			eng.Snapshot(cur)
			ticks++
			if ticks == warmup {
				runtime.ReadMemStats(&msBase)
				baseAt = cur.At
			}
			if showStatus {
				statusBuf = statusBuf[:0]
				if tty {
					statusBuf = append(statusBuf, '\r')
				}
				statusBuf = rx.AppendStatus(statusBuf, eng.Started, prev, cur)
				if tty {
					statusBuf = append(statusBuf, "\x1b[K"...)
				} else {
					statusBuf = append(statusBuf, '\n')
				}
				_, _ = unix.Write(1, statusBuf)
			}
			prev, cur = cur, prev
		case <-sigc:
			break loop
		case <-deadline:
			break loop
		}
	}
	runtime.ReadMemStats(&msEnd)
	endAt := time.Now()
	eng.Stop()
	eng.Snapshot(last)
	debug.SetGCPercent(gcPercent)
	if showStatus && tty {
		fmt.Fprintln(out)
	}

	rep := eng.BuildReport(version, first, last)
	if !baseAt.IsZero() {
		rep.SteadyState = &rx.SteadyState{
			WindowS:     endAt.Sub(baseAt).Seconds(),
			Mallocs:     msEnd.Mallocs - msBase.Mallocs,
			HeapBytes:   msEnd.TotalAlloc - msBase.TotalAlloc,
			GCCycles:    msEnd.NumGC - msBase.NumGC,
			HeapSysDiff: int64(msEnd.HeapSys) - int64(msBase.HeapSys),
		}
	}
	closeErr := eng.Close()
	printSummary(out, rep)
	if cfg.Run.Report != "" {
		if err := rx.WriteReport(cfg.Run.Report, rep); err != nil {
			return errors.Join(failError(err), closeErr)
		}
		fmt.Fprintf(out, "report: %s\n", cfg.Run.Report)
	}
	if closeErr != nil {
		return failError(fmt.Errorf("stopping: %w", closeErr))
	}
	return nil
}

func printSummary(out io.Writer, r *rx.Report) {
	fmt.Fprintf(out, "rxprobe run: %.1f s, %d packets, %d bytes, %.3f Mpps, %d dropped\n", r.DurationS, r.RXPackets, r.RXBytes, r.RXMpps, r.RXDropped)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PORT\tDEVICE\tDRIVER\tNODE\tRX_PACKETS\tIMISSED\tIERRORS\tRX_NOMBUF\tKERNEL_DROPPED")
	for _, p := range r.Ports {
		kd := "-"
		if p.Kernel != nil {
			kd = fmt.Sprintf("%d (%s)", p.Kernel.RXDropped, p.Kernel.Iface)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", p.Name, p.Device, p.Driver, p.NUMANode, p.IPackets, p.IMissed, p.IErrors, p.RXNoMbuf, kd)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "QUEUE\tCPU\tRX_PACKETS\tMPPS\tPOLLS\tEMPTY%\tBUSY%\tMAX_GAP")
	for _, p := range r.Ports {
		for _, q := range p.Queues {
			empty := 0.0
			if q.Polls > 0 {
				empty = 100 * float64(q.EmptyPolls) / float64(q.Polls)
			}
			mpps := 0.0
			if r.DurationS > 0 {
				mpps = float64(q.RXPackets) / r.DurationS / 1e6
			}
			fmt.Fprintf(tw, "%s/%d\t%d\t%d\t%.3f\t%d\t%.1f\t%.1f\t%s\n", p.Name, q.ID, q.CPU, q.RXPackets, mpps, q.Polls, empty, 100*q.BusyFraction, rx.AppendDuration(nil, q.MaxGapNs))
		}
	}
	tw.Flush()
	if r.SteadyState != nil {
		fmt.Fprintf(out, "go heap, steady state: %d allocations, %d bytes, %d GC cycles over %.1f s\n",
			r.SteadyState.Mallocs, r.SteadyState.HeapBytes, r.SteadyState.GCCycles, r.SteadyState.WindowS)
	}
	for _, d := range r.Degraded {
		fmt.Fprintf(out, "degraded: %s\n", d)
	}
}
