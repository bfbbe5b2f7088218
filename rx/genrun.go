package rx

import (
	"context"
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
	return runGen(ctx, e, e.cfg, e.Started, genPoll, genDrain)
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
	tick := time.NewTicker(poll)
	defer tick.Stop()
	var c GenCounters
loop:
	for {
		select {
		case <-tick.C:
			src.Read(&c)
			if c.Done {
				break loop
			}
		case <-ctx.Done():
			break loop
		}
	}
	src.Stop()
	elapsed := time.Since(started)
	src.Read(&c)
	time.Sleep(drain)
	ps, _ := src.PortStats()
	closeErr := src.Close()
	r := GenReport{Device: g.Device, Size: g.Size, RatePPS: g.Rate, Count: g.Count, Sent: c.Sent,
		TXDropped: c.TXDropped, AllocFailed: c.AllocFailed, DurationS: elapsed.Seconds(),
		PortOPkts: ps.OPackets, PortOErrors: ps.OErrors}
	if r.DurationS > 0 {
		r.AchievedPPS = float64(c.Sent) / r.DurationS
	}
	return r, closeErr
}
