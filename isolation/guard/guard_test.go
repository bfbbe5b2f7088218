package guard

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Unix(1_700_000_000, 0)

func newGuard() *Guard {
	return New(Config{
		Limits:      []Limits{DefaultLimits(false, 250), DefaultLimits(true, 250)},
		GapNs:       []uint64{10_000},
		TimelineCap: 3,
		EventCap:    4,
	})
}

func in(sec int, cpu1, cpu2 [NumIRQKinds]uint64, gap, packets uint64, drops [NumLayers]uint64) *Input {
	return &Input{At: t0.Add(time.Duration(sec) * time.Second),
		CPUs:   []CPUInput{{CPU: 1, Counts: cpu1}, {CPU: 2, Counts: cpu2, TopIRQ: "41 virtio3-rx"}},
		Queues: []QueueInput{{Port: 0, Queue: 0, CPU: 1, WorstGapNs: gap, Packets: packets}},
		Drops:  drops}
}

func TestCleanSecondsRaiseNothingAndDoNotAllocate(t *testing.T) {
	g := newGuard()
	var c1, c2 [NumIRQKinds]uint64
	var drops [NumLayers]uint64
	input := in(0, c1, c2, 500, 0, drops) // reused, as the stats thread does
	g.Second(input)
	n := testing.AllocsPerRun(50, func() {
		input.At = input.At.Add(time.Second)
		input.CPUs[0].Counts[KindLOC] += 250 // at the limit of a ticking CPU
		input.CPUs[1].Counts[KindLOC]++      // at the limit of a nohz_full CPU
		input.Queues[0].Packets += 1000
		if ev := g.Second(input); len(ev) != 0 {
			t.Fatalf("clean second raised %+v", ev)
		}
	})
	if n != 0 {
		t.Errorf("a clean second allocates %.1f times", n)
	}
}

func TestViolationsAndLedger(t *testing.T) {
	g := newGuard()
	var c1, c2 [NumIRQKinds]uint64
	var d [NumLayers]uint64
	g.Second(in(0, c1, c2, 0, 0, d))

	c1[KindTLB] = 494
	c2[KindLOC] = 3 // nohz_full CPU: 3 ticks in a second
	c2[KindIRQ] = 7
	d[LayerHostTooSlow], d[LayerKernelPath] = 100, 5
	ev := g.Second(in(1, c1, c2, 50_000, 1000, d))
	want := []Event{
		{At: t0.Add(time.Second), Kind: "TLB", CPU: 1, Port: -1, Queue: -1, Count: 494, Limit: 0},
		{At: t0.Add(time.Second), Kind: "LOC", CPU: 2, Port: -1, Queue: -1, Count: 3, Limit: 1},
		{At: t0.Add(time.Second), Kind: "IRQ", CPU: 2, Port: -1, Queue: -1, Count: 7, Limit: 0, IRQ: "41 virtio3-rx"},
		{At: t0.Add(time.Second), Kind: "gap", CPU: 1, Port: 0, Queue: 0, Count: 50_000, Limit: 10_000},
	}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if v := g.Violations(0); v[KindTLB] != 1 || v[KindGap] != 1 {
		t.Errorf("cpu 1 violations %v", v)
	}
	// A fifth event does not fit (EventCap 4): counted, not kept.
	c1[KindCAL] = 1
	d[LayerHostTooSlow] = 150
	ev = g.Second(in(2, c1, c2, 100, 2000, d))
	if len(ev) != 0 {
		t.Errorf("events beyond the cap returned: %+v", ev)
	}
	if kept, lost := g.Events(); len(kept) != 4 || lost != 1 {
		t.Errorf("kept %d, lost %d; want 4, 1", len(kept), lost)
	}
	if l := g.Ledger(); l[LayerHostTooSlow] != 150 || l[LayerKernelPath] != 5 || l[LayerPortBuffer] != 0 {
		t.Errorf("ledger %v", l)
	}
	tl := g.Timeline()
	if len(tl) != 2 || tl[0].Drops[LayerHostTooSlow] != 100 || tl[1].Drops[LayerHostTooSlow] != 50 ||
		tl[0].Interrupts[KindTLB] != 494 || tl[0].WorstGapNs != 50_000 || tl[0].RXPackets != 1000 || tl[0].Events != 4 {
		t.Errorf("timeline %+v", tl)
	}
}

