package ndr

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid is matched (errors.Is) by every validation error.
var ErrInvalid = errors.New("invalid bench setting")

// Search algorithms.
const (
	// MLR narrows the interval with short trials, jumping to the rate the
	// measured loss predicts, and confirms the bounds at full duration.
	MLR = "mlr"
	// Binary bisects with full-duration trials only.
	Binary = "binary"
)

// Config is one benchmark's search settings. A zero field takes the
// default named on it (WithDefaults).
type Config struct {
	FrameSizes []FrameSize `json:"frame_sizes"`
	// Algorithm is MLR (default) or Binary.
	Algorithm string `json:"algorithm"`
	// TrialDuration is a full trial (default 30 s).
	TrialDuration time.Duration `json:"trial_duration_ns"`
	// ShortDuration is a narrowing trial of MLR (default 2 s).
	ShortDuration time.Duration `json:"short_duration_ns"`
	// Precision is the relative width the interval must reach: hi − lo ≤
	// Precision × hi (default 0.005 unless PrecisionPPS is set; 0: off).
	Precision float64 `json:"precision"`
	// PrecisionPPS, when > 0, is an absolute width the interval must
	// reach as well: hi − lo ≤ PrecisionPPS.
	PrecisionPPS float64 `json:"precision_pps,omitempty"`
	// PDRLoss is the loss ratio the PDR allows (default 0.005).
	PDRLoss float64 `json:"pdr_loss"`
	// LineRateGbps is the link speed; with the frame size it gives the
	// search's maximum and the % of line rate. 0: unknown (MaxRatePPS is
	// needed then).
	LineRateGbps float64 `json:"line_rate_gbps"`
	// MaxRatePPS caps the search (the generator's maximum); 0: line rate.
	MaxRatePPS float64 `json:"max_rate_pps,omitempty"`
	// MinRatePPS is the lowest rate tried; 0: 1 % of the maximum.
	MinRatePPS float64 `json:"min_rate_pps,omitempty"`
	// GenTolerance is the shortfall allowed before a trial is
	// generator-limited: achieved < target × (1 − GenTolerance)
	// (default 0.005).
	GenTolerance float64 `json:"gen_tolerance"`
	// MaxRepeats is how often a disturbed trial is repeated (default 2;
	// NoRepeats: never, on a host where every trial is disturbed).
	MaxRepeats int `json:"max_repeats"`
	// MaxTrials stops a frame size's search that has not converged
	// (default 100).
	MaxTrials int `json:"max_trials"`
	// Confirm is how often the NDR's trial is repeated at full duration
	// once the search converged (0: not repeated). A repeat that loses
	// rejects that rate (SizeResult.Rejected) and the search goes on below
	// it, so the NDR reported held every one of its repeats
	// (SizeResult.Confirm).
	Confirm int `json:"confirm,omitempty"`
	// LatencyLoads, when set, runs one full-duration trial per fraction
	// of the PDR after each frame size's search (CSIT: 0.1, 0.5, 0.9),
	// for the latency at those loads; the runner must measure latency.
	LatencyLoads []float64 `json:"latency_loads,omitempty"`
}

func loadsValid(loads []float64) bool {
	for _, f := range loads {
		if !(f > 0 && f <= 1) {
			return false
		}
	}
	return true
}

// DefaultLatencyLoads are the PDR fractions latency is measured at.
var DefaultLatencyLoads = []float64{0.1, 0.5, 0.9}

