package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// result is one run of one scenario.
type result struct {
	Scenario  string
	Round     int
	Window    time.Duration // from the first to the second /proc/interrupts read
	IRQ       irqCounts     // per-row deltas on the RX CPU over Window
	Trace     *tlbCounts    // nil without -trace
	TraceLost uint64
	Fig       runFigures
	Scrapes   scrapeStats
	Load1     float64
	Addr      string // where the scraper went
	// OnCPU is the share of the window the loop's thread was on a CPU
	// (schedstat); below 1 another task ran on the RX CPU. 0: unknown.
	OnCPU float64
}

// perMin is row id's rate over the window, per minute.
func (r result) perMin(id string) float64 {
	return perMinute(r.IRQ[id], r.Window)
}

func (r result) allPerMin() float64 { return perMinute(r.IRQ.sum(), r.Window) }

func perMinute(n uint64, w time.Duration) float64 {
	if w <= 0 {
		return 0
	}
	return float64(n) / w.Minutes()
}

// measure pins the bench to the housekeeping CPU and runs the rounds,
// printing a line per run as it goes.
func measure(ctx context.Context, s settings, log io.Writer) (benchkit.Outcome, error) {
	var none benchkit.Outcome
	if err := pinProcess(s.Housekeeping); err != nil {
		return none, err
	}
	if err := benchkit.Preflight(s.CPU, s.Housekeeping, "build it: make build", s.Rxprobe); err != nil {
		return none, err
	}
	if _, err := os.Stat(s.Config); err != nil {
		return none, err
	}
	if _, err := readInterrupts(s.CPU); err != nil {
		return none, err
	}
	var tr *tlbTrace
	if s.Trace {
		var err error
		if tr, err = newTLBTrace(fmt.Sprintf("benchobserver-%d", os.Getpid())); err != nil {
			return none, fmt.Errorf("%w (run with -trace=false to count /proc/interrupts only)", err)
		}
		defer tr.remove()
	}
	dir, err := os.MkdirTemp("", "benchobserver-")
	if err != nil {
		return none, err
	}
	host, err := benchkit.GatherHost(s.Rxprobe)
	if err != nil {
		return none, err
	}
	env := hostInfo{Host: host}
	g := benchkit.Begin("benchobserver", env.Host, dir, log)
	fmt.Fprintf(log, "benchobserver: %d round(s) × %d scenario(s) × %s ≈ %s\n", s.Rounds, len(s.Scenarios), s.Duration,
		(time.Duration(s.Rounds*len(s.Scenarios)) * (s.Duration + 3*time.Second)).Round(time.Minute))
	fmt.Fprintln(log, header())
	var out []result
	for round := 1; round <= s.Rounds; round++ {
		for _, k := range benchkit.Order(round, len(s.Scenarios)) {
			sc := s.Scenarios[k]
			r, err := runScenario(ctx, s, sc, round, dir, tr, log)
			if err != nil {
				return none, fmt.Errorf("round %d, %s: %w", round, sc.Name, err)
			}
			g.Run(fmt.Sprintf("round %d %s", round, sc.Name), r.Load1, r.OnCPU)
			fmt.Fprintln(log, row(r))
			out = append(out, r)
		}
	}
	g.Finish(&env.Host, s.Rounds)
	return outcome(s, env, g, out), nil
}

func header() string {
	return fmt.Sprintf("%-5s %-9s %7s %9s %9s %9s %9s %10s %9s %8s %6s %9s %10s %8s %8s %5s",
		"ROUND", "SCENARIO", "WINDOW", "TLB/min", "CAL/min", "RES/min", "LOC/min", "IRQ/min", "RX-SENT/m", "Mpps", "ONCPU", "MAXGAP", "GAPS>", "MALLOCS", "SCRAPES", "LOAD1")
}

func row(r result) string {
	rxTLB := "-"
	if r.Trace != nil {
		rxTLB = fmt.Sprintf("%.1f", perMinute(r.Trace.Sent, r.Window))
	}
	return fmt.Sprintf("%-5d %-9s %6.1fs %9.1f %9.1f %9.1f %9.1f %10.1f %9s %8.3f %5.1f%% %9s %10s %8d %8s %5.2f",
		r.Round, r.Scenario, r.Window.Seconds(), r.perMin("TLB"), r.perMin("CAL"), r.perMin("RES"), r.perMin("LOC"), r.allPerMin(), rxTLB,
		r.Fig.Mpps, 100*r.OnCPU, fmtDur(r.Fig.MaxGap), fmt.Sprintf("%d>%s", r.Fig.Above, fmtDur(r.Fig.AboveNs)), r.Fig.Mallocs,
		fmt.Sprintf("%d/%d", r.Scrapes.OK, r.Scrapes.OK+r.Scrapes.Failed), r.Load1)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	case d >= time.Microsecond:
		return fmt.Sprintf("%.1fµs", float64(d)/1e3)
	}
	return d.String()
}

