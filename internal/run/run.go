package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/internal/run/report"
	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/rx/capture"
	"github.com/rxprobe/rxprobe/rx/config"
	"github.com/rxprobe/rxprobe/stats/sampler"
)

// runner is one run's parts, all allocated before the loops start.
type runner struct {
	cfg         *config.Config
	o           Options
	eng         *rx.Engine
	smp         *sampler.Sampler
	exp         *child
	trial       *child // the trial API
	inproc      *inprocExporter
	watch       *watcher
	hook        *captureHook
	quiet       quiet
	heap        heapWatch
	first, last *rx.Reading
	degraded    []string
	stopFault   context.CancelFunc
	usr1        sigRelay
}

// Run checks the host, starts the engine, the stats thread and the
// children, waits until ctx ends or the config's duration has passed,
// stops everything and returns the report. When the run could not start
// the report is nil; once it started, the report comes back even when
// stopping failed (the error says what did not stop cleanly).
func Run(ctx context.Context, cfg *config.Config, o Options) (*report.Report, error) {
	if err := o.Debug.Check(); err != nil {
		return nil, err
	}
	preflight, err := preflightGate(cfg, hostfs.New(o.HostRoot))
	if err != nil {
		return nil, err
	}
	eng, err := rx.Open(cfg, rx.Options{HostRoot: o.HostRoot, CaptureSlowWriter: o.Debug.CaptureSlowWriter, RXPacePPS: o.Debug.RXPacePPS, Latency: cfg.Run.Latency})
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, o: o, eng: eng, stopFault: func() {}}
	r.degraded = append(append(append(r.degraded, eng.Degraded...), preflight...), o.Degraded...)
	r.degraded = append(r.degraded, o.Debug.Degraded()...)
	if err := r.start(); err != nil {
		r.stop()
		r.watch.stop()
		return nil, errors.Join(err, r.close())
	}
	if o.ReadyFile != "" {
		if err := os.WriteFile(o.ReadyFile, []byte(eng.Plan().Prefix+"\n"), 0o644); err != nil {
			r.logf("rxprobe: ready file: %v\n", err)
		}
		defer os.Remove(o.ReadyFile)
	}
	r.wait(ctx)
	statsErr := r.stop()
	rep := r.report(statsErr)
	return rep, r.close()
}

func (r *runner) logf(format string, a ...any) { fmt.Fprintf(r.o.log(), format, a...) }

// start starts the children and the stats thread, quiets the process and
// launches the loops.
func (r *runner) start() error {
	noStats := r.o.Debug.NoStats
	if !noStats && (r.cfg.Guard.DriftInterval > 0 || r.cfg.Guard.Attribution) {
		r.watch = startWatcher(r.o.log(), r.cfg, r.o.HostRoot)
	}
	if !noStats {
		if err := r.startStats(); err != nil {
			return err
		}
		if r.o.TrialAPI.Addr != "" { // on the segment startStats created
			r.trial = startTrialAPI(r.o.log(), r.cfg, r.eng.Plan().Prefix, r.o.TrialAPI)
		}
	}
	prefix := r.eng.Plan().Prefix
	switch {
	case noStats:
	case r.o.Debug.InProcessMetrics:
		var err error
		if r.inproc, err = startInprocExporter(r.cfg, prefix); err != nil {
			r.logf("rxprobe: in-process exporter: %v\n", err)
		}
	default:
		r.exp = startExporter(r.o.log(), r.cfg, prefix)
	}
	var err error
	if r.hook, err = startCaptureHook(r.cfg, r.eng); err != nil {
		return err
	}
	r.first, r.last = r.eng.NewReading(), r.eng.NewReading()
	if d := r.quiet.enter(r.inproc != nil); d != "" {
		r.degraded = append(r.degraded, d)
	}
	// Counters before the loops start: the report is the run's delta.
	r.eng.Read(r.first)
	if err := r.eng.Start(); err != nil {
		return err
	}
	if r.smp != nil {
		r.smp.LaunchTSC(rx.TSC())
	}
	if r.cfg.Capture.TriggerMask()&(1<<capture.TriggerSignal) != 0 {
		r.usr1.start(r.eng)
	}
	if hz := r.o.Debug.MunmapHz; hz > 0 {
		var fctx context.Context
		fctx, r.stopFault = context.WithCancel(context.Background())
		go plantMunmapFault(fctx, hz)
	}
	r.first.At = r.eng.Started
	r.logf("rxprobe: running %d loop(s) on CPUs %s, housekeeping %s, file prefix %s\n",
		len(r.eng.Queues), r.cfg.RXCPUSet(), r.cfg.HousekeepingSet(), prefix)
	if r.inproc != nil {
		r.logf("rxprobe: metrics at http://%s/metrics (in-process: benchmark only)\n", r.inproc.Addr())
	}
	if r.exp != nil {
		r.logf("rxprobe: metrics at http://%s/metrics (exporter pid %d)\n", r.cfg.Stats.MetricsAddr, r.exp.cmd.Process.Pid)
	}
	if r.trial != nil {
		r.logf("rxprobe: trial API at http://%s/v1/trials (pid %d)\n", r.o.TrialAPI.Addr, r.trial.cmd.Process.Pid)
	}
	return nil
}

