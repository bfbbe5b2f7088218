package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unsafe"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/isolation"
	"github.com/rxprobe/rxprobe/isolation/guard"
	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/rx/config"
	"github.com/rxprobe/rxprobe/stats/exporter"
	"github.com/rxprobe/rxprobe/stats/sampler"
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
	config     string
	hostRoot   string
	status     string
	readyFile  string
	stdioReads bool
	noStats    bool
	inProcess  bool
	munmapHz   int
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
	fl.BoolVar(&f.stdioReads, "debug-stdio-reads", false, "benchmark only: map and unmap a page per kernel file read, as glibc stdio did")
	_ = fl.MarkHidden("debug-stdio-reads")
	fl.BoolVar(&f.noStats, "debug-no-stats", false, "benchmark only: no stats thread, no exporter (the observer benchmark's baseline)")
	_ = fl.MarkHidden("debug-no-stats")
	fl.BoolVar(&f.inProcess, "metrics-inprocess", false, "benchmark only: serve /metrics from inside the RX process, GC on (shows why the exporter is a separate process)")
	_ = fl.MarkHidden("metrics-inprocess")
	fl.IntVar(&f.munmapHz, "debug-munmap-hz", 0, "test only: a thread of the RX process maps and unmaps a page this many times a second (a planted fault)")
	_ = fl.MarkHidden("debug-munmap-hz")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		v := config.NewViper()
		for key, name := range map[string]string{"run.duration": "duration", "run.report": "report",
			"run.allow_unisolated": "allow-unisolated", "stats.interval": "stats-interval", "stats.metrics_addr": "metrics-addr"} {
			if fl.Changed(name) {
				if err := v.BindPFlag(key, fl.Lookup(name)); err != nil {
					return usageError(err)
				}
			}
		}
		if fl.Changed("no-exporter") {
			v.Set("stats.exporter", false)
		}
		if f.status != "auto" && f.status != "always" && f.status != "never" {
			return usageError(fmt.Errorf("--status %q: use auto, always or never", f.status))
		}
		if err := f.checkDebug(); err != nil {
			return usageError(err)
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
		return usageError(err)
	}
	eng.Degraded = append(eng.Degraded, degraded...)
	eng.Degraded = append(eng.Degraded, f.debugDegraded()...)
	tty := isTerminal(1)
	statusFD := -1
	if f.status == "always" || (f.status == "auto" && tty) {
		statusFD = 1
	}

	var drift *driftWatcher
	if !f.noStats && (cfg.Guard.DriftInterval > 0 || cfg.Guard.Attribution) {
		drift = startDriftWatcher(cfg, host)
	}

	// The stats thread: its own locked OS thread, first sample taken now,
	// before the loops run, so that nothing it needs is created later.
	var smp *sampler.Sampler
	if !f.noStats {
		smp, err = sampler.New(eng, sampler.Options{HostRoot: host.Root, Interval: cfg.Stats.Interval,
			ShmDir: cfg.Stats.ShmDir, Prefix: eng.Plan().Prefix, StatusFD: statusFD, StatusTTY: tty,
			StdioReads: f.stdioReads, Guard: guardOptions(cfg, host), EventFD: 2,
			Build: map[string]string{"version": version, "commit": commit, "goversion": runtime.Version(), "dpdk": rx.DPDKVersion()}})
		if err != nil {
			return errors.Join(usageError(err), eng.Close())
		}
		if err := smp.Start(); err != nil {
			fmt.Fprintf(os.Stderr, "rxprobe: stats: %v (continuing)\n", err)
		}
	}
	exp := &exporterChild{}
	var inproc *inprocExporter
	switch {
	case f.noStats:
	case f.inProcess:
		if inproc, err = startInprocExporter(cfg, eng.Plan().Prefix); err != nil {
			fmt.Fprintf(os.Stderr, "rxprobe: in-process exporter: %v\n", err)
		}
	default:
		exp = startExporter(cfg, eng.Plan().Prefix)
	}

	first, last := eng.NewSnapshot(), eng.NewSnapshot()
	var deadline <-chan time.Time
	if cfg.Run.Duration > 0 {
		t := time.NewTimer(cfg.Run.Duration)
		defer t.Stop()
		deadline = t.C
	}
	warm := time.NewTimer(warmup * time.Second)
	defer warm.Stop()
	var msBase, msEnd runtime.MemStats
	var baseAt time.Time

	// Everything the steady state needs is allocated; collect start-up
	// garbage and return it to the kernel now, then keep the collector off:
	// nothing below allocates, and no GC cycle means no scavenger madvise
	// while the loops run.
	runtime.GC()
	debug.FreeOSMemory()
	gcPercent := debug.SetGCPercent(-1)
	// Lock and populate every page now: a page first read (mapped to the
	// shared zero page) and later written is replaced, and replacing a
	// page flushes the TLB of every CPU running the process — RX CPUs
	// included. mlockall populates private pages writable from the start.
	if err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE); err != nil {
		eng.Degraded = append(eng.Degraded, "pages not locked (mlockall: "+err.Error()+"): first writes may shoot down RX CPU TLBs")
	}
	if inproc != nil {
		// The in-process exporter allocates per scrape: it needs the GC,
		// and the scavenger that comes with it. That is what it shows.
		debug.SetGCPercent(gcPercent)
	}

	stopAll := func() error {
		var serr error
		if smp != nil {
			serr = smp.Stop()
		}
		eng.Stop()
		return serr
	}
	// Counters before the loops start: the report is the run's delta.
	eng.Snapshot(first)
	if err := eng.Start(); err != nil {
		debug.SetGCPercent(gcPercent)
		_ = stopAll()
		exp.stop()
		return errors.Join(usageError(err), closeSampler(smp), eng.Close())
	}
	if smp != nil {
		smp.LaunchTSC(rx.TSC())
	}
	if f.munmapHz > 0 {
		go plantMunmapFault(f.munmapHz)
	}
	first.At = eng.Started
	fmt.Fprintf(os.Stderr, "rxprobe: running %d loop(s) on CPUs %s, housekeeping %s, file prefix %s\n",
		len(eng.Queues), cfg.RXCPUSet(), cfg.HousekeepingSet(), eng.Plan().Prefix)
	if inproc != nil {
		fmt.Fprintf(os.Stderr, "rxprobe: metrics at http://%s/metrics (in-process: benchmark only)\n", inproc.srv.Addr())
	}
	if exp.addr != "" {
		fmt.Fprintf(os.Stderr, "rxprobe: metrics at http://%s/metrics (exporter pid %d)\n", exp.addr, exp.cmd.Process.Pid)
	}
	if f.readyFile != "" {
		if err := os.WriteFile(f.readyFile, []byte(eng.Plan().Prefix+"\n"), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "rxprobe: ready file: %v\n", err)
		}
		defer os.Remove(f.readyFile)
	}

