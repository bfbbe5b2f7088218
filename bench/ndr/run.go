package ndr

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Schema is the version of results.json's layout.
const Schema = 1

// Machine identifies the host and the code measured; the caller fills it.
type Machine struct {
	Host           string `json:"host"`
	CPUModel       string `json:"cpu_model"`
	Kernel         string `json:"kernel"`
	DPDKVersion    string `json:"dpdk_version"`
	NIC            string `json:"nic"`
	Driver         string `json:"driver"`
	RxprobeVersion string `json:"rxprobe_version"`
}

// Results is results.json: everything a benchmark measured.
type Results struct {
	Schema  int     `json:"schema"`
	Machine Machine `json:"machine"`
	// ConfigPath and ConfigText are the rxprobe config the bench ran with.
	ConfigPath string `json:"config_path"`
	ConfigText string `json:"config_text"`
	// ScenarioPath and ScenarioText are the bench scenario, if any.
	ScenarioPath string `json:"scenario_path,omitempty"`
	ScenarioText string `json:"scenario_text,omitempty"`
	Settings     Config `json:"settings"`
	// Simulated names the simulated DUT ("" for a real one).
	Simulated  string    `json:"simulated,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Complete is false when the benchmark was interrupted or failed:
	// Sizes and Trials hold what was measured until then.
	Complete bool   `json:"complete"`
	Error    string `json:"error,omitempty"`
	// Units states how rates are counted.
	Units  string       `json:"units"`
	Sizes  []SizeResult `json:"sizes"`
	Trials []Trial      `json:"trials"`
}

// Units is the statement Results.Units carries.
const Units = "frame sizes include the 4 B FCS; Gbit/s are on the wire with 20 B preamble+SFD+IFG per frame; loss = (sent − received) / sent, generator shortfall excluded"

// Options are a benchmark's inputs besides the search settings.
type Options struct {
	Machine    Machine
	ConfigPath string
	ConfigText string
	// ScenarioPath and ScenarioText are the bench scenario ("": none).
	ScenarioPath, ScenarioText string
	Simulated                  string
	// Progress receives one line per trial (nil: none).
	Progress io.Writer
}

// Run searches every frame size of cfg (defaults applied) in order. It
// returns the results so far with Complete false and the error when a
// search fails or ctx is cancelled (Ctrl-C); write them either way.
func Run(ctx context.Context, cfg Config, r Runner, o Options) (*Results, error) {
	cfg = cfg.WithDefaults()
	res := &Results{Schema: Schema, Machine: o.Machine, ConfigPath: o.ConfigPath, ConfigText: o.ConfigText,
		ScenarioPath: o.ScenarioPath, ScenarioText: o.ScenarioText, Settings: cfg, Simulated: o.Simulated, StartedAt: time.Now().UTC(), Units: Units}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := newProgress(o.Progress, cfg)
	var err error
	for i, size := range cfg.FrameSizes {
		var sr SizeResult
		sr, err = Search(ctx, cfg, size, r, func(t *Trial) {
			t.Index = len(res.Trials)
			res.Trials = append(res.Trials, *t)
			p.trial(i, t)
		})
		record := func(t *Trial) {
			t.Index = len(res.Trials)
			res.Trials = append(res.Trials, *t)
			p.trial(i, t)
		}
		if err == nil {
			err = latencyPhase(ctx, cfg, r, &sr, record)
		}
		res.Sizes = append(res.Sizes, sr)
		p.sizeDone(sr)
		if err != nil {
			break
		}
	}
	res.FinishedAt = time.Now().UTC()
	res.Complete = err == nil
	if err != nil {
		res.Error = err.Error()
	}
	return res, err
}

// LatencyPoint is the latency measured at one fraction of the PDR.
type LatencyPoint struct {
	// Load is the fraction of the PDR; RatePPS the rate offered.
	Load    float64  `json:"load"`
	RatePPS float64  `json:"rate_pps"`
	Trial   int      `json:"trial"` // index in Results.Trials
	Latency *Latency `json:"latency,omitempty"`
	// Lost is the trial's loss ratio (a latency figure with loss is
	// measured, but is not a lossless one).
	Lost float64 `json:"loss_ratio"`
}

// Confirmation is the NDR's trial repeated at full duration once the
// search converged (Config.Confirm times): the NDR holds when none of the
// repeats lost a packet. A repeat that loses stops the repeats: it is a
// full-duration measurement with loss at that rate, so the rate is not
// an NDR (SizeResult.Rejected) and the search goes on below it.
type Confirmation struct {
	RatePPS float64 `json:"rate_pps"`
	// Asked is the number of repeats asked for (Config.Confirm).
	Asked int `json:"asked"`
	// Trials are the repeats' indexes in Results.Trials.
	Trials []int `json:"trials"`
	// Lossy counts the repeats that lost packets (0 or, for a rejected
	// rate, 1); MaxLossRatio is the highest loss among them and Layers
	// the first layer of each lossy repeat's loss.
	Lossy        int      `json:"lossy"`
	MaxLossRatio float64  `json:"max_loss_ratio"`
	Layers       []string `json:"layers,omitempty"`
	// GeneratorLimited and Disturbed count repeats so flagged (their
	// loss still counts: a repeat is not repeated again).
	GeneratorLimited int `json:"generator_limited"`
	Disturbed        int `json:"disturbed"`
}

// record adds a repeat to c.
func (c *Confirmation) record(t *Trial) {
	c.Trials = append(c.Trials, t.Index)
	if t.Lost > 0 {
		c.Lossy++
		c.MaxLossRatio = max(c.MaxLossRatio, t.LossRatio)
		c.Layers = append(c.Layers, orNone(t.FirstLayer()))
	}
	if t.GeneratorLimited {
		c.GeneratorLimited++
	}
	if t.Disturbed {
		c.Disturbed++
	}
}

// Held reports whether every repeat asked for ran and lost nothing (an
// interrupted confirmation has not held).
func (c *Confirmation) Held() bool {
	return c != nil && len(c.Trials) > 0 && len(c.Trials) >= c.Asked && c.Lossy == 0
}

// String says in a few words how the repeats went ("not repeated" for
// none, also for a nil c).
func (c *Confirmation) String() string {
	switch {
	case c == nil || len(c.Trials) == 0:
		return "not repeated"
	case c.Held():
		return fmt.Sprintf("%d repeats lossless", len(c.Trials))
	case c.Lossy == 0:
		return fmt.Sprintf("%d of %d repeats run, lossless", len(c.Trials), c.Asked)
	}
	return fmt.Sprintf("%d of %d repeats lost", c.Lossy, len(c.Trials))
}

// phaseTrial runs one trial of a phase after the search and emits it.
func phaseTrial(ctx context.Context, cfg Config, r Runner, spec TrialSpec, phase string, emit func(*Trial)) (*Trial, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := r.Trial(ctx, spec)
	if err != nil {
		return nil, err
	}
	t.TrialSpec = spec
	if err := t.Finish(cfg.GenTolerance); err != nil {
		return nil, err
	}
	t.Phase = phase
	emit(&t)
	return &t, nil
}

// latencyPhase runs one full trial at each of cfg.LatencyLoads of the PDR
// and records its latency in sr (valid or not: the trial says why not).
func latencyPhase(ctx context.Context, cfg Config, r Runner, sr *SizeResult, emit func(*Trial)) error {
	if len(cfg.LatencyLoads) == 0 || !sr.PDR.Found || sr.PDR.PPS <= 0 {
		return nil
	}
	for _, f := range cfg.LatencyLoads {
		t, err := phaseTrial(ctx, cfg, r, TrialSpec{FrameSize: sr.FrameSize, RatePPS: f * sr.PDR.PPS, Duration: cfg.TrialDuration}, PhaseLatency, emit)
		if err != nil {
			return fmt.Errorf("ndr: latency trial at %.0f %% of the PDR: %w", 100*f, err)
		}
		sr.Latency = append(sr.Latency, LatencyPoint{Load: f, RatePPS: t.EffectiveRate(), Trial: t.Index, Latency: t.Latency, Lost: t.LossRatio})
	}
	return nil
}

// progress prints one line per trial with an estimate of the trial time
// left (ETA): finished sizes' mean, or for the first size the trials a
// search of this precision usually needs.
type progress struct {
	w        io.Writer
	cfg      Config
	done     int
	doneSecs float64
	cur      float64
}

func newProgress(w io.Writer, cfg Config) *progress { return &progress{w: w, cfg: cfg} }

// perSize estimates one frame size's trial seconds.
func (p *progress) perSize() float64 {
	if p.done > 0 {
		return p.doneSecs / float64(p.done)
	}
	prec := p.cfg.Precision
	if prec == 0 {
		prec = DefaultPrecision
	}
	steps := math.Ceil(math.Log2(1/(prec*DefaultMinFraction))) + 2
	full, short := p.cfg.TrialDuration.Seconds(), p.cfg.ShortDuration.Seconds()
	// after the search: the NDR's repeats and the latency trials
	after := float64(p.cfg.Confirm+len(p.cfg.LatencyLoads)) * full
	if p.cfg.Algorithm == Binary {
		return steps*full + after
	}
	return steps/2*short + 2*full + after
}

func (p *progress) trial(size int, t *Trial) {
	p.cur += t.Duration.Seconds()
	if p.w == nil {
		return
	}
	left := float64(len(p.cfg.FrameSizes)-size-1)*p.perSize() + max(0, p.perSize()-p.cur)
	flags := ""
	if t.GeneratorLimited {
		flags += fmt.Sprintf(" generator-limited (%.4f Mpps)", t.AchievedPPS/1e6)
	}
	if t.Disturbed {
		flags += fmt.Sprintf(" disturbed (%d guard events)", t.Guard.Total())
	}
	fmt.Fprintf(p.w, "[%s %d/%d] %s trial %d %s %v @ %.4f Mpps: loss %.4f%%%s | trial time %s, ETA ~%s\n",
		t.FrameSize, size+1, len(p.cfg.FrameSizes), bar(p.doneSecs+p.cur, left), t.Index+1, t.Phase, t.Duration, t.RatePPS/1e6, 100*t.LossRatio, flags,
		secs(p.doneSecs+p.cur), secs(left))
}

func (p *progress) sizeDone(r SizeResult) {
	p.done++
	p.doneSecs += p.cur
	p.cur = 0
}

// bar draws the share of the estimated trial time done, 20 cells wide
// ("[#######.............]  35%").
func bar(done, left float64) string {
	f := 1.0
	if done+left > 0 {
		f = done / (done + left)
	}
	n := int(math.Round(20 * f))
	return fmt.Sprintf("[%s%s] %3.0f%%", strings.Repeat("#", n), strings.Repeat(".", 20-n), 100*f)
}

func secs(s float64) string { return (time.Duration(s) * time.Second).String() }

// WriteJSON writes r as indented JSON to path, atomically.
func WriteJSON(path string, r *Results) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("ndr: %w", err)
	}
	return writeAtomic(path, append(b, '\n'))
}

// ReadJSON reads a results.json.
func ReadJSON(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ndr: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("ndr: %s: %w", path, err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("ndr: %s: schema %d, want %d: %w", path, r.Schema, Schema, ErrInvalid)
	}
	return &r, nil
}

func writeAtomic(path string, b []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("ndr: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("ndr: %w", err)
	}
	return nil
}
