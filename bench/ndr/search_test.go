package ndr_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/bench/ndr"
	"github.com/rxprobe/rxprobe/bench/ndr/sim"
)

// testConfig is a 10 Gbit/s search of 64 B frames (line rate 14.88 Mpps).
func testConfig(alg string) ndr.Config {
	return ndr.Config{FrameSizes: []ndr.FrameSize{ndr.Fixed(64)}, Algorithm: alg, LineRateGbps: 10,
		TrialDuration: 30 * time.Second, ShortDuration: 2 * time.Second}.WithDefaults()
}

func search(t *testing.T, cfg ndr.Config, r ndr.Runner) (ndr.SizeResult, []ndr.Trial) {
	t.Helper()
	var trials []ndr.Trial
	res, err := ndr.Search(context.Background(), cfg, cfg.FrameSizes[0], r, func(tr *ndr.Trial) { trials = append(trials, *tr) })
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	return res, trials
}

// within checks that got is a lower bound of the true rate want within
// the search's relative precision.
func within(t *testing.T, what string, got, want, prec float64) {
	t.Helper()
	if got > want*(1+1e-9) || got < want*(1-prec) {
		t.Errorf("%s = %.0f pps, want within %.2f%% below %.0f", what, got, 100*prec, want)
	}
}

func TestNDRSharpKnee(t *testing.T) {
	const knee = 1.2e6
	for _, alg := range []string{ndr.MLR, ndr.Binary} {
		t.Run(alg, func(t *testing.T) {
			cfg := testConfig(alg)
			res, trials := search(t, cfg, sim.Knee(knee))
			within(t, "NDR", res.NDR.PPS, knee, cfg.Precision)
			within(t, "PDR", res.PDR.PPS, knee/(1-cfg.PDRLoss), cfg.Precision)
			if !res.NDR.Confirmed || !res.PDR.Confirmed || !res.Complete {
				t.Errorf("NDR/PDR not confirmed at full duration or incomplete: %+v", res)
			}
			if res.LimitingLayer != sim.DefaultLayer {
				t.Errorf("limiting layer %q, want %q", res.LimitingLayer, sim.DefaultLayer)
			}
			if res.GeneratorLimitedPPS != 0 || res.NDR.AtLeast {
				t.Errorf("sharp knee reported generator-limited or at-least: %+v", res)
			}
			if len(trials) != res.Trials || res.Trials != res.ShortTrials+res.FullTrials {
				t.Errorf("trial counts: %d emitted, result %d = %d short + %d full", len(trials), res.Trials, res.ShortTrials, res.FullTrials)
			}
			for _, tr := range trials {
				if tr.Unaccounted != 0 || tr.Sent != tr.Received+tr.LostBeforeLoop() {
					t.Errorf("trial %d: sent %d != received %d + ledger %d", tr.Index, tr.Sent, tr.Received, tr.LostBeforeLoop())
				}
				if alg == ndr.Binary && tr.Phase != ndr.PhaseFull {
					t.Errorf("binary ran a %s trial", tr.Phase)
				}
			}
			t.Logf("%s: NDR %.0f PDR %.0f: %d trials (%d full)", alg, res.NDR.PPS, res.PDR.PPS, res.Trials, res.FullTrials)
		})
	}
}

func TestNDRMLRFewerFullTrials(t *testing.T) {
	for _, knee := range []float64{0.3e6, 1.2e6, 7e6, 14e6} {
		m, _ := search(t, testConfig(ndr.MLR), sim.Knee(knee))
		b, _ := search(t, testConfig(ndr.Binary), sim.Knee(knee))
		if m.FullTrials >= b.FullTrials {
			t.Errorf("knee %.0f: mlr %d full trials, binary %d: want fewer", knee, m.FullTrials, b.FullTrials)
		}
		if m.TrialSeconds >= b.TrialSeconds {
			t.Errorf("knee %.0f: mlr %.0f s of trials, binary %.0f s: want less", knee, m.TrialSeconds, b.TrialSeconds)
		}
		t.Logf("knee %.0f: mlr %d trials (%d full, %.0f s), binary %d full (%.0f s)", knee, m.Trials, m.FullTrials, m.TrialSeconds, b.FullTrials, b.TrialSeconds)
	}
}

func TestNDRNoisyKnee(t *testing.T) {
	const knee, seeds = 1.2e6, 40
	for _, alg := range []string{ndr.MLR, ndr.Binary} {
		t.Run(alg, func(t *testing.T) {
			cfg := testConfig(alg)
			good, disturbed, repeats := 0, 0, 0
			for seed := range uint64(seeds) {
				res, trials := search(t, cfg, sim.NoisyKnee(knee, seed))
				if res.NDR.PPS <= knee*(1+1e-9) && res.NDR.PPS >= knee*(1-cfg.Precision) {
					good++
				}
				disturbed += res.Disturbed
				repeats += res.Repeats
				for i, tr := range trials {
					// A disturbed trial with repeats left is followed by its repeat.
					if tr.Disturbed && tr.Repeat < cfg.MaxRepeats {
						if tr.Decisive || i+1 == len(trials) || trials[i+1].Repeat != tr.Repeat+1 || trials[i+1].RatePPS != tr.RatePPS {
							t.Fatalf("seed %d: disturbed trial %d not repeated", seed, tr.Index)
						}
					}
				}
			}
			if good < seeds*8/10 {
				t.Errorf("NDR within precision of the knee in %d of %d seeds, want ≥ 80%%", good, seeds)
			}
			if disturbed == 0 || repeats == 0 {
				t.Errorf("noise never disturbed a trial (%d) or caused a repeat (%d): the test does not exercise them", disturbed, repeats)
			}
			t.Logf("%s: %d/%d seeds within precision; %d disturbed, %d repeats", alg, good, seeds, disturbed, repeats)
		})
	}
}

