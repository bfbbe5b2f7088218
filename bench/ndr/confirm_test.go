package ndr_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/bench/ndr"
	"github.com/rxprobe/rxprobe/bench/ndr/sim"
)

// lossyAfter is a runner whose trials lose 10 packets (in layer
// "port_buffer") once it has run n trials: a DUT that degrades after the
// search.
type lossyAfter struct {
	dut *sim.DUT
	n   int
	ran int
}

func (l *lossyAfter) Trial(ctx context.Context, spec ndr.TrialSpec) (ndr.Trial, error) {
	t, err := l.dut.Trial(ctx, spec)
	if l.ran++; err == nil && l.ran > l.n {
		t.Received -= 10
		t.Ledger = map[string]uint64{"port_buffer": 10}
		for i := range t.Queues {
			t.Queues[i].Packets -= 10
		}
	}
	return t, err
}

// TestConfirm: with Confirm set, each frame size's NDR trial is repeated
// that often at full duration after the search; a DUT that holds is
// confirmed, one that loses in the repeats is not, with the count, the
// worst loss and the layers, and report.md says which.
func TestConfirm(t *testing.T) {
	cfg := ndr.Config{FrameSizes: []ndr.FrameSize{ndr.Fixed(64)}, LineRateGbps: 10,
		TrialDuration: 30 * time.Second, ShortDuration: 2 * time.Second, Confirm: 5}
	res, err := ndr.Run(context.Background(), cfg, sim.Knee(1.2e6), ndr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	z := res.Sizes[0]
	c := z.Confirm
	if c == nil || len(c.Trials) != 5 || !c.Held() || c.RatePPS != z.NDR.PPS {
		t.Fatalf("confirmation %+v of NDR %.0f pps: want 5 lossless repeats at the NDR", c, z.NDR.PPS)
	}
	for _, i := range c.Trials {
		tr := res.Trials[i]
		if tr.Phase != ndr.PhaseConfirm || tr.Duration != cfg.TrialDuration || tr.RatePPS != z.NDR.PPS || tr.Lost != 0 {
			t.Errorf("repeat %d: phase %s, %v at %.0f pps, lost %d", i, tr.Phase, tr.Duration, tr.RatePPS, tr.Lost)
		}
	}
	var md bytes.Buffer
	ndr.WriteMarkdown(&md, res)
	if !strings.Contains(md.String(), "NDR **confirmed**: 5 repeats") {
		t.Errorf("report.md does not say the NDR is confirmed:\n%s", md.String())
	}
	// a repeat stands on its own: never "superseded" like a disturbed
	// search trial that was measured again
	rows := 0
	for line := range strings.SplitSeq(md.String(), "\n") {
		if strings.Contains(line, "| confirm 30s |") {
			rows++
			if strings.Contains(line, "superseded") {
				t.Errorf("repeat row %q", line)
			}
		}
	}
	if rows != 5 {
		t.Errorf("%d repeat rows in report.md, want 5", rows)
	}
	legend := false
	for _, p := range ndr.Plots(res) {
		if strings.HasPrefix(p.File, "loss-64") && strings.Contains(string(p.SVG), "NDR repeat") {
			legend = true
		}
	}
	if !legend {
		t.Error("no loss plot of 64B marks the NDR repeats")
	}

	// the same search, then a DUT that loses in every repeat
	r := &lossyAfter{dut: sim.Knee(1.2e6), n: z.Trials}
	res, err = ndr.Run(context.Background(), cfg, r, ndr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c = res.Sizes[0].Confirm
	if c == nil || c.Held() || c.Lossy != 5 || c.MaxLossRatio <= 0 || len(c.Layers) != 5 || c.Layers[0] != "port_buffer" {
		t.Fatalf("confirmation %+v: want 5 lossy repeats in port_buffer", c)
	}
	md.Reset()
	ndr.WriteMarkdown(&md, res)
	if !strings.Contains(md.String(), "NDR **not confirmed**: 5 of 5 repeats") {
		t.Errorf("report.md does not say the NDR failed its repeats:\n%s", md.String())
	}

	// none asked: none run
	cfg.Confirm = 0
	if res, err = ndr.Run(context.Background(), cfg, sim.Knee(1.2e6), ndr.Options{}); err != nil || res.Sizes[0].Confirm != nil {
		t.Errorf("Confirm 0: %+v, %v", res.Sizes[0].Confirm, err)
	}
	for _, n := range []int{-1, ndr.MaxConfirm + 1} {
		cfg.Confirm = n
		if _, err := ndr.Run(context.Background(), cfg, sim.Knee(1.2e6), ndr.Options{}); !errors.Is(err, ndr.ErrInvalid) {
			t.Errorf("Confirm %d: %v, want ErrInvalid", n, err)
		}
	}
}
