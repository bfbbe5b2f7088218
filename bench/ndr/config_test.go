package ndr_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/bench/ndr"
	"github.com/rxprobe/rxprobe/bench/ndr/sim"
)

func TestNDRConfigValidate(t *testing.T) {
	ok := testConfig(ndr.MLR)
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*ndr.Config)
		want string
	}{
		{"no sizes", func(c *ndr.Config) { c.FrameSizes = nil }, "no frame sizes"},
		{"unknown algorithm", func(c *ndr.Config) { c.Algorithm = "golden" }, `search "golden"`},
		{"short longer than full", func(c *ndr.Config) { c.ShortDuration = time.Minute }, "short trial"},
		{"negative trial", func(c *ndr.Config) { c.TrialDuration = -time.Second }, "trial duration"},
		{"precision zero", func(c *ndr.Config) { c.Precision = -0.1 }, "precision"},
		{"no width", func(c *ndr.Config) { c.Precision, c.PrecisionPPS = 0, 0 }, "precision 0"},
		{"negative absolute width", func(c *ndr.Config) { c.PrecisionPPS = -5 }, "absolute precision"},
		{"precision 100%", func(c *ndr.Config) { c.Precision = 1 }, "precision"},
		{"pdr loss negative", func(c *ndr.Config) { c.PDRLoss = -0.01 }, "pdr loss"},
		{"pdr loss 100%", func(c *ndr.Config) { c.PDRLoss = 1 }, "pdr loss"},
		{"no maximum", func(c *ndr.Config) { c.LineRateGbps = 0 }, "line_rate_gbps"},
		{"NaN line rate", func(c *ndr.Config) { c.LineRateGbps = math.NaN() }, "line_rate_gbps"},
		{"min above max", func(c *ndr.Config) { c.MinRatePPS = 20e6 }, "min rate"},
		{"repeats below NoRepeats", func(c *ndr.Config) { c.MaxRepeats = -2 }, "max repeats"},
		{"one trial", func(c *ndr.Config) { c.MaxTrials = 1 }, "max trials"},
		{"empty mix", func(c *ndr.Config) { c.FrameSizes = []ndr.FrameSize{{Name: "x"}} }, "empty mix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			if !errors.Is(err, ndr.ErrInvalid) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Validate = %v, want one line with %q matching ErrInvalid", err, tc.want)
			}
		})
	}
}

func TestNDRParsers(t *testing.T) {
	fs, err := ndr.ParseFrameSizes(ndr.DefaultFrameSizes)
	if err != nil || len(fs) != 8 || fs[7].Name != "imix" {
		t.Fatalf("default sizes: %v %v", fs, err)
	}
	if got := fs[0].LineRatePPS(10); math.Abs(got-14880952.38) > 0.01 {
		t.Errorf("64 B at 10 Gbit/s: %.2f pps, want 14880952.38", got)
	}
	if got := ndr.IMIX.AvgBytes(); math.Abs(got-4342.0/12) > 1e-9 {
		t.Errorf("IMIX mean %.3f B", got)
	}
	for _, bad := range []string{"63", "9019", "abc", "64,64", "", "64,,128"} {
		if _, err := ndr.ParseFrameSizes(bad); !errors.Is(err, ndr.ErrInvalid) {
			t.Errorf("ParseFrameSizes(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	for _, tc := range []struct {
		in       string
		rel, abs float64
		bad      bool
	}{
		{"0.5%", 0.005, 0, false}, {"0.01", 0.01, 0, false}, {"10kpps", 0, 10e3, false},
		{"1000pps", 0, 1000, false}, {"x%", 0, 0, true}, {"-3kpps", 0, 0, true}, {"0pps", 0, 0, true},
	} {
		rel, abs, err := ndr.ParsePrecision(tc.in)
		if (err != nil) != tc.bad || math.Abs(rel-tc.rel) > 1e-12 || abs != tc.abs {
			t.Errorf("ParsePrecision(%q) = %g, %g, %v", tc.in, rel, abs, err)
		}
	}
	for in, want := range map[string]float64{"1.2Mpps": 1.2e6, "800kpps": 800e3, "5000": 5000, "1.2m": 1.2e6} {
		if got, err := ndr.ParseRate(in); err != nil || math.Abs(got-want) > 1e-6 {
			t.Errorf("ParseRate(%q) = %g, %v", in, got, err)
		}
	}
	for _, tc := range []struct {
		in   string
		knee float64
		gen  float64
		bad  bool
	}{
		{"knee:1.2Mpps", 1.2e6, 0, false}, {"noisy:1Mpps:7", 1e6, 0, false}, {"gen:0.8Mpps:1.2Mpps", 1.2e6, 0.8e6, false},
		{"knee", 0, 0, true}, {"knee:fast", 0, 0, true}, {"cliff:1Mpps", 0, 0, true}, {"knee:1Mpps:2", 0, 0, true},
		{"gen:1Mpps", 0, 0, true}, {"noisy:1Mpps:x", 0, 0, true},
	} {
		d, err := sim.Parse(tc.in)
		if tc.bad {
			if !errors.Is(err, ndr.ErrInvalid) {
				t.Errorf("sim.Parse(%q) = %v, want ErrInvalid", tc.in, err)
			}
			continue
		}
		if err != nil || d.KneePPS != tc.knee || d.GenMaxPPS != tc.gen {
			t.Errorf("sim.Parse(%q) = %+v, %v", tc.in, d, err)
		}
	}
}

func TestNDRTrialFinish(t *testing.T) {
	tr := ndr.Trial{TrialSpec: ndr.TrialSpec{RatePPS: 1000, Duration: time.Second}, Sent: 1000, Received: 900,
		Ledger: map[string]uint64{"port_buffer": 60, "host_too_slow": 30, "capture_ring": 5}}
	if err := tr.Finish(0.005); err != nil {
		t.Fatal(err)
	}
	// capture_ring is after the loop: its 5 are inside the 900 received.
	if tr.Lost != 100 || tr.Unaccounted != 10 || tr.LossRatio != 0.1 || tr.FirstLayer() != "port_buffer" || tr.GeneratorLimited || tr.Disturbed {
		t.Errorf("%+v", tr)
	}
	tr.Ledger["bogus"] = 1
	if err := tr.Finish(0.005); !errors.Is(err, ndr.ErrUnknownKind) {
		t.Errorf("unknown layer: %v", err)
	}
	delete(tr.Ledger, "bogus")
	tr.Received = 1001
	if err := tr.Finish(0.005); !errors.Is(err, ndr.ErrCounters) {
		t.Errorf("received > sent: %v", err)
	}
	ev, err := ndr.EventsByKind(map[string]uint64{"LOC": 1, "IRQ": 2, "TLB": 3, "RES": 4, "gap": 5})
	if err != nil || ev != (ndr.GuardEvents{Interrupts: 3, IPIs: 7, Gaps: 5}) {
		t.Errorf("EventsByKind = %+v, %v", ev, err)
	}
	if _, err := ndr.EventsByKind(map[string]uint64{"XYZ": 1}); !errors.Is(err, ndr.ErrUnknownKind) {
		t.Errorf("unknown kind: %v", err)
	}
}
