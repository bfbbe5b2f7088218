package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/rxprobe/rxprobe/bench/ndr"
)

// DefaultLayer is the ledger layer a simulated DUT loses packets in.
const DefaultLayer = "host_too_slow"

// DUT is a simulated device under test with a knee at KneePPS: no loss
// below it, loss 1 − KneePPS/rate above (it forwards KneePPS at most).
type DUT struct {
	// KneePPS is the highest rate forwarded without loss.
	KneePPS float64
	// GenMaxPPS caps the generator (0: none): above it the generator
	// falls short and the DUT sees GenMaxPPS.
	GenMaxPPS float64
	// Layer is the ledger layer that loses packets (DefaultLayer).
	Layer string
	// Noise, when set, adds random loss bursts near the knee.
	Noise *Noise
	// Latency adds a simulated latency summary to every trial.
	Latency bool
	rng     *rand.Rand
}

// Noise describes random host noise: in the band [knee × (1 − Band),
// knee) a trial loses a burst of packets with probability BurstProb; a
// burst comes with guard events (the trial is disturbed) unless it is one
// of the Unflagged fraction. Independently, a trial at any rate sees guard
// events without loss with probability QuietProb.
type Noise struct {
	Seed      uint64
	Band      float64
	BurstProb float64
	Unflagged float64
	QuietProb float64
}

// DefaultNoise is the noisy knee of the tests.
func DefaultNoise(seed uint64) *Noise {
	return &Noise{Seed: seed, Band: 0.03, BurstProb: 0.25, Unflagged: 0.01, QuietProb: 0.1}
}

// Knee is a sharp knee at k pps.
func Knee(k float64) *DUT { return &DUT{KneePPS: k} }

// NoisyKnee is a knee at k pps with DefaultNoise(seed).
func NoisyKnee(k float64, seed uint64) *DUT { return &DUT{KneePPS: k, Noise: DefaultNoise(seed)} }

// GeneratorLimited is a knee at k pps behind a generator that cannot
// exceed g pps (g < k: every shortfall is the generator's).
func GeneratorLimited(g, k float64) *DUT { return &DUT{KneePPS: k, GenMaxPPS: g} }

// Trial simulates one trial.
func (d *DUT) Trial(ctx context.Context, spec ndr.TrialSpec) (ndr.Trial, error) {
	if err := ctx.Err(); err != nil {
		return ndr.Trial{}, fmt.Errorf("sim: %w", err)
	}
	layer := d.Layer
	if layer == "" {
		layer = DefaultLayer
	}
	secs := spec.Duration.Seconds()
	achieved := spec.RatePPS
	if d.GenMaxPPS > 0 && achieved > d.GenMaxPPS {
		achieved = d.GenMaxPPS
	}
	sent := uint64(achieved*secs + 0.5)
	forwarded := sent
	if achieved > d.KneePPS {
		forwarded = uint64(d.KneePPS*secs + 0.5)
	}
	var ev ndr.GuardEvents
	if n := d.Noise; n != nil {
		if d.rng == nil {
			d.rng = rand.New(rand.NewPCG(n.Seed, n.Seed^0x9e3779b97f4a7c15))
		}
		near := achieved >= d.KneePPS*(1-n.Band)
		if near && d.rng.Float64() < n.BurstProb {
			burst := min(forwarded, 1+uint64(d.rng.IntN(1000)))
			forwarded -= burst
			if d.rng.Float64() >= n.Unflagged {
				ev.Gaps++
				ev.IPIs += uint64(1 + d.rng.IntN(3))
			}
		}
		if d.rng.Float64() < n.QuietProb {
			ev.Interrupts++
		}
	}
	size := spec.FrameSize.AvgBytes()
	t := ndr.Trial{
		TrialSpec:     spec,
		Sent:          sent,
		Received:      forwarded,
		SentBytes:     uint64(float64(sent) * size),
		ReceivedBytes: uint64(float64(forwarded) * size),
		Ledger:        map[string]uint64{layer: sent - forwarded},
		Guard:         ev,
		Queues:        []ndr.QueueCounts{{Port: "sim", Queue: 0, Packets: forwarded, Bytes: uint64(float64(forwarded) * size)}},
	}
	if d.Latency {
		t.Latency = latency(achieved, d.KneePPS, sent-forwarded)
	}
	return t, nil
}

// latency models a queue in front of the DUT: waiting grows as the load
// approaches the knee (ρ/(1−ρ)) and is bounded by a full ring above it.
func latency(rate, knee float64, lost uint64) *ndr.Latency {
	rho := math.Min(rate/knee, 0.995)
	base := 2000.0 // ns
	q := rho / (1 - rho)
	f := func(mult float64) uint64 { return uint64(base + 400*q*mult) }
	return &ndr.Latency{Valid: true, Reason: "simulated DUT", P50Ns: f(0.7), P90Ns: f(2.3), P99Ns: f(4.6), P999Ns: f(6.9), MaxNs: f(10), SeqGaps: lost}
}

// Parse parses a --sim spec: "knee:K" (a sharp knee), "noisy:K[:SEED]"
// (a noisy knee) or "gen:G:K" (a generator limited to G in front of a knee
// at K); rates as ndr.ParseRate takes them ("1.2Mpps").
func Parse(s string) (*DUT, error) {
	kind, rest, _ := strings.Cut(s, ":")
	args := strings.Split(rest, ":")
	bad := fmt.Errorf("%w: --sim %q: want knee:RATE, noisy:RATE[:SEED] or gen:GENRATE:RATE (e.g. knee:1.2Mpps)", ndr.ErrInvalid, s)
	rate := func(i int) (float64, error) {
		if i >= len(args) {
			return 0, bad
		}
		v, err := ndr.ParseRate(args[i])
		if err != nil {
			return 0, fmt.Errorf("--sim %q: %w", s, err)
		}
		return v, nil
	}
	switch kind {
	case "knee":
		k, err := rate(0)
		if err != nil || len(args) != 1 {
			return nil, errOr(err, bad)
		}
		return Knee(k), nil
	case "noisy":
		k, err := rate(0)
		if err != nil || len(args) > 2 {
			return nil, errOr(err, bad)
		}
		seed := uint64(1)
		if len(args) == 2 {
			if seed, err = strconv.ParseUint(args[1], 10, 64); err != nil {
				return nil, bad
			}
		}
		return NoisyKnee(k, seed), nil
	case "gen":
		g, err := rate(0)
		if err != nil {
			return nil, err
		}
		k, err := rate(1)
		if err != nil || len(args) != 2 {
			return nil, errOr(err, bad)
		}
		return GeneratorLimited(g, k), nil
	}
	return nil, bad
}

func errOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}