loop:
	for {
		select {
		case <-warm.C:
			runtime.ReadMemStats(&msBase)
			baseAt = time.Now()
		case <-exp.exited:
			fmt.Fprintf(os.Stderr, "\nrxprobe: the exporter exited (%v); the probe goes on without /metrics\n", exp.err)
			exp.exited = nil
		case <-sigc:
			break loop
		case <-deadline:
			break loop
		}
	}
	runtime.ReadMemStats(&msEnd)
	endAt := time.Now()
	statsErr := stopAll()
	if smp != nil {
		_ = smp.Final()
	}
	eng.Snapshot(last)
	debug.SetGCPercent(gcPercent)
	_ = unix.Munlockall()
	if statusFD >= 0 && tty {
		fmt.Fprintln(out)
	}
	exp.stop()
	inproc.stop()
	driftEvents := drift.stop()

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
	if statsErr != nil {
		rep.Degraded = append(rep.Degraded, "stats: "+statsErr.Error())
	}
	if smp != nil {
		rep.AddGuard(smp.Guard())
	}
	drift.annotate(rep.Events, eng.Started)
	rep.Events = append(rep.Events, driftEvents...)
	if drift != nil {
		for _, n := range drift.notes {
			rep.Degraded = append(rep.Degraded, n)
		}
	}
	closeErr := errors.Join(closeSampler(smp), eng.Close())
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

// plantMunmapFault is the test-only planted fault: a thread of the RX
// process that maps, touches and unmaps a page at hz, as stdio's fclose
// did. Each munmap is a TLB shootdown on every CPU running a thread of the
// process — the RX CPUs included. Its thread is named "rxp-munmap".
func plantMunmapFault(hz int) {
	runtime.LockOSThread()
	sampler.SetThreadName("rxp-munmap")
	t := time.NewTicker(time.Second / time.Duration(hz))
	for range t.C {
		addr, _, errno := syscall.Syscall6(syscall.SYS_MMAP, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE,
			syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS, ^uintptr(0), 0)
		if errno != 0 {
			continue
		}
		*(*byte)(unsafe.Add(unsafe.Pointer(nil), addr)) = 1
		syscall.Syscall(syscall.SYS_MUNMAP, addr, 4096, 0)
	}
}

// guardOptions turns the config's guard section into the stats thread's.
func guardOptions(cfg *config.Config, host isolation.Host) *sampler.GuardOptions {
	o := &sampler.GuardOptions{HZ: cfg.Guard.HZ, Limits: cfg.Guard.Limits, GapNs: uint64(cfg.Guard.GapThresholdUs * 1000)}
	if b, err := os.ReadFile(filepath.Join(hostRootOr(host.Root), "sys/devices/system/cpu/nohz_full")); err == nil {
		o.NohzFull, _ = cpuset.Parse(strings.TrimSpace(strings.ReplaceAll(string(b), "(null)", "")))
	}
	return o
}

