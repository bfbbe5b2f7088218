package ndr_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/bench/ndr"
	"github.com/rxprobe/rxprobe/bench/ndr/sim"
)

// flakyAbove is a runner whose trials above rate lose 10 packets (in
// layer "port_buffer") once it has run n trials: a DUT whose zero-loss
// rate is lower in long runs than the search's trials showed.
type flakyAbove struct {
	dut  *sim.DUT
	n    int
	rate float64
	ran  int
}

func (l *flakyAbove) Trial(ctx context.Context, spec ndr.TrialSpec) (ndr.Trial, error) {
	t, err := l.dut.Trial(ctx, spec)
	if l.ran++; err == nil && l.ran > l.n && spec.RatePPS > l.rate && t.Received == t.Sent {
		t.Received -= 10
		t.Ledger = map[string]uint64{"port_buffer": 10}
		for i := range t.Queues {
			t.Queues[i].Packets -= 10
		}
	}
	return t, err
}

// TestConfirm: with Confirm set, each frame size's NDR trial is repeated
// that often at full duration once the search converged. A DUT that holds
// is confirmed. When a repeat loses, that rate is rejected (its loss and
// layer recorded) and the search goes on below it, to an NDR that holds
// its repeats; report.md says both.
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

	// the same search, then a DUT that loses above 1.1 Mpps from then on
	const flaky = 1.1e6
	r := &flakyAbove{dut: sim.Knee(1.2e6), n: z.Trials, rate: flaky}
	res, err = ndr.Run(context.Background(), cfg, r, ndr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	z2 := res.Sizes[0]
	rej := z2.Rejected
	if len(rej) == 0 || rej[0].RatePPS != z.NDR.PPS || rej[0].Lossy != 1 || len(rej[0].Trials) != 1 || rej[0].Layers[0] != "port_buffer" || rej[0].MaxLossRatio <= 0 {
		t.Fatalf("rejected %+v: want the first NDR (%.0f pps) rejected by its first repeat, in port_buffer", rej, z.NDR.PPS)
	}
	if c := z2.Confirm; !c.Held() || len(c.Trials) != 5 || c.RatePPS != z2.NDR.PPS {
		t.Errorf("final confirmation %+v of NDR %.0f", c, z2.NDR.PPS)
	}
	if z2.NDR.PPS > flaky || z2.NDR.PPS < flaky*(1-2*cfg.WithDefaults().Precision) {
		t.Errorf("NDR %.0f pps after the rejections: want within the precision below %.0f", z2.NDR.PPS, flaky)
	}
	t.Logf("NDR %.0f pps rejected %d times (first at %.0f), then %.0f pps held; %d search trials, %d repeats", z.NDR.PPS, len(rej), rej[0].RatePPS, z2.NDR.PPS, z2.Trials, z2.ConfirmTrials)
	if z2.ConfirmTrials != 5+len(rej) {
		t.Errorf("%d confirm trials for %d rejections and 5 repeats", z2.ConfirmTrials, len(rej))
	}
	md.Reset()
	ndr.WriteMarkdown(&md, res)
	if !strings.Contains(md.String(), fmt.Sprintf("%.4f Mpps was **not an NDR**: repeat 1 of 5", z.NDR.PPS/1e6)) || !strings.Contains(md.String(), "NDR **confirmed**: 5 repeats") {
		t.Errorf("report.md does not tell the rejection and the confirmation:\n%s", md.String())
	}

	// interrupted during the repeats: not confirmed, and report.md says so
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	cfg.Confirm = 5
	res, err = ndr.Run(ctx, cfg, sim.Knee(1.2e6), ndr.Options{Progress: writerFunc(func(p []byte) {
		if n += strings.Count(string(p), "\n"); n == z.Trials+2 { // the search, then 2 repeats
			cancel()
		}
	})})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted: %v", err)
	}
	if c := res.Sizes[0].Confirm; c == nil || c.Held() || len(c.Trials) != 2 || c.Asked != 5 || c.String() != "2 of 5 repeats run, lossless" {
		t.Errorf("interrupted confirmation %+v (%s): want 2 of 5 run, not held", c, c)
	}
	md.Reset()
	ndr.WriteMarkdown(&md, res)
	if !strings.Contains(md.String(), "NDR **not confirmed**: stopped after 2 of 5 repeats") {
		t.Errorf("report.md of an interrupted confirmation:\n%s", md.String())
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

// writerFunc is an io.Writer calling f.
type writerFunc func(p []byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }
