package ndr

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrNoConvergence is matched when a search used Config.MaxTrials trials
// without reaching its precision.
var ErrNoConvergence = errors.New("search did not converge")

// Trial phases.
const (
	PhaseShort = "short"
	PhaseFull  = "full"
	// PhaseConfirm trials repeat the NDR's trial after the search.
	PhaseConfirm = "confirm"
	// PhaseLatency trials run after the search at fractions of the PDR.
	PhaseLatency = "latency"
)

// Rate is an NDR or PDR found for one frame size.
type Rate struct {
	// Found is false when the DUT lost packets even at the lowest rate.
	Found bool    `json:"found"`
	PPS   float64 `json:"pps"`
	Mpps  float64 `json:"mpps"`
	// Gbps counts each frame's 20 B of preamble and inter-frame gap.
	Gbps float64 `json:"gbps_l1"`
	// PctLine is PPS as % of line rate (0: line rate unknown).
	PctLine float64 `json:"pct_line_rate"`
	// AtLeast: no loss up to the search's maximum (line rate or the
	// generator): the rate is a lower bound, not a knee.
	AtLeast bool `json:"at_least"`
	// Confirmed: measured at full duration.
	Confirmed bool `json:"confirmed"`
	// LossRatio is the decisive trial's loss at PPS.
	LossRatio float64 `json:"loss_ratio"`
	// UpperPPS is the lowest rate above PPS that lost too much (0: none).
	UpperPPS float64 `json:"upper_pps,omitempty"`
}

// SizeResult is one frame size's search.
type SizeResult struct {
	FrameSize FrameSize `json:"frame_size"`
	WireBytes float64   `json:"wire_bytes"`
	// LineRatePPS is 0 when the line rate is unknown.
	LineRatePPS float64 `json:"line_rate_pps"`
	MinRatePPS  float64 `json:"min_rate_pps"`
	MaxRatePPS  float64 `json:"max_rate_pps"`
	NDR         Rate    `json:"ndr"`
	PDR         Rate    `json:"pdr"`
	// GeneratorLimitedPPS is the rate the generator reached when it fell
	// short of a target (0: never): rates above it were not measured, the
	// NDR is at least the NDR found, never lower because of it.
	GeneratorLimitedPPS float64 `json:"generator_limited_pps,omitempty"`
	// LimitingLayer is the first ledger layer that lost packets in the
	// trial just above the NDR ("unaccounted": loss no layer explains;
	// "": no loss seen).
	LimitingLayer string `json:"limiting_layer"`
	// Confirm is the final NDR's repeats at full duration (nil:
	// Config.Confirm 0, or no NDR found); Rejected are the earlier NDRs
	// whose repeats lost packets, in the order found.
	Confirm  *Confirmation  `json:"confirm,omitempty"`
	Rejected []Confirmation `json:"rejected,omitempty"`
	// ConfirmTrials counts the repeats (not in Trials).
	ConfirmTrials int `json:"confirm_trials,omitempty"`
	// Latency is the one-way latency at Config.LatencyLoads of the PDR
	// (empty without them, or when no PDR was found).
	Latency     []LatencyPoint `json:"latency,omitempty"`
	Trials      int            `json:"trials"`
	ShortTrials int            `json:"short_trials"`
	FullTrials  int            `json:"full_trials"`
	Disturbed   int            `json:"disturbed_trials"`
	Repeats     int            `json:"repeats"`
	// TrialSeconds sums the trials' durations; SearchSeconds is the wall
	// time of the search.
	TrialSeconds  float64 `json:"trial_seconds"`
	SearchSeconds float64 `json:"search_seconds"`
	Complete      bool    `json:"complete"`
	// Error says why the search stopped early ("" when it did not).
	Error string `json:"error,omitempty"`
}

type meas struct {
	rate, loss float64
	full       bool
	trial      *Trial
}

type searcher struct {
	cfg      Config
	size     FrameSize
	run      Runner
	emit     func(*Trial)
	min, max float64
	genCap   float64
	ms       []meas
	res      *SizeResult
	// per threshold (0 NDR, 1 PDR): consecutive jumps that did not halve
	// the interval, and the width before the last step.
	stalls    [2]int
	lastWidth [2]float64
}

// Search finds the NDR and PDR of one frame size. emit is called with
// every trial as it completes (for the caller's record and progress);
// the trials it is given are owned by the caller. On error (ctx
// cancelled, a runner failure, no convergence) the result holds what was
// found so far with Complete false.
func Search(ctx context.Context, cfg Config, size FrameSize, r Runner, emit func(*Trial)) (SizeResult, error) {
	lo, hi := cfg.Range(size)
	s := &searcher{cfg: cfg, size: size, run: r, emit: emit, min: lo, max: hi}
	res := SizeResult{FrameSize: size, WireBytes: size.WireBytes(), MinRatePPS: lo, MaxRatePPS: hi}
	if cfg.LineRateGbps > 0 {
		res.LineRatePPS = size.LineRatePPS(cfg.LineRateGbps)
	}
	s.res = &res
	start := time.Now()
	err := s.loop(ctx)
	res.SearchSeconds = time.Since(start).Seconds()
	res.GeneratorLimitedPPS = s.genCap
	s.fill(&res)
	res.Complete = err == nil
	if err != nil {
		res.Error = err.Error()
	}
	return res, err
}

