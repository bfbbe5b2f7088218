package rx

import (
	"context"
	"fmt"
	"time"

	"github.com/rxprobe/rxprobe/rx/config"
	"github.com/rxprobe/rxprobe/rx/counters"
)

// GenReport is what a generator run did, as `rxprobe gen --report` writes
// it.
type GenReport struct {
	Device      string  `json:"device"`
	Size        int     `json:"size"`
	RatePPS     float64 `json:"rate_pps"`
	Count       uint64  `json:"count"`
	Sent        uint64  `json:"sent"`
	TXDropped   uint64  `json:"tx_dropped"`
	AllocFailed uint64  `json:"alloc_failed"`
	DurationS   float64 `json:"duration_s"`
	AchievedPPS float64 `json:"achieved_pps"`
	PortOPkts   uint64  `json:"port_opackets"`
	PortOErrors uint64  `json:"port_oerrors"`
	// Latency says the frames carried latency stamps.
	Latency bool `json:"latency,omitempty"`
	// Clock identifies the generator's TSC: a harness passes it to the
	// trial API's stop call, which gives a latency figure only when the
	// probe runs on the same host and boot (counters.SameTSC).
	Clock *counters.HostClock `json:"clock,omitempty"`
}

// Timings of a generator run: how often Run polls the counters for the end
// of a counted run, and how long it lets the PMD hand the last frames to
// the wire before the port stops.
const (
	genPoll  = 10 * time.Millisecond
	genDrain = 200 * time.Millisecond
)

// Run waits until the started generator has sent its count or ctx is done
// (a signal, or the duration the caller set as ctx's deadline), then stops
// it, reads its counters and the port's, closes it and reports. The error
// is Close's: the report is valid either way.
func (e *Generator) Run(ctx context.Context) (GenReport, error) {
	r, err := runGen(ctx, e, e.cfg, e.Started, genPoll, genDrain)
	r.Latency, r.Clock = e.cfg.Latency, &e.clock
	return r, err
}

// genSource is what runGen needs of a started generator (*Generator).
type genSource interface {
	Read(*GenCounters)
	Stop()
	PortStats() (counters.PortStats, error)
	Close() error
}

// runGen is Run on any genSource, polling every poll and draining for
// drain after the stop.
func runGen(ctx context.Context, src genSource, g config.Generator, started time.Time, poll, drain time.Duration) (GenReport, error) {
	r := GenReport{Device: g.Device, Size: g.Size, RatePPS: g.Rate, Count: g.Count}
	finish(ctx, src, started, poll, drain, &r)
	ps, _ := src.PortStats()
	r.PortOPkts, r.PortOErrors = ps.OPackets, ps.OErrors
	return r, src.Close()
}

// finish waits until src handled its count (or ctx is done), stops it and
// fills r's sender figures, then gives the PMD drain to hand the last
// frames on, so that port counters read after it are final.
func finish(ctx context.Context, src interface {
	Read(*GenCounters)
	Stop()
}, started time.Time, poll, drain time.Duration, r *GenReport) {
	waitDone(ctx, src, poll)
	src.Stop()
	elapsed := time.Since(started)
	var c GenCounters
	src.Read(&c)
	r.Sent, r.TXDropped, r.AllocFailed, r.DurationS = c.Sent, c.TXDropped, c.AllocFailed, elapsed.Seconds()
	if r.DurationS > 0 {
		r.AchievedPPS = float64(c.Sent) / r.DurationS
	}
	time.Sleep(drain)
}

// waitDone polls src every poll until it has handled its count or ctx is
// done.
func waitDone(ctx context.Context, src interface{ Read(*GenCounters) }, poll time.Duration) {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	var c GenCounters
	for {
		select {
		case <-tick.C:
			src.Read(&c)
			if c.Done {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// TrialSpec is one trial of a generator serving trials (`rxprobe gen
// --serve`): Count frames (0: until the trial's context ends) at RatePPS
// (0: as fast as possible).
type TrialSpec struct {
	RatePPS float64 `json:"rate_pps"`
	Count   uint64  `json:"count"`
	// Latency stamps the trial's frames for the RX side's latency mode.
	Latency bool `json:"latency,omitempty"`
}

// trialSource is what runTrial needs of an open generator (*Generator).
type trialSource interface {
	genSource
	relaunch(rate float64, count uint64, latency bool) error
}

// Trial sends one trial from an open generator whose loop is not running:
// the TX loop is relaunched at the new rate and count (EAL, port and pool
// stay, so rates change between trials without a restart), runs until the
// count was handled or ctx ends, stops, and the PMD gets drain time to
// hand the last frames on. The report has this trial's figures only.
func (e *Generator) Trial(ctx context.Context, spec TrialSpec) (GenReport, error) {
	r, err := runTrial(ctx, e, e.cfg, spec, genPoll, genDrain)
	r.Latency, r.Clock = spec.Latency, &e.clock
	return r, err
}

func runTrial(ctx context.Context, src trialSource, g config.Generator, spec TrialSpec, poll, drain time.Duration) (GenReport, error) {
	r := GenReport{Device: g.Device, Size: g.Size, RatePPS: spec.RatePPS, Count: spec.Count}
	if spec.RatePPS < 0 {
		return r, fmt.Errorf("rx: generator trial: rate_pps %v: give 0 (as fast as possible) or more", spec.RatePPS)
	}
	before, err := src.PortStats()
	if err != nil {
		return r, fmt.Errorf("rx: generator trial: port counters: %w", err)
	}
	started := time.Now()
	if err := src.relaunch(spec.RatePPS, spec.Count, spec.Latency); err != nil {
		return r, err
	}
	finish(ctx, src, started, poll, drain, &r)
	after, err := src.PortStats()
	if err != nil {
		return r, fmt.Errorf("rx: generator trial: port counters: %w", err)
	}
	r.PortOPkts, r.PortOErrors = after.OPackets-before.OPackets, after.OErrors-before.OErrors
	return r, nil
}