// Defaults.
const (
	DefaultTrial        = 30 * time.Second
	DefaultShort        = 2 * time.Second
	DefaultPrecision    = 0.005
	DefaultPDRLoss      = 0.005
	DefaultGenTolerance = 0.005
	DefaultMaxRepeats   = 2
	// NoRepeats as MaxRepeats: a disturbed trial is kept as measured.
	NoRepeats        = -1
	DefaultMaxTrials = 100
	// MaxConfirm bounds Config.Confirm.
	MaxConfirm = 100
	// DefaultMinFraction of the maximum is the lowest rate tried.
	DefaultMinFraction = 0.01
)

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Algorithm == "" {
		c.Algorithm = MLR
	}
	if c.TrialDuration == 0 {
		c.TrialDuration = DefaultTrial
	}
	if c.ShortDuration == 0 {
		c.ShortDuration = DefaultShort
	}
	if c.Precision == 0 && c.PrecisionPPS == 0 {
		c.Precision = DefaultPrecision
	}
	if c.PDRLoss == 0 {
		c.PDRLoss = DefaultPDRLoss
	}
	if c.GenTolerance == 0 {
		c.GenTolerance = DefaultGenTolerance
	}
	if c.MaxRepeats == 0 {
		c.MaxRepeats = DefaultMaxRepeats
	}
	if c.MaxTrials == 0 {
		c.MaxTrials = DefaultMaxTrials
	}
	return c
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Validate checks c (defaults applied) and says in one line what is wrong
// and how to fix it.
func (c Config) Validate() error {
	switch {
	case len(c.FrameSizes) == 0:
		return invalid("no frame sizes: give at least one (e.g. --frame-sizes 64,1518)")
	case c.Algorithm != MLR && c.Algorithm != Binary:
		return invalid("search %q: want mlr or binary", c.Algorithm)
	case c.TrialDuration <= 0:
		return invalid("trial duration %v: want > 0 (e.g. 30s)", c.TrialDuration)
	case c.ShortDuration <= 0 || c.ShortDuration > c.TrialDuration:
		return invalid("short trial %v: want > 0 and at most the full trial %v", c.ShortDuration, c.TrialDuration)
	case !(c.Precision >= 0 && c.Precision < 1):
		return invalid("precision %g: want a relative width above 0 and below 100%% (e.g. 0.5%%)", c.Precision)
	case c.PrecisionPPS < 0 || math.IsNaN(c.PrecisionPPS):
		return invalid("absolute precision %g pps: want above 0 (e.g. 1000pps)", c.PrecisionPPS)
	case c.Precision == 0 && c.PrecisionPPS == 0:
		return invalid("precision 0: want a width above 0 (0.5%% or 1000pps)")
	case !(c.PDRLoss > 0 && c.PDRLoss < 1):
		return invalid("pdr loss %g: want a ratio above 0 and below 100%% (e.g. 0.5%%)", c.PDRLoss)
	case c.LineRateGbps < 0 || math.IsNaN(c.LineRateGbps):
		return invalid("line_rate_gbps %g: want ≥ 0", c.LineRateGbps)
	case c.MaxRatePPS < 0 || math.IsNaN(c.MaxRatePPS):
		return invalid("max rate %g pps: want ≥ 0", c.MaxRatePPS)
	case c.LineRateGbps == 0 && c.MaxRatePPS == 0:
		return invalid("no maximum rate: set line_rate_gbps on the DUT port in the config (or a generator maximum)")
	case c.MinRatePPS < 0 || math.IsNaN(c.MinRatePPS):
		return invalid("min rate %g pps: want ≥ 0", c.MinRatePPS)
	case !(c.GenTolerance > 0 && c.GenTolerance < 1):
		return invalid("generator tolerance %g: want above 0 and below 1", c.GenTolerance)
	case c.Confirm < 0 || c.Confirm > MaxConfirm:
		return invalid("confirm %d: want 0 to %d full-duration repeats of the NDR trial", c.Confirm, MaxConfirm)
	case c.MaxRepeats < NoRepeats:
		return invalid("max repeats %d: want ≥ 0 (or %d: never)", c.MaxRepeats, NoRepeats)
	case c.MaxTrials < 2:
		return invalid("max trials %d: want ≥ 2", c.MaxTrials)
	case !loadsValid(c.LatencyLoads):
		return invalid("latency loads %v: want fractions of the PDR above 0 and at most 1 (e.g. 0.1, 0.5, 0.9)", c.LatencyLoads)
	}
	for _, f := range c.FrameSizes {
		if len(f.Mix) == 0 || f.AvgBytes() < MinFrame {
			return invalid("frame size %q: empty mix or mean below %d B", f.Name, MinFrame)
		}
		if lo, hi := c.Range(f); lo >= hi {
			return invalid("frame size %s: min rate %.0f pps is not below the maximum %.0f pps", f, lo, hi)
		}
	}
	return nil
}