func (s *searcher) loop(ctx context.Context) error {
	for {
		next, dur, done := s.step(0, 0)
		if done {
			next, dur, done = s.step(1, s.cfg.PDRLoss)
		}
		if done {
			if held, err := s.confirm(ctx); held || err != nil {
				return err
			}
			continue // the rate lost in a repeat: search on below it
		}
		if s.res.Trials >= s.cfg.MaxTrials {
			return fmt.Errorf("ndr: %s: %d trials: %w (raise the precision or the max trials)", s.size, s.res.Trials, ErrNoConvergence)
		}
		if err := s.measure(ctx, next, dur); err != nil {
			return err
		}
	}
}

// measure runs a trial at rate, repeating it while disturbed.
func (s *searcher) measure(ctx context.Context, rate float64, dur time.Duration) error {
	phase := PhaseFull
	if dur < s.cfg.TrialDuration {
		phase = PhaseShort
	}
	for rep := 0; ; rep++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ndr: %s: %w", s.size, err)
		}
		spec := TrialSpec{FrameSize: s.size, RatePPS: rate, Duration: dur}
		t, err := s.run.Trial(ctx, spec)
		if err != nil {
			return fmt.Errorf("ndr: %s: trial at %.0f pps: %w", s.size, rate, err)
		}
		t.TrialSpec, t.Phase, t.Repeat = spec, phase, rep
		if err := t.Finish(s.cfg.GenTolerance); err != nil {
			return err
		}
		t.Decisive = !t.Disturbed || rep >= s.cfg.MaxRepeats
		tp := &t
		s.count(tp)
		if s.emit != nil {
			s.emit(tp)
		}
		if !t.Decisive {
			continue
		}
		if t.GeneratorLimited && (s.genCap == 0 || t.AchievedPPS < s.genCap) {
			s.genCap = t.AchievedPPS
			s.max = min(s.max, t.AchievedPPS)
		}
		s.ms = append(s.ms, meas{rate: t.EffectiveRate(), loss: t.LossRatio, full: phase == PhaseFull, trial: tp})
		return nil
	}
}

// confirm repeats the NDR's trial Config.Confirm times at full duration.
// It reports whether the NDR held (true as well with no repeats asked or
// no NDR found). The first repeat that loses stops them: it becomes a
// full-duration measurement at that rate, the NDR found is recorded as
// rejected, and the search must go on.
func (s *searcher) confirm(ctx context.Context) (bool, error) {
	lo, _ := s.bounds(0)
	if s.cfg.Confirm == 0 || lo == nil {
		return true, nil
	}
	c := &Confirmation{RatePPS: lo.rate, Asked: s.cfg.Confirm}
	s.res.Confirm = c
	for i := range s.cfg.Confirm {
		if n := s.res.Trials + s.res.ConfirmTrials; n >= s.cfg.MaxTrials {
			return false, fmt.Errorf("ndr: %s: %d trials: %w (raise the precision or the max trials)", s.size, n, ErrNoConvergence)
		}
		spec := TrialSpec{FrameSize: s.size, RatePPS: lo.rate, Duration: s.cfg.TrialDuration}
		t, err := phaseTrial(ctx, s.cfg, s.run, spec, PhaseConfirm, func(t *Trial) {
			if s.emit != nil {
				s.emit(t)
			}
		})
		if err != nil {
			return false, fmt.Errorf("ndr: %s: NDR repeat %d of %d at %.0f pps: %w", s.size, i+1, s.cfg.Confirm, lo.rate, err)
		}
		s.res.ConfirmTrials++
		s.res.TrialSeconds += t.Duration.Seconds()
		c.record(t)
		if t.Lost > 0 {
			s.res.Rejected = append(s.res.Rejected, *c)
			s.res.Confirm = nil
			s.ms = append(s.ms, meas{rate: t.EffectiveRate(), loss: t.LossRatio, full: true, trial: t})
			return false, nil
		}
	}
	return true, nil
}

func (s *searcher) count(t *Trial) {
	r := s.res
	r.Trials++
	if t.Phase == PhaseFull {
		r.FullTrials++
	} else {
		r.ShortTrials++
	}
	if t.Disturbed {
		r.Disturbed++
	}
	if t.Repeat > 0 {
		r.Repeats++
	}
	r.TrialSeconds += t.Duration.Seconds()
}

