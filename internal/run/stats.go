package run

import (
	"runtime"

	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/rx/config"
	"github.com/rxprobe/rxprobe/stats/sampler"
)

// startStats creates the stats thread — its own locked OS thread, first
// sample taken now, before the loops run, so that nothing it needs is
// created later — and starts it. Only a failure to create it is an error;
// one to start it is logged and the run goes on.
func (r *runner) startStats() error {
	smp, err := sampler.New(r.eng, sampler.Options{HostRoot: r.o.HostRoot, Interval: r.cfg.Stats.Interval,
		ShmDir: r.cfg.Stats.ShmDir, Prefix: r.eng.Plan().Prefix, StatusFD: r.o.StatusFD, StatusTTY: r.o.StatusTTY,
		StdioReads: r.o.Debug.StdioReads, Guard: guardOptions(r.cfg, r.o.HostRoot), EventFD: 2,
		CaptureTriggers: r.cfg.Capture.TriggerMask(), Build: map[string]string{"version": r.o.Build.Version, "commit": r.o.Build.Commit, "goversion": runtime.Version(), "dpdk": rx.DPDKVersion()}})
	if err != nil {
		return err
	}
	r.smp = smp
	if err := smp.Start(); err != nil {
		r.logf("rxprobe: stats: %v (continuing)\n", err)
	}
	return nil
}

// guardOptions turns the config's guard section into the stats thread's.
func guardOptions(cfg *config.Config, hostRoot string) *sampler.GuardOptions {
	o := &sampler.GuardOptions{HZ: cfg.Guard.HZ, Limits: cfg.Guard.Limits, GapNs: uint64(cfg.Guard.GapThresholdUs * 1000)}
	o.NohzFull, _ = hostfs.New(hostRoot).NohzFull() // none when unreadable: the guard then allows the tick
	return o
}