// Range is the search interval for f: from MinRatePPS (or 1 % of the
// maximum) to the lower of line rate and MaxRatePPS.
func (c Config) Range(f FrameSize) (lo, hi float64) {
	hi = math.Inf(1)
	if c.LineRateGbps > 0 {
		hi = f.LineRatePPS(c.LineRateGbps)
	}
	if c.MaxRatePPS > 0 {
		hi = min(hi, c.MaxRatePPS)
	}
	lo = c.MinRatePPS
	if lo == 0 {
		lo = hi * DefaultMinFraction
	}
	return lo, hi
}

// Text is the search settings as typed, as flags or in a scenario file.
// An empty MaxRate, MinRate or GenTolerance leaves the Config's field
// alone (Parse).
type Text struct {
	FrameSizes, Precision, PDRLoss, MaxRate, MinRate, GenTolerance string
}

// Parse parses t into c's fields. name turns a setting's key
// (frame_sizes, precision, pdr_loss, max_rate, min_rate, gen_tolerance)
// into the name an error gives it: the scenario's key, or its flag
// ("--pdr-loss").
func (t Text) Parse(c *Config, name func(key string) string) error {
	var err error
	if c.FrameSizes, err = ParseFrameSizes(t.FrameSizes); err != nil {
		return fmt.Errorf("%s: %w", name("frame_sizes"), err)
	}
	if c.Precision, c.PrecisionPPS, err = ParsePrecision(t.Precision); err != nil {
		return fmt.Errorf("%s: %w", name("precision"), err)
	}
	if !(c.Precision > 0 || c.PrecisionPPS > 0) {
		return invalid("%s %s: want a width above 0 (0.5%% or 1000pps)", name("precision"), t.Precision)
	}
	if c.PDRLoss, err = ParseRatio(t.PDRLoss); err != nil {
		return fmt.Errorf("%s: %w", name("pdr_loss"), err)
	}
	if !(c.PDRLoss > 0 && c.PDRLoss < 1) {
		return invalid("%s %s: want above 0 and below 100%% (e.g. 0.5%%)", name("pdr_loss"), t.PDRLoss)
	}
	for _, r := range []struct {
		key, text string
		dst       *float64
		parse     func(string) (float64, error)
	}{{"max_rate", t.MaxRate, &c.MaxRatePPS, ParseRate}, {"min_rate", t.MinRate, &c.MinRatePPS, ParseRate},
		{"gen_tolerance", t.GenTolerance, &c.GenTolerance, ParseRatio}} {
		if r.text == "" {
			continue
		}
		if *r.dst, err = r.parse(r.text); err != nil {
			return fmt.Errorf("%s: %w", name(r.key), err)
		}
	}
	return nil
}

// ParseRatio parses "0.5%" (a percentage) or "0.005" (a ratio).
func ParseRatio(s string) (float64, error) {
	t := strings.TrimSpace(s)
	div := 1.0
	if strings.HasSuffix(t, "%") {
		t, div = strings.TrimSuffix(t, "%"), 100
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, invalid("%q: want a percentage (0.5%%) or a ratio (0.005)", s)
	}
	return v / div, nil
}

// ParsePrecision parses a relative width ("0.5%") or an absolute one in
// packets per second ("10kpps", "1000pps", "0.01Mpps").
func ParsePrecision(s string) (rel, abs float64, err error) {
	t := strings.TrimSpace(s)
	if strings.HasSuffix(strings.ToLower(t), "pps") {
		abs, err = ParseRate(t)
		return 0, abs, err
	}
	rel, err = ParseRatio(t)
	return rel, 0, err
}

// ParseRate parses a packet rate: "1.2Mpps", "800kpps", "5000pps", "5000".
func ParseRate(s string) (float64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "pps")
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "m"):
		t, mult = strings.TrimSuffix(t, "m"), 1e6
	case strings.HasSuffix(t, "k"):
		t, mult = strings.TrimSuffix(t, "k"), 1e3
	case strings.HasSuffix(t, "g"):
		t, mult = strings.TrimSuffix(t, "g"), 1e9
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, invalid("rate %q: want a positive packet rate (1.2Mpps, 800kpps, 5000pps)", s)
	}
	return v * mult, nil
}