// bounds are the highest rate that lost at most p below the lowest rate
// that lost more. A full-duration trial overrules short ones: a short
// trial's loss at or below a rate a full trial passed does not count.
func (s *searcher) bounds(p float64) (lo, hi *meas) {
	fullPass := -1.0
	for i := range s.ms {
		if m := &s.ms[i]; m.full && m.loss <= p {
			fullPass = max(fullPass, m.rate)
		}
	}
	for i := range s.ms {
		m := &s.ms[i]
		if m.loss > p && (m.full || m.rate > fullPass) && (hi == nil || m.rate < hi.rate) {
			hi = m
		}
	}
	for i := range s.ms {
		m := &s.ms[i]
		if m.loss > p || (hi != nil && m.rate >= hi.rate) {
			continue
		}
		if lo == nil || m.rate > lo.rate || (m.rate == lo.rate && m.full && !lo.full) {
			lo = m
		}
	}
	return lo, hi
}

// goal is the interval width the search must reach below hi: every
// width set, the narrower wins.
func (s *searcher) goal(hi float64) float64 {
	g := math.Inf(1)
	if s.cfg.Precision > 0 {
		g = s.cfg.Precision * hi
	}
	if s.cfg.PrecisionPPS > 0 {
		g = min(g, s.cfg.PrecisionPPS)
	}
	return g
}

func (s *searcher) dur() time.Duration {
	if s.cfg.Algorithm == MLR {
		return s.cfg.ShortDuration
	}
	return s.cfg.TrialDuration
}

// step says what to measure next for the threshold p (index i), or done.
func (s *searcher) step(i int, p float64) (rate float64, dur time.Duration, done bool) {
	lo, hi := s.bounds(p)
	const eps = 1e-9
	if hi == nil {
		if lo != nil && lo.rate >= s.max*(1-s.cfg.GenTolerance) {
			if lo.full {
				return 0, 0, true
			}
			return lo.rate, s.cfg.TrialDuration, false
		}
		return s.max, s.dur(), false
	}
	if hi.rate <= s.min*(1+eps) {
		return 0, 0, true // loss even at the lowest rate
	}
	floor := s.min
	if lo != nil {
		floor = lo.rate
	}
	w := hi.rate - floor
	g := s.goal(hi.rate)
	if w <= g {
		if lo == nil {
			return s.min, s.dur(), false
		}
		if lo.full {
			return 0, 0, true
		}
		return lo.rate, s.cfg.TrialDuration, false
	}
	mid := (floor + hi.rate) / 2
	if s.cfg.Algorithm == Binary {
		return mid, s.dur(), false
	}
	// A full trial bounds the interval (a failed confirmation): short
	// trials passed where full ones lose, so continue at full duration.
	d := s.dur()
	if hi.full {
		d = s.cfg.TrialDuration
	}
	if s.lastWidth[i] > 0 && w > s.lastWidth[i]/2 {
		s.stalls[i]++
	} else {
		s.stalls[i] = 0
	}
	s.lastWidth[i] = w
	if w <= 2*g || s.stalls[i] >= 2 {
		s.stalls[i] = 0
		return mid, d, false
	}
	// The rate the DUT forwarded at hi predicts where loss reaches p;
	// aim half a goal width below it, then one goal width above lo.
	// The steps are sized by the goal width at the estimate, not at hi
	// (hi may be far above the knee).
	est := hi.rate * (1 - hi.loss) / (1 - p)
	gj := s.goal(min(hi.rate, max(est, floor)))
	lower := floor + 0.99*gj
	if lo == nil {
		lower = floor
	}
	return math.Min(math.Max(est-gj/2, lower), hi.rate-0.99*gj), d, false
}

// fill sets the result's rates and limiting layer from the measurements.
func (s *searcher) fill(r *SizeResult) {
	r.NDR = s.rate(0)
	r.PDR = s.rate(s.cfg.PDRLoss)
	if _, hi := s.bounds(0); hi != nil {
		r.LimitingLayer = hi.trial.FirstLayer()
		if r.LimitingLayer == "" {
			r.LimitingLayer = "unaccounted"
		}
	}
}

func (s *searcher) rate(p float64) Rate {
	lo, hi := s.bounds(p)
	if lo == nil {
		return Rate{}
	}
	r := s.size
	out := Rate{Found: true, PPS: lo.rate, Mpps: lo.rate / 1e6, Gbps: r.Gbps(lo.rate), Confirmed: lo.full, LossRatio: lo.loss}
	if s.cfg.LineRateGbps > 0 {
		out.PctLine = 100 * lo.rate / r.LineRatePPS(s.cfg.LineRateGbps)
	}
	if hi == nil {
		out.AtLeast = true
	} else {
		out.UpperPPS = hi.rate
	}
	return out
}