// wait is the steady state: it returns when ctx ends or the duration has
// passed, measuring the heap from warm-up on. It does not allocate.
func (r *runner) wait(ctx context.Context) {
	var deadline <-chan time.Time
	if r.cfg.Run.Duration > 0 {
		t := time.NewTimer(r.cfg.Run.Duration)
		defer t.Stop()
		deadline = t.C
	}
	warm := time.NewTimer(Warmup)
	defer warm.Stop()
	var expExited <-chan struct{}
	if r.exp != nil {
		expExited = r.exp.exited
	}
	done := ctx.Done()
	for {
		select {
		case <-warm.C:
			r.heap.start()
			continue
		case <-expExited:
			r.logf("\nrxprobe: the exporter exited (%v); the probe goes on without /metrics\n", r.exp.err)
			expExited = nil
			continue
		case <-done:
		case <-deadline:
		}
		break
	}
	r.heap.stop()
}

// stop stops the stats thread (taking its final sample), the loops, the
// planted fault and the children, reads the final counters and ends the
// quiet policy. It returns the stats thread's error.
func (r *runner) stop() error {
	var statsErr error
	if r.smp != nil {
		statsErr = r.smp.Stop()
	}
	r.usr1.stop()
	r.eng.Stop()
	r.stopFault()
	if r.smp != nil {
		_ = r.smp.Final()
	}
	if r.last != nil {
		r.eng.Read(r.last)
	}
	// Both children wind down at once; the watcher is waited for and read
	// when the report is built.
	r.exp.terminate()
	r.trial.terminate()
	if r.watch != nil {
		r.watch.terminate()
	}
	r.quiet.leave()
	if r.o.StatusFD >= 0 && r.o.StatusTTY {
		_, _ = unix.Write(r.o.StatusFD, []byte("\n")) // end the rewritten status line
	}
	r.exp.stop()
	r.trial.stop()
	r.inproc.stop()
	// The captures stopped with the engine: the hook gets EOF, finishes
	// its queue and exits (within HookWait).
	r.hook.finish(r.o.log(), r.eng)
	return statsErr
}

// report builds the run's report once everything stopped.
func (r *runner) report(statsErr error) *report.Report {
	found := r.watch.stop()
	in := gather(r.eng, r.first, r.last)
	in.Version = r.o.Build.Version
	in.SteadyState = r.heap.result()
	in.Degraded = r.degraded
	if statsErr != nil {
		in.Degraded = append(in.Degraded, "stats: "+statsErr.Error())
	}
	in.Degraded = append(in.Degraded, found.notes...)
	if r.smp != nil {
		if g := r.smp.Guard(); g != nil {
			events, lost := g.Events()
			in.Guard = &report.GuardResult{Ledger: g.Ledger(), Timeline: g.Timeline(), Events: events, EventsLost: lost}
		}
	}
	in.Attribution, in.Drift = found.attrib, found.drift
	for i := range in.Ports {
		for _, q := range in.Ports[i].Queues {
			if q.Capture != nil {
				q.Capture.Mode = string(r.cfg.Capture.Mode)
			}
		}
	}
	in.CaptureHook = r.hook.tally()
	return report.Build(in)
}

// close frees the stats thread's segment and closes the engine.
func (r *runner) close() error {
	var err error
	if r.smp != nil {
		err = r.smp.Close()
	}
	return errors.Join(err, r.eng.Close())
}