// runScenario runs rxprobe once: it waits for the ready file, lets the
// run warm up, counts the RX CPU's interrupts (and, with a trace, its
// tlb_flush events) over the window, scrapes all along, then reads the
// report.
func runScenario(ctx context.Context, s settings, sc scenario, round int, dir string, tr *tlbTrace, log io.Writer) (result, error) {
	r := result{Scenario: sc.Name, Round: round, Load1: benchkit.Load1()}
	base := filepath.Join(dir, fmt.Sprintf("%d-%s", round, sc.Name))
	report, ready := base+".json", base+".ready"
	logf, err := os.Create(base + ".log")
	if err != nil {
		return r, err
	}
	defer logf.Close()

	want := "rxprobe_rx_packets_total"
	var scrapeURL string
	args := []string{"run", "--config", s.Config, "--duration", s.Duration.String(),
		"--stats-interval", s.StatsInterval.String(), "--report", report, "--ready-file", ready,
		"--status", "never", "--allow-unisolated"}
	args = append(args, sc.Flags...)
	if sc.Exporter {
		addr, err := metricsAddr(s.MetricsAddr)
		if err != nil {
			return r, err
		}
		if addr != s.MetricsAddr {
			fmt.Fprintf(log, "benchobserver: %s is taken (another engineer's exporter?): this run uses %s\n", s.MetricsAddr, addr)
		}
		r.Addr = addr
		args = append(args, "--metrics-addr", addr)
		scrapeURL = "http://" + addr + "/metrics"
	} else {
		d, err := startDummy(dummyBody(24 << 10))
		if err != nil {
			return r, err
		}
		defer d.close()
		scrapeURL, want, r.Addr = d.url(), "dummy_metric_total", "dummy"
	}

	cmd := exec.CommandContext(ctx, s.Rxprobe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("rxprobe run: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	fail := func(err error) (result, error) {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-done
		return r, fmt.Errorf("%w (log: %s)", err, logf.Name())
	}

	readyAt, err := waitReady(ctx, ready, done, 60*time.Second)
	if err != nil {
		return fail(err)
	}
	scr := startScraper(ctx, scrapeURL, time.Duration(float64(time.Second)/s.ScrapeHz), want)

	if err := sleepUntil(ctx, readyAt.Add(s.Warmup), done); err != nil {
		scr.stop()
		return fail(err)
	}
	a, err := readInterrupts(s.CPU)
	if err != nil {
		scr.stop()
		return fail(err)
	}
	t0 := time.Now()
	loop, _ := benchkit.FindWorker(cmd.Process.Pid)
	run0, err0 := benchkit.SampleThread(cmd.Process.Pid, loop)
	if tr != nil {
		tids := map[int]bool{}
		threadIDs(cmd.Process.Pid, tids)
		if err := tr.start(tids); err != nil {
			scr.stop()
			return fail(fmt.Errorf("tracefs: %w", err))
		}
	}
	if err := sleepUntil(ctx, readyAt.Add(s.Duration-s.Tail), done); err != nil {
		scr.stop()
		return fail(err)
	}
	var traceData []byte
	if tr != nil {
		if traceData, r.TraceLost, err = tr.stop(); err != nil {
			scr.stop()
			return fail(fmt.Errorf("tracefs: %w", err))
		}
	}
	b, err := readInterrupts(s.CPU)
	r.Window = time.Since(t0)
	if run1, err1 := benchkit.SampleThread(cmd.Process.Pid, loop); err0 == nil && err1 == nil && loop != 0 {
		r.OnCPU = benchkit.Share(run0, run1)
	}
	if err != nil {
		scr.stop()
		return fail(err)
	}
	r.IRQ = irqDelta(a, b)

	werr := <-done
	r.Scrapes = scr.stop()
	if werr != nil {
		return r, fmt.Errorf("rxprobe run: %w (log: %s)", werr, logf.Name())
	}
	if r.Scrapes.OK == 0 {
		return r, fmt.Errorf("no scrape of %s succeeded (%s)", scrapeURL, r.Scrapes.FirstErr)
	}
	if r.Scrapes.Missing {
		return r, fmt.Errorf("a scrape of %s lacked %s: not the run's exporter?", scrapeURL, want)
	}
	if tr != nil {
		c, err := parseTLBTrace(traceData, s.CPU)
		if err != nil {
			return r, err
		}
		r.Trace = &c
	}
	data, err := os.ReadFile(report)
	if err != nil {
		return r, err
	}
	if r.Fig, err = parseRunReport(data, s.CPU, s.GapThreshold); err != nil {
		return r, err
	}
	return r, nil
}

// waitReady waits for the ready file; it fails when the run exits first
// or after limit.
func waitReady(ctx context.Context, path string, done chan error, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for {
		if _, err := os.Stat(path); err == nil {
			return time.Now(), nil
		}
		select {
		case err := <-done:
			done <- err
			return time.Time{}, fmt.Errorf("rxprobe run exited before it was ready: %v", err)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("rxprobe run not ready after %s", limit)
		}
	}
}

// sleepUntil waits for t; it fails when the run exits first.
func sleepUntil(ctx context.Context, t time.Time, done chan error) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case err := <-done:
		done <- err
		return fmt.Errorf("rxprobe run exited before the window closed: %v", err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hostInfo identifies the machine and the binary measured.
type hostInfo struct {
	benchkit.Host
}

var errNoBaseline = errors.New("no baseline run")