func hostRootOr(r string) string {
	if r == "" {
		return "/"
	}
	return r
}

func closeSampler(s *sampler.Sampler) error {
	if s == nil {
		return nil
	}
	return s.Close()
}

// inprocExporter serves /metrics from inside the RX process. It exists for
// the observer benchmark only: its allocations, GC and scavenger run in the
// RX process's address space, which is exactly what the separate exporter
// process avoids.
type inprocExporter struct {
	srv    *exporter.Server
	col    *exporter.Collector
	cancel context.CancelFunc
}

func startInprocExporter(cfg *config.Config, prefix string) (*inprocExporter, error) {
	col, err := exporter.NewCollector(exporter.Options{Dir: cfg.Stats.ShmDir, Prefix: prefix})
	if err != nil {
		return nil, err
	}
	h, err := exporter.NewHandler(col, exporter.HandlerOptions{})
	if err != nil {
		col.Close()
		return nil, err
	}
	srv, err := exporter.Listen(cfg.Stats.MetricsAddr, h)
	if err != nil {
		col.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = srv.Serve(ctx) }()
	return &inprocExporter{srv: srv, col: col, cancel: cancel}, nil
}

func (e *inprocExporter) stop() {
	if e == nil {
		return
	}
	e.cancel()
	_ = e.srv.Close()
	e.col.Close()
}

// driftWatcher is the `rxprobe watch` child: its /proc scans and the
// flight recorder allocate, so they run in another process. It prints its
// findings itself and appends them to a file the RX process reads only
// after the loops stopped: nothing arrives in the RX process while it runs.
type driftWatcher struct {
	cmd    *exec.Cmd
	path   string
	events []guard.Event
	attrib []DriftLine
	notes  []string
	exited chan struct{}
}

func startDriftWatcher(cfg *config.Config, host isolation.Host) *driftWatcher {
	self, err := os.Executable()
	if err != nil {
		return nil
	}
	interval := cfg.Guard.DriftInterval
	if interval == 0 {
		interval = 1000 * time.Hour // attribution only
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("rxprobe-watch-%d.jsonl", os.Getpid()))
	_ = os.Remove(path)
	cmd := exec.Command(self, "watch", "--rx-cpus", cfg.RXCPUSet().String(), "--housekeeping", cfg.HousekeepingSet().String(),
		"--interval", interval.String(), "--exclude-pid", strconv.Itoa(os.Getpid()),
		"--parent-pid", strconv.Itoa(os.Getpid()), "--host-root", hostRootOr(host.Root),
		"--trace="+strconv.FormatBool(cfg.Guard.Attribution), "--out", path, "--log")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "rxprobe: drift watcher: %v (continuing without it)\n", err)
		return nil
	}
	w := &driftWatcher{cmd: cmd, path: path, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(w.exited) }()
	// Enabling tracepoints patches kernel text, which interrupts every CPU:
	// the loops start once the watcher says it is ready.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), `"kind":"ready"`) {
			return w
		}
		select {
		case <-w.exited:
			fmt.Fprintln(os.Stderr, "rxprobe: drift watcher exited at start (continuing without it)")
			return w
		case <-time.After(20 * time.Millisecond):
		}
	}
	fmt.Fprintln(os.Stderr, "rxprobe: drift watcher not ready after 10s (continuing)")
	return w
}

// annotate gives each interrupt event of the guard the flight recorder's
// sentences about the same CPU, from the recorder's window that overlaps
// the event's second most (the two tick once a second, independently), and
// only the sentences about that kind of interrupt. Windows that began
// before the loops were launched describe start-up (waking the worker
// lcores is itself an IPI to each RX CPU) and are not used.
func (w *driftWatcher) annotate(events []guard.Event, launched time.Time) {
	if w == nil {
		return
	}
	for i := range events {
		e := &events[i]
		var want []string
		switch e.Kind {
		case "TLB":
			want = []string{"TLB shootdown"}
		case "CAL":
			want = []string{"function call", "TLB shootdown"}
		case "RES":
			want = []string{"reschedule"}
		default:
			continue
		}
		var window time.Time
		var parts []string
		for _, a := range w.attrib {
			d := a.At.Sub(e.At)
			if a.CPU != e.CPU || d <= -500*time.Millisecond || d > 500*time.Millisecond || a.At.Add(-time.Second).Before(launched) {
				continue
			}
			if window.IsZero() {
				window = a.At
			}
			if !a.At.Equal(window) {
				break
			}
			for _, k := range want {
				if strings.Contains(a.Detail, k) && len(parts) < 3 {
					parts = append(parts, a.Detail)
					break
				}
			}
		}
		if len(parts) > 0 {
			e.Detail = strings.Join(parts, "; ")
		}
	}
}

