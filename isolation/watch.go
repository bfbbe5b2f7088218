package isolation

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/isolation/tracer"
)

// DriftLine is one line the drift watcher (`rxprobe watch`) writes: a
// change since the last check that can move work onto the RX CPUs (Kind
// "drift"), who sent the IPIs an RX CPU took in the last second (Kind
// "attribution", CPU set), a note such as "attribution unavailable: no
// tracefs" (Kind "note"), or that the watcher is ready (Kind "ready").
type DriftLine struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	CPU    int       `json:"cpu"`
	Detail string    `json:"detail"`
}

// WatchOptions configure Watch.
type WatchOptions struct {
	Host         hostfs.FS
	RX           cpuset.Set
	Housekeeping cpuset.Set
	// Interval is how often the drift state is re-taken (at least 1 s).
	Interval time.Duration
	// ExcludePID is left out of the pinned-task check (the RX process);
	// the flight recorder names it as "rxprobe".
	ExcludePID int
	// Trace runs the flight recorder: who sends IPIs to the RX CPUs.
	Trace bool
}

// Watch re-checks, every Interval, what can move work onto the RX CPUs
// and, with Trace, names once a second who interrupted them (at most three
// sentences per CPU). It hands each finding to emit, starting with a
// "ready" line once tracepoints are enabled (enabling them patches kernel
// text, which interrupts every CPU: the RX loops should start after it).
// It returns nil when ctx ends or emit fails (the reader is gone), and an
// error only when the first state cannot be taken.
func Watch(ctx context.Context, o WatchOptions, emit func(DriftLine) error) error {
	prev, err := TakeState(o.Host, o.RX, o.Housekeeping, o.ExcludePID)
	if err != nil {
		return err
	}
	// The flight recorder lives in the watcher, not in the RX process: its
	// reads and allocations fault pages in, and a fault that replaces a
	// page flushes the TLB of every CPU running the process.
	var rec *tracer.Recorder
	var win tracer.Window
	if o.Trace {
		pid := o.ExcludePID
		if pid == 0 {
			pid = os.Getpid()
		}
		rec, err = tracer.Open(tracer.Options{CPUs: o.RX, PID: pid, Instance: fmt.Sprintf("rxprobe-%d", os.Getpid())})
		if err != nil {
			_ = emit(DriftLine{At: time.Now(), Kind: "note", CPU: -1, Detail: err.Error()})
			rec = nil
		} else {
			defer rec.Close()
		}
	}
	_ = emit(DriftLine{At: time.Now(), Kind: "ready", CPU: -1})
	second := time.NewTicker(time.Second)
	defer second.Stop()
	next := time.Now().Add(o.Interval)
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-second.C:
		}
		now := time.Now()
		if rec != nil {
			if err := rec.Collect(&win); err == nil {
				for _, cpu := range o.RX.List() {
					for i, s := range win.Summary(cpu, now.Sub(last).Seconds()) {
						if i == 3 {
							break
						}
						if emit(DriftLine{At: now, Kind: "attribution", CPU: cpu, Detail: s}) != nil {
							return nil
						}
					}
				}
			}
			win.Reset()
		}
		last = now
		if now.Before(next) {
			continue
		}
		next = now.Add(o.Interval)
		cur, err := TakeState(o.Host, o.RX, o.Housekeeping, o.ExcludePID)
		if err != nil {
			continue
		}
		for _, d := range Drift(prev, cur, o.RX) {
			if emit(DriftLine{At: now, Kind: "drift", CPU: -1, Detail: d}) != nil {
				return nil
			}
		}
		prev = cur
	}
}