func TestNDRGeneratorLimitedNeverBlamesDUT(t *testing.T) {
	const gen, knee = 0.8e6, 1.2e6
	for _, alg := range []string{ndr.MLR, ndr.Binary} {
		t.Run(alg, func(t *testing.T) {
			cfg := testConfig(alg)
			res, trials := search(t, cfg, sim.GeneratorLimited(gen, knee))
			limited := 0
			for _, tr := range trials {
				if tr.Lost != 0 || tr.LossRatio != 0 {
					t.Errorf("trial %d at %.0f pps: DUT loss %d reported for a generator shortfall", tr.Index, tr.RatePPS, tr.Lost)
				}
				if tr.GeneratorLimited {
					limited++
				}
			}
			if limited == 0 {
				t.Fatal("no trial was generator-limited: the detector is not exercised")
			}
			if res.GeneratorLimitedPPS != gen {
				t.Errorf("generator-limited at %.0f, want %.0f", res.GeneratorLimitedPPS, gen)
			}
			if res.NDR.PPS != gen || !res.NDR.AtLeast || !res.NDR.Confirmed || res.PDR.PPS != gen {
				t.Errorf("NDR %+v PDR %+v: want at least %.0f, confirmed", res.NDR, res.PDR, gen)
			}
			if res.LimitingLayer != "" {
				t.Errorf("limiting layer %q: the DUT lost nothing", res.LimitingLayer)
			}
		})
	}
}

func TestNDRLossAtMinRate(t *testing.T) {
	cfg := testConfig(ndr.MLR)
	res, _ := search(t, cfg, sim.Knee(1000)) // below 1 % of line rate
	if res.NDR.Found || res.PDR.Found {
		t.Errorf("NDR %+v: want not found (loss at the lowest rate)", res.NDR)
	}
	lo, _ := cfg.Range(cfg.FrameSizes[0])
	if math.Abs(res.MinRatePPS-lo) > 1 {
		t.Errorf("min rate %.0f, want %.0f", res.MinRatePPS, lo)
	}
}

func TestNDRNoLossUpToLineRate(t *testing.T) {
	cfg := testConfig(ndr.MLR)
	res, _ := search(t, cfg, sim.Knee(20e6))
	if !res.NDR.AtLeast || math.Abs(res.NDR.PctLine-100) > 1e-6 || !res.NDR.Confirmed {
		t.Errorf("NDR %+v: want at least 100%% of line rate, confirmed", res.NDR)
	}
}

func TestNDRCancel(t *testing.T) {
	cfg := testConfig(ndr.MLR)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	r := ndr.RunnerFunc(func(c context.Context, s ndr.TrialSpec) (ndr.Trial, error) {
		if n++; n == 3 {
			cancel()
		}
		return sim.Knee(1.2e6).Trial(c, s)
	})
	res, err := ndr.Search(ctx, cfg, cfg.FrameSizes[0], r, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if res.Complete || res.Trials != 2 {
		t.Errorf("complete %v after %d trials, want incomplete after 2 (the third was cancelled)", res.Complete, res.Trials)
	}
}

// A DUT whose buffers hide loss in short trials: full trials lose
// between 98 % of the knee and the knee. mlr's confirmation at full
// duration fails there, and the search continues below.
func TestNDRFailedConfirmationSearchesBelow(t *testing.T) {
	const knee, real = 1.2e6, 0.98 * 1.2e6
	cfg := testConfig(ndr.MLR)
	r := ndr.RunnerFunc(func(ctx context.Context, s ndr.TrialSpec) (ndr.Trial, error) {
		k := knee
		if s.Duration >= cfg.TrialDuration {
			k = real
		}
		return sim.Knee(k).Trial(ctx, s)
	})
	res, trials := search(t, cfg, r)
	failed := 0
	for _, tr := range trials {
		if tr.Phase == ndr.PhaseFull && tr.Lost > 0 {
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("no full-duration confirmation failed: the test does not exercise it")
	}
	within(t, "NDR", res.NDR.PPS, real, cfg.Precision)
	if !res.NDR.Confirmed {
		t.Errorf("NDR %+v not confirmed at full duration", res.NDR)
	}
	t.Logf("%d failed confirmations, %d trials (%d full)", failed, res.Trials, res.FullTrials)
}

// A generator that falls short above the knee caps the search, but the
// DUT's own loss below the cap still finds the knee.
func TestNDRGeneratorAboveKnee(t *testing.T) {
	const gen, knee = 1.5e6, 1.2e6
	cfg := testConfig(ndr.MLR)
	res, _ := search(t, cfg, sim.GeneratorLimited(gen, knee))
	within(t, "NDR", res.NDR.PPS, knee, cfg.Precision)
	if res.NDR.AtLeast || res.GeneratorLimitedPPS != gen || res.LimitingLayer != sim.DefaultLayer {
		t.Errorf("NDR %+v, generator-limited %.0f, layer %q: want the knee, a generator cap at %.0f, layer %s",
			res.NDR, res.GeneratorLimitedPPS, res.LimitingLayer, gen, sim.DefaultLayer)
	}
}

func TestNDRGeneratorSentNothing(t *testing.T) {
	cfg := testConfig(ndr.MLR)
	r := ndr.RunnerFunc(func(ctx context.Context, s ndr.TrialSpec) (ndr.Trial, error) {
		return ndr.Trial{TrialSpec: s}, nil
	})
	res, err := ndr.Search(context.Background(), cfg, cfg.FrameSizes[0], r, nil)
	if !errors.Is(err, ndr.ErrCounters) || res.Complete {
		t.Errorf("err %v, complete %v: want ErrCounters, incomplete", err, res.Complete)
	}
}