func TestCountersGoingDownAreNotSpikes(t *testing.T) {
	g := newGuard()
	c1 := [NumIRQKinds]uint64{KindTLB: 1000, KindLOC: 1 << 40}
	var c2 [NumIRQKinds]uint64
	var d [NumLayers]uint64
	d[LayerMempoolEmpty] = 10
	g.Second(in(0, c1, c2, 0, 5000, d))
	// CPU 1 unplugged (its row reads 0) and the port restarted.
	var zero [NumIRQKinds]uint64
	d[LayerMempoolEmpty] = 0
	if ev := g.Second(in(1, zero, c2, 0, 0, d)); len(ev) != 0 {
		t.Errorf("a counter going down raised %+v", ev)
	}
	if l := g.Ledger(); l[LayerMempoolEmpty] != 0 {
		t.Errorf("ledger counted a reset as drops: %v", l)
	}
}

func TestTimelineKeepsTheLastSeconds(t *testing.T) {
	g := newGuard()
	var c [NumIRQKinds]uint64
	var d [NumLayers]uint64
	for s := 0; s <= 5; s++ {
		g.Second(in(s, c, c, 0, uint64(s)*10, d))
	}
	tl := g.Timeline()
	if len(tl) != 3 || !tl[0].At.Equal(t0.Add(3*time.Second)) || !tl[2].At.Equal(t0.Add(5*time.Second)) {
		t.Errorf("timeline %+v", tl)
	}
}

func TestKindOfAndThresholds(t *testing.T) {
	for id, want := range map[string]int{"LOC": KindLOC, "TLB": KindTLB, "24": KindIRQ, "MCE": KindMCE} {
		if k, ok := KindOf(id); !ok || k != want {
			t.Errorf("KindOf(%q) = %d %v", id, k, ok)
		}
	}
	for _, id := range []string{"ERR", "MIS", "SPU", ""} {
		if _, ok := KindOf(id); ok {
			t.Errorf("KindOf(%q) accepted", id)
		}
	}
	// The example: 1024 descriptors at 37.2 Mpps (25 Gbit/s) → ~7 µs.
	if got := GapThresholdNs(1024, 25); got < 6800 || got > 7000 {
		t.Errorf("GapThresholdNs(1024, 25G) = %d ns, want ~6900", got)
	}
	if GapThresholdNs(1024, 0) != 1_000_000 {
		t.Error("unknown line rate must give 1 ms")
	}
	for _, why := range LayerWhy {
		if why == "" || strings.Contains(why, "\n") {
			t.Errorf("layer explanation %q", why)
		}
	}
}

func TestSecondJSONRoundTrip(t *testing.T) {
	s := Second{At: t0, RXPackets: 5, WorstGapNs: 64, Events: 1}
	s.Drops[LayerKernelPath] = 7
	s.Interrupts[KindTLB] = 3
	b, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"kernel_path":7`, `"TLB":3`, `"worst_gap_ns":64`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("%s lacks %s", b, w)
		}
	}
	var back Second
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestRebaseSkipsJudgingButKeepsDrops(t *testing.T) {
	g := newGuard()
	var c1, c2 [NumIRQKinds]uint64
	var d [NumLayers]uint64
	g.Second(in(0, c1, c2, 0, 0, d))
	g.Rebase()
	c1[KindCAL] = 5 // the launch's wake-ups
	d[LayerKernelPath] = 42
	if ev := g.Second(in(1, c1, c2, 50_000, 0, d)); len(ev) != 0 {
		t.Errorf("rebased second raised %+v", ev)
	}
	if l := g.Ledger(); l[LayerKernelPath] != 42 {
		t.Errorf("drops across the rebase lost: %v", l)
	}
	c1[KindCAL] = 6
	if ev := g.Second(in(2, c1, c2, 0, 0, d)); len(ev) != 1 || ev[0].Count != 1 {
		t.Errorf("after the rebase: %+v, want one CAL event of 1", ev)
	}
}