// stop ends the watcher, reads what it found and removes its file. It
// returns the drift events.
func (w *driftWatcher) stop() []guard.Event {
	if w == nil {
		return nil
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(2 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
	f, err := os.Open(w.path)
	if err == nil {
		dec := json.NewDecoder(f)
		for {
			var l DriftLine
			if dec.Decode(&l) != nil {
				break
			}
			switch l.Kind {
			case "attribution":
				w.attrib = append(w.attrib, l)
			case "note":
				w.notes = append(w.notes, l.Detail)
			case "drift":
				w.events = append(w.events, guard.Event{At: l.At, Kind: "drift", CPU: -1, Port: -1, Queue: -1, Detail: l.Detail})
			}
		}
		f.Close()
	}
	_ = os.Remove(w.path)
	return w.events
}

// exporterChild is the `rxprobe exporter` process serving the run's segment.
type exporterChild struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}
	err    error
}

// startExporter starts the exporter as a separate process: its garbage
// collector, scavenger and HTTP buffers live in another address space and
// cannot shoot down the RX CPUs' TLBs. A failure to start is reported and
// the run goes on.
func startExporter(cfg *config.Config, prefix string) *exporterChild {
	e := &exporterChild{}
	if !cfg.Stats.Exporter {
		return e
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "rxprobe: exporter: %v (continuing without /metrics)\n", err)
		return e
	}
	cmd := exec.Command(self, "exporter", "--attach", prefix, "--shm-dir", cfg.Stats.ShmDir,
		"--metrics-addr", cfg.Stats.MetricsAddr, "--parent-pid", strconv.Itoa(os.Getpid()))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "rxprobe: exporter: %v (continuing without /metrics)\n", err)
		return e
	}
	e.cmd, e.addr, e.exited = cmd, cfg.Stats.MetricsAddr, make(chan struct{})
	go func() { e.err = cmd.Wait(); close(e.exited) }()
	return e
}

// stop ends the exporter and waits for it (at most 2 s).
func (e *exporterChild) stop() {
	if e.cmd == nil {
		return
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	done := e.exited
	if done == nil {
		return // already gone
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		_ = e.cmd.Process.Kill()
		<-done
	}
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
	if len(r.Ledger) > 0 {
		var total uint64
		for _, l := range r.Ledger {
			total += l.Drops
		}
		if total == 0 {
			fmt.Fprintln(out, "drop ledger: no drops in any layer")
		} else {
			fmt.Fprintln(out, "drop ledger:")
			for _, l := range r.Ledger {
				if l.Drops > 0 {
					fmt.Fprintf(out, "  %-14s %12d  %s\n", l.Layer, l.Drops, l.Why)
				}
			}
		}
	}
	if n := len(r.Events) + r.EventsLost; n > 0 {
		fmt.Fprintf(out, "jitter guard: %d event(s)", n)
		counts := map[string]int{}
		var kinds []string
		for _, e := range r.Events {
			if counts[e.Kind] == 0 {
				kinds = append(kinds, e.Kind)
			}
			counts[e.Kind]++
		}
		for _, k := range kinds {
			fmt.Fprintf(out, ", %s %d", k, counts[k])
		}
		fmt.Fprintln(out)
		for i, e := range r.Events {
			if i == 5 {
				fmt.Fprintf(out, "  ... %d more in the report\n", len(r.Events)-5)
				break
			}
			fmt.Fprintf(out, "  %s %s\n", e.At.Format("15:04:05"), describeEvent(e))
		}
	} else if r.Timeline != nil {
		fmt.Fprintln(out, "jitter guard: no event")
	}
	for _, d := range r.Degraded {
		fmt.Fprintf(out, "degraded: %s\n", d)
	}
}

// describeEvent is one guard event in words.
func describeEvent(e guard.Event) string {
	var s string
	if e.Kind == "gap" {
		s = fmt.Sprintf("cpu %d: loop gap %s on port %d queue %d (threshold %s)", e.CPU,
			rx.AppendDuration(nil, e.Count), e.Port, e.Queue, rx.AppendDuration(nil, uint64(e.Limit)))
	} else {
		s = fmt.Sprintf("cpu %d: %d %s in 1 s, expected at most %g", e.CPU, e.Count, e.Kind, e.Limit)
		if e.IRQ != "" {
			s += " (irq " + e.IRQ + ")"
		}
	}
	if e.Detail != "" {
		d, _, _ := strings.Cut(e.Detail, "; ")
		if _, rest, ok := strings.Cut(d, " in 1.0 s, "); ok && e.Kind != "drift" {
			d = rest // "sent by ..." — the count is already said
		}
		s += " — " + d
	}
	return s
}
