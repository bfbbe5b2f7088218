package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/run"
	"github.com/rxprobe/rxprobe/internal/run/report"
	"github.com/rxprobe/rxprobe/rx/config"
)

func init() {
	// EAL adopts the thread that calls rte_eal_init as its main lcore; every
	// later DPDK control call must come from that same thread. Commands run
	// on the main goroutine, so lock it to the main thread for good.
	runtime.LockOSThread()
	rootCmd.AddCommand(newRunCmd())
}

type runFlags struct {
	config    string
	hostRoot  string
	status    string
	readyFile string
	debug     run.Debug
	trial     trialAPIFlags
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
	fl.String("metrics-addr", "", "exporter address (default stats.metrics_addr, 127.0.0.1:9470)")
	fl.Bool("no-exporter", false, "do not start the Prometheus exporter process")
	fl.Duration("stats-interval", 0, "stats sampling interval (default stats.interval, 1s)")
	fl.String("capture-dir", "", "capture every RX queue to pcapng files in this directory (capture.dir; turns capture on)")
	fl.Bool("latency", false, "record the one-way latency of frames stamped by `rxprobe gen --latency` on the same host, per queue (run.latency)")
	fl.String("capture-filter", "", "tcpdump expression selecting the packets to capture (capture.filter)")
	f.trial.register(cmd, "")
	fl.BoolVar(&f.debug.StdioReads, "debug-stdio-reads", false, "benchmark only: map and unmap a page per kernel file read, as glibc stdio did")
	_ = fl.MarkHidden("debug-stdio-reads")
	fl.BoolVar(&f.debug.NoStats, "debug-no-stats", false, "benchmark only: no stats thread, no exporter (the observer benchmark's baseline)")
	_ = fl.MarkHidden("debug-no-stats")
	fl.BoolVar(&f.debug.InProcessMetrics, "metrics-inprocess", false, "benchmark only: serve /metrics from inside the RX process, GC on (shows why the exporter is a separate process)")
	_ = fl.MarkHidden("metrics-inprocess")
	fl.IntVar(&f.debug.MunmapHz, "debug-munmap-hz", 0, "test only: a thread of the RX process maps and unmaps a page this many times a second (a planted fault)")
	_ = fl.MarkHidden("debug-munmap-hz")
	fl.DurationVar(&f.debug.CaptureSlowWriter, "debug-capture-slow-writer", 0, "test only: capture writers sleep this long after every burst")
	_ = fl.MarkHidden("debug-capture-slow-writer")
	fl.Uint64Var(&f.debug.RXPacePPS, "debug-rx-pace-pps", 0, "test only: net_null RX loops ask for at most this many packets a second (a rate-controlled source)")
	_ = fl.MarkHidden("debug-rx-pace-pps")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		v := config.NewViper()
		for key, name := range map[string]string{"run.duration": "duration", "run.report": "report",
			"run.allow_unisolated": "allow-unisolated", "stats.interval": "stats-interval", "stats.metrics_addr": "metrics-addr",
			"capture.dir": "capture-dir", "capture.filter": "capture-filter", "run.latency": "latency"} {
			if fl.Changed(name) {
				if err := v.BindPFlag(key, fl.Lookup(name)); err != nil {
					return usageError(err)
				}
			}
		}
		if fl.Changed("capture-dir") {
			v.Set("capture.enabled", true)
		}
		if fl.Changed("no-exporter") {
			v.Set("stats.exporter", false)
		}
		if f.status != "auto" && f.status != "always" && f.status != "never" {
			return usageError(fmt.Errorf("--status %q: use auto, always or never", f.status))
		}
		if err := f.trial.check(f.debug.NoStats); err != nil {
			return usageError(err)
		}
		cfg, host, err := loadConfig(f.config, f.hostRoot, v)
		if err != nil {
			return err
		}
		tty := isTerminal(1)
		o := run.Options{HostRoot: host.Root(), StatusFD: -1, StatusTTY: tty, ReadyFile: f.readyFile,
			Build: run.Build{Version: version, Commit: commit}, Debug: f.debug,
			TrialAPI: run.TrialAPI{Addr: f.trial.addr, Public: f.trial.public, TokenFile: f.trial.tokenFile}}
		if f.status == "always" || (f.status == "auto" && tty) {
			o.StatusFD = 1
		}
		// SIGINT and SIGTERM end the run in order; caught before EAL starts,
		// so that one arriving during start-up does too.
		ctx, stop := signalContext()
		defer stop()
		rep, err := run.Run(ctx, cfg, o)
		if rep == nil {
			return usageError(err)
		}
		out := cmd.OutOrStdout()
		report.WriteSummary(out, rep)
		if cfg.Run.Report != "" {
			if werr := report.Write(cfg.Run.Report, rep); werr != nil {
				return errors.Join(failError(werr), err)
			}
			fmt.Fprintf(out, "report: %s\n", cfg.Run.Report)
		}
		if err != nil {
			return failError(fmt.Errorf("stopping: %w", err))
		}
		return nil
	}
	return cmd
}

// signalContext returns a context cancelled on SIGINT or SIGTERM, and the
// function that stops listening. Unlike signal.NotifyContext it allocates
// nothing when the signal arrives (NotifyContext builds an error naming
// the signal), which would show in the run's steady-state heap figures.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigc := make(chan os.Signal, 2)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case <-sigc:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(sigc); cancel() }
}

// isTerminal reports whether fd is a terminal.
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}
