package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rxprobe/rxprobe/bench/ndr"
	"github.com/rxprobe/rxprobe/stats/trialapi"
)

// ErrAPI is matched when the trial API answers something unexpected.
var ErrAPI = errors.New("unexpected trial API answer")

// ErrGenerator is matched when the generator fails a trial.
var ErrGenerator = errors.New("generator failed")

// Send is one trial's order to a generator: Count frames of Size at
// RatePPS, meant to take Duration.
type Send struct {
	Size     ndr.FrameSize
	RatePPS  float64
	Count    uint64
	Duration time.Duration
}

// Sent is what a generator reports for one trial.
type Sent struct {
	Packets uint64
	// Elapsed is how long it sent (0: unknown; the trial's duration
	// counts then).
	Elapsed time.Duration
	// Clock is the generator host's clock when it stamped the frames
	// (nil: none; latency is then not judged valid).
	Clock json.RawMessage
}

// Generator sends one trial's frames and returns once it stopped sending.
type Generator interface {
	// Prepare readies the generator for size before a trial starts
	// (starting a process, a warm-up frame): nothing it sends falls into
	// a trial.
	Prepare(ctx context.Context, size ndr.FrameSize) error
	Send(ctx context.Context, s Send) (Sent, error)
	// Close stops what the generator started.
	Close() error
}

// Runner is the ndr.Runner of a real DUT: a Generator and the trial API
// of the `rxprobe run` receiving its frames.
type Runner struct {
	API *API
	Gen Generator
	// Drain is the least time waited after the generator stopped before
	// the DUT's counters are read; then the runner waits until the RX
	// counter stops moving, up to MaxDrain in all.
	Drain, MaxDrain time.Duration
}

// Trial runs one trial; see the package contract.
func (r *Runner) Trial(ctx context.Context, spec ndr.TrialSpec) (ndr.Trial, error) {
	t := ndr.Trial{TrialSpec: spec}
	count := uint64(spec.RatePPS*spec.Duration.Seconds() + 0.5)
	if count == 0 {
		count = 1
	}
	t.Offered = count
	if err := r.Gen.Prepare(ctx, spec.FrameSize); err != nil {
		return t, err
	}
	if err := r.drain(ctx, 0); err != nil { // a warm-up frame is not this trial's
		return t, err
	}
	id, err := r.API.Start(ctx)
	if err != nil {
		return t, err
	}
	sent, err := r.Gen.Send(ctx, Send{Size: spec.FrameSize, RatePPS: spec.RatePPS, Count: count, Duration: spec.Duration})
	if err == nil {
		err = r.drain(ctx, r.Drain)
	}
	// Stop the trial even after a failure, so that it is not left
	// running; its result is only used on success.
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	res, stopErr := r.API.Stop(stopCtx, id, sent.Clock)
	if err != nil {
		return t, err
	}
	if stopErr != nil {
		return t, stopErr
	}
	t.Sent, t.Elapsed = sent.Packets, sent.Elapsed
	if err := fill(&t, res); err != nil {
		return t, err
	}
	return t, nil
}

// fill copies the trial API's deltas into t.
func fill(t *ndr.Trial, res *trialapi.Result) error {
	t.Received, t.ReceivedBytes = res.RXPackets, res.RXBytes
	t.Ledger = make(map[string]uint64, len(res.Ledger))
	for _, l := range res.Ledger {
		t.Ledger[l.Layer] += l.Drops
	}
	for _, p := range res.Ports {
		for _, q := range p.Queues {
			t.Queues = append(t.Queues, ndr.QueueCounts{Port: p.Port, Queue: q.Queue, Packets: q.RXPackets, Bytes: q.RXBytes})
		}
	}
	kinds := map[string]uint64{}
	for _, c := range res.GuardEvents {
		for k, n := range c.ByKind {
			kinds[k] += n
		}
	}
	g, err := ndr.EventsByKind(kinds)
	if err != nil {
		return err
	}
	t.Guard = g
	if l := res.Latency; l != nil {
		t.Latency = &ndr.Latency{Valid: l.Valid, Reason: l.Reason, P50Ns: l.P50Ns, P90Ns: l.P90Ns, P99Ns: l.P99Ns,
			P999Ns: l.P999Ns, MaxNs: l.MaxNs, SeqGaps: l.Gaps, Reordered: l.Reordered}
	}
	if lb := t.LostBeforeLoop(); lb != res.LostBeforeLoop {
		return fmt.Errorf("live: trial api: lost_before_loop %d but its ledger sums to %d: %w", res.LostBeforeLoop, lb, ErrAPI)
	}
	return nil
}

// drainPoll is how long one look at the RX counter lasts while draining.
const drainPoll = 50 * time.Millisecond

// drain waits least, then until a drainPoll window receives nothing (the
// rings are empty), up to r.MaxDrain in all. Each look is a trial of its
// own: exact samples at both ends.
func (r *Runner) drain(ctx context.Context, least time.Duration) error {
	start := time.Now()
	if err := sleep(ctx, least); err != nil {
		return err
	}
	for first := true; first || time.Since(start) < r.MaxDrain; first = false {
		id, err := r.API.Start(ctx)
		if err != nil {
			return err
		}
		err = sleep(ctx, drainPoll)
		res, stopErr := r.API.Stop(context.WithoutCancel(ctx), id, nil)
		if err != nil {
			return err
		}
		if stopErr != nil {
			return stopErr
		}
		if res.RXPackets == 0 {
			return nil
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("live: %w", ctx.Err())
	}
}
