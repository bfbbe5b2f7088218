package main

import (
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/bench/internal/benchkit"
	"github.com/rxprobe/rxprobe/bench/ndr"
)

// fakeRun is a search of round i with one 64 B size.
func fakeRun(i int, alg string, ndrMpps float64, atLeast bool, lossy int, lat bool) search {
	z := ndr.SizeResult{FrameSize: ndr.Fixed(64), NDR: ndr.Rate{Found: true, Mpps: ndrMpps, PPS: ndrMpps * 1e6, AtLeast: atLeast},
		PDR: ndr.Rate{Found: true, Mpps: ndrMpps, AtLeast: atLeast}, Trials: 3, ShortTrials: 2, FullTrials: 1, SearchSeconds: 5, TrialSeconds: 4,
		Confirm: &ndr.Confirmation{Trials: []int{1, 2, 3, 4, 5}}}
	for range lossy { // lossy candidates rejected before the NDR held
		z.Rejected = append(z.Rejected, ndr.Confirmation{RatePPS: 0.6e6, Trials: []int{0}, Lossy: 1})
	}
	if lat {
		z.Latency = []ndr.LatencyPoint{{Load: 0.5, Latency: &ndr.Latency{Valid: true, P50Ns: 30000, P99Ns: 70000, MaxNs: 90000}}}
	}
	res := &ndr.Results{Settings: ndr.Config{Precision: 0.02, Confirm: 5}, Sizes: []ndr.SizeResult{z},
		Trials: []ndr.Trial{{Unaccounted: 0}, {Unaccounted: 0}}}
	return search{Round: i, Algorithm: alg, Dir: "/tmp/benchndr-x/round", Wall: 40 * time.Second, Res: res}
}

func TestAgreeWithinPrecision(t *testing.T) {
	st := stats{Precision: 0.02}
	if ok, sp := st.agree([]float64{0.55, 0.545, 0.54}); !ok || sp < 0.018 || sp > 0.0182 {
		t.Errorf("1.8 %% spread at 2 %% precision: %v %.4f", ok, sp)
	}
	if ok, _ := st.agree([]float64{0.55, 0.53}); ok {
		t.Error("3.6 % spread agreed at 2 % precision")
	}
	st.PrecisionPPS = 1000 // the narrower width wins: 0.001 Mpps
	if ok, _ := st.agree([]float64{0.55, 0.548}); ok {
		t.Error("2000 pps apart agreed at 1000 pps precision")
	}
	if ok, _ := st.agree(nil); ok {
		t.Error("no NDRs agreed")
	}
}

func TestMarkdownGoals(t *testing.T) {
	var runs []search
	for i := 1; i <= 5; i++ {
		runs = append(runs, fakeRun(i, ndr.MLR, 0.55-0.001*float64(i), true, i%2, true), fakeRun(i, ndr.Binary, 0.54, true, 0, false))
	}
	runs[9].Res.Sizes[0].Confirm.Lossy = 1 // one binary search ended on an NDR that lost in a repeat (no trials left)
	runs[0].Res.Trials[1].Unaccounted = 7
	g := benchkit.NewGate(2)
	g.Rounds(5)
	st := summarize(runs)
	md := markdown(settings{Common: benchkit.Common{Rounds: 5}, Scenario: "veth-quick.yaml", Latency: true}, benchkit.Host{}, g, runs, st, nil)
	for _, want := range []string{
		"goal 5 mlr searches of 64B agree on the NDR lower bound (generator-limited) within the precision (2 %): met (spread 0.73 %)",
		"goal every mlr NDR of 64B found holds 5 repeats at full duration: met (5 of 5 held; on the way 3 candidate NDRs were rejected by a lossy repeat)",
		"goal every binary NDR of 64B found holds 5 repeats at full duration: NOT MET (4 of 5 held; on the way 0 candidate NDRs were rejected by a lossy repeat)",
		"| 1 | mlr | 64B | ≥ 0.5490 | ≥ 0.5490 | none | 3 (2/1) | 5.0 | 5 repeats lossless | 0.6000 | 40.0 | 0.00 |",
		"goal every trial's counts add up (received + ledger before the loop = sent): NOT MET (1 of 20 trials unaccounted)",
		"goal a quick scenario run (mlr, median wall time) under 2 minutes: met (40.0 s)",
		"| 64B | 50 % | 30.0 (30.0–30.0) |",
		"**Verdict: 4 of 6 goals met",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// a LOADED run judges nothing
	g.During("x", 99)
	md = markdown(settings{Common: benchkit.Common{Rounds: 5}, Scenario: "veth-quick.yaml"}, benchkit.Host{}, g, runs, st, nil)
	if strings.Contains(md, ": met (") || strings.Contains(md, "NOT MET") || !strings.Contains(md, "NOT A RESULT") {
		t.Errorf("a LOADED run's block judges goals:\n%s", md)
	}
}
