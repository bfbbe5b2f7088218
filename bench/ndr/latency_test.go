package ndr_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/bench/ndr"
	"github.com/rxprobe/rxprobe/bench/ndr/sim"
)

// TestLatencyPhase: with LatencyLoads, each frame size's search is
// followed by one full trial per fraction of the PDR; each point records
// its rate, trial and latency, the trials are marked as the latency
// phase, and report.md gets the table.
func TestLatencyPhase(t *testing.T) {
	dut := sim.Knee(1.2e6)
	dut.Latency = true
	cfg := ndr.Config{FrameSizes: []ndr.FrameSize{ndr.Fixed(64)}, LineRateGbps: 10,
		TrialDuration: 30 * time.Second, ShortDuration: 2 * time.Second, LatencyLoads: ndr.DefaultLatencyLoads}
	res, err := ndr.Run(context.Background(), cfg, dut, ndr.Options{Simulated: "knee:1.2Mpps"})
	if err != nil {
		t.Fatal(err)
	}
	z := res.Sizes[0]
	if len(z.Latency) != 3 {
		t.Fatalf("%d latency points, want 3", len(z.Latency))
	}
	for i, p := range z.Latency {
		want := ndr.DefaultLatencyLoads[i] * z.PDR.PPS
		tr := res.Trials[p.Trial]
		if math.Abs(p.RatePPS-want) > want*1e-6 || p.Load != ndr.DefaultLatencyLoads[i] {
			t.Errorf("point %d: load %v at %.0f pps, want %v at %.0f", i, p.Load, p.RatePPS, ndr.DefaultLatencyLoads[i], want)
		}
		if tr.Phase != ndr.PhaseLatency || tr.Duration != cfg.TrialDuration || p.Latency == nil || !p.Latency.Valid || p.Lost != 0 {
			t.Errorf("point %d: trial %+v, latency %+v, loss %v", i, tr, p.Latency, p.Lost)
		}
	}
	// the search's trials come first, the latency phase after them
	if last := res.Trials[len(res.Trials)-1]; last.Phase != ndr.PhaseLatency {
		t.Errorf("last trial's phase %q", last.Phase)
	}
	var md bytes.Buffer
	ndr.WriteMarkdown(&md, res)
	if !strings.Contains(md.String(), "## Latency at fractions of the PDR") || !strings.Contains(md.String(), "| 64B | 90 % of PDR |") {
		t.Errorf("report.md has no latency table:\n%s", md.String())
	}
	// without loads, no phase
	cfg.LatencyLoads = nil
	res, err = ndr.Run(context.Background(), cfg, dut, ndr.Options{})
	if err != nil || len(res.Sizes[0].Latency) != 0 {
		t.Errorf("no loads: %d points, %v", len(res.Sizes[0].Latency), err)
	}
	for _, loads := range [][]float64{{0}, {0.5, 1.5}, {math.NaN()}} {
		cfg.LatencyLoads = loads
		if _, err := ndr.Run(context.Background(), cfg, dut, ndr.Options{}); !errors.Is(err, ndr.ErrInvalid) {
			t.Errorf("loads %v: %v, want ErrInvalid", loads, err)
		}
	}
}
