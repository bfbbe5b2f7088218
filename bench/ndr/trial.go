package ndr

import (
	"context"
	"fmt"
	"time"

	"github.com/rxprobe/rxprobe/isolation/guard"
	"github.com/rxprobe/rxprobe/stats/dropclass"
)

// TrialSpec is what a Runner is asked to measure: one frame size at one
// offered rate for one duration.
type TrialSpec struct {
	FrameSize FrameSize     `json:"frame_size"`
	RatePPS   float64       `json:"rate_pps"`
	Duration  time.Duration `json:"duration_ns"`
}

// Runner runs trials against the DUT. Trial starts traffic only after it
// read the DUT's counters, stops it after spec.Duration, waits until the
// rings drained and reads the counters again; it returns the deltas. It
// returns ctx.Err() (wrapped) when ctx is cancelled mid-trial.
type Runner interface {
	Trial(ctx context.Context, spec TrialSpec) (Trial, error)
}

// RunnerFunc adapts a function to Runner.
type RunnerFunc func(ctx context.Context, spec TrialSpec) (Trial, error)

// Trial runs f.
func (f RunnerFunc) Trial(ctx context.Context, spec TrialSpec) (Trial, error) { return f(ctx, spec) }

// QueueCounts are one RX queue's packets and bytes over a trial.
type QueueCounts struct {
	Port    string `json:"port"`
	Queue   int    `json:"queue"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// GuardEvents count the jitter guard's events on the RX CPUs during a
// trial.
type GuardEvents struct {
	// Interrupts: timer, device IRQs, NMIs, PMIs, MCEs above the limit.
	Interrupts uint64 `json:"interrupts"`
	// IPIs: TLB shootdowns, function calls, reschedules, irq work.
	IPIs uint64 `json:"ipis"`
	// Gaps: loop gaps above the threshold.
	Gaps uint64 `json:"gaps"`
}

// Total sums every kind.
func (g GuardEvents) Total() uint64 { return g.Interrupts + g.IPIs + g.Gaps }

// EventsByKind folds counts keyed by guard.KindNames ("LOC", "TLB", "gap",
// …) into GuardEvents. An unknown kind is an error: the guard added a kind
// this table does not know yet.
func EventsByKind(counts map[string]uint64) (GuardEvents, error) {
	var g GuardEvents
	for k, n := range counts {
		switch k {
		case guard.KindNames[guard.KindCAL], guard.KindNames[guard.KindTLB], guard.KindNames[guard.KindRES], guard.KindNames[guard.KindIWI]:
			g.IPIs += n
		case guard.KindNames[guard.KindLOC], guard.KindNames[guard.KindNMI], guard.KindNames[guard.KindPMI],
			guard.KindNames[guard.KindMCE], guard.KindNames[guard.KindIRQ]:
			g.Interrupts += n
		case guard.KindNames[guard.KindGap]:
			g.Gaps += n
		default:
			return g, fmt.Errorf("ndr: guard event kind %q: %w", k, ErrUnknownKind)
		}
	}
	return g, nil
}

// Latency summarises one-way latency over a trial. It is valid only when
// generator and probe share a clock; Reason says why it is not.
type Latency struct {
	Valid     bool   `json:"valid"`
	Reason    string `json:"reason,omitempty"`
	P50Ns     uint64 `json:"p50_ns"`
	P90Ns     uint64 `json:"p90_ns"`
	P99Ns     uint64 `json:"p99_ns"`
	P999Ns    uint64 `json:"p99_9_ns"`
	MaxNs     uint64 `json:"max_ns"`
	SeqGaps   uint64 `json:"seq_gaps"`
	Reordered uint64 `json:"reordered"`
}

// Trial is one measurement. The Runner fills the counters; Finish derives
// the rest.
type Trial struct {
	// Index numbers the trials of a benchmark in the order run.
	Index int `json:"index"`
	TrialSpec
	// Phase is "short" (narrowing) or "full" during the search, then
	// "confirm" (the NDR repeated) or "latency" (at a fraction of the PDR).
	Phase string `json:"phase"`
	// Repeat is 0 for a first measurement, n for the n-th repeat of a
	// disturbed one; Decisive marks the trial whose result the search used.
	Repeat   int  `json:"repeat"`
	Decisive bool `json:"decisive"`

	// Offered is the packets the target rate asks for (RatePPS ×
	// Duration); Sent what the generator really sent; Received what the
	// DUT's RX loops received.
	Offered       uint64 `json:"offered_packets"`
	Sent          uint64 `json:"sent_packets"`
	Received      uint64 `json:"received_packets"`
	SentBytes     uint64 `json:"sent_bytes"`
	ReceivedBytes uint64 `json:"received_bytes"`
	// Elapsed is how long traffic really flowed (0: Duration).
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
	// Queues are per port and queue counts (optional).
	Queues []QueueCounts `json:"queues,omitempty"`
	// Ledger is the DUT's drops by layer (stats/dropclass names).
	Ledger map[string]uint64 `json:"ledger"`
	Guard  GuardEvents       `json:"guard"`
	// Latency is present in latency trials only.
	Latency *Latency `json:"latency,omitempty"`

	// Derived by Finish.
	AchievedPPS float64 `json:"achieved_pps"`
	// Shortfall is 1 − achieved/target (≤ 0: none).
	Shortfall float64 `json:"shortfall"`
	// Lost = Sent − Received; LossRatio = Lost / Sent.
	Lost      uint64  `json:"lost_packets"`
	LossRatio float64 `json:"loss_ratio"`
	// Unaccounted = Lost − the ledger's before-loop layers: what the
	// ledger does not explain (0 when the counters are exact).
	Unaccounted      int64 `json:"unaccounted"`
	GeneratorLimited bool  `json:"generator_limited"`
	Disturbed        bool  `json:"disturbed"`
}

// ErrUnknownKind is matched when a layer or event kind is not known.
var ErrUnknownKind = fmt.Errorf("unknown kind")

// ErrCounters is matched when a trial's counters contradict each other.
var ErrCounters = fmt.Errorf("inconsistent trial counters")

// Finish derives the flags and ratios from the counters, with tol the
// generator tolerance. It fails when a ledger layer is not a dropclass
// layer, the generator sent nothing, or the DUT received more than was
// sent.
func (t *Trial) Finish(tol float64) error {
	for l := range t.Ledger {
		if classOf(l) < 0 {
			return fmt.Errorf("ndr: trial %d: ledger layer %q: %w", t.Index, l, ErrUnknownKind)
		}
	}
	if t.Sent == 0 && t.RatePPS > 0 {
		return fmt.Errorf("ndr: trial %d: the generator sent nothing at %.0f pps: %w", t.Index, t.RatePPS, ErrCounters)
	}
	if t.Received > t.Sent {
		return fmt.Errorf("ndr: trial %d: received %d > sent %d: %w", t.Index, t.Received, t.Sent, ErrCounters)
	}
	el := t.Elapsed
	if el <= 0 {
		el = t.Duration
	}
	if t.Offered == 0 {
		t.Offered = uint64(t.RatePPS*t.Duration.Seconds() + 0.5)
	}
	t.AchievedPPS = float64(t.Sent) / el.Seconds()
	t.Shortfall = 0
	if t.RatePPS > 0 {
		t.Shortfall = 1 - t.AchievedPPS/t.RatePPS
	}
	t.GeneratorLimited = t.AchievedPPS < t.RatePPS*(1-tol)
	t.Lost = t.Sent - t.Received
	t.LossRatio = 0
	if t.Sent > 0 {
		t.LossRatio = float64(t.Lost) / float64(t.Sent)
	}
	t.Unaccounted = int64(t.Lost) - int64(t.LostBeforeLoop())
	t.Disturbed = t.Guard.Total() > 0
	return nil
}

// EffectiveRate is the rate the trial measured: the target, or what the
// generator achieved when it fell short.
func (t *Trial) EffectiveRate() float64 {
	if t.GeneratorLimited {
		return t.AchievedPPS
	}
	return t.RatePPS
}

func classOf(layer string) int {
	for c, n := range dropclass.Names {
		if n == layer {
			return c
		}
	}
	return -1
}

// LostBeforeLoop sums the ledger's layers before the RX loop: sent =
// received + LostBeforeLoop when the counters are exact.
func (t *Trial) LostBeforeLoop() uint64 {
	var n uint64
	for l, d := range t.Ledger {
		if c := classOf(l); c >= 0 && !dropclass.Class(c).AfterLoop() {
			n += d
		}
	}
	return n
}

// FirstLayer is the first layer in ledger order that lost packets, or "".
func (t *Trial) FirstLayer() string {
	for _, n := range dropclass.Names {
		if t.Ledger[n] > 0 {
			return n
		}
	}
	return ""
}

// afterSearch reports whether t belongs to a phase after the search
// (confirm, latency): each such trial stands on its own, none is
// superseded by a repeat.
func (t *Trial) afterSearch() bool { return t.Phase == PhaseConfirm || t.Phase == PhaseLatency }
