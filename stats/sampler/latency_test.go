package sampler

import (
	"testing"

	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// TestLatencyMetrics: with latency on, each queue's counts, the exported
// per-power-of-two histogram and the internal full one are published,
// the exported buckets sum the raw ones, and a sample allocates nothing.
func TestLatencyMetrics(t *testing.T) {
	f, s, dir := sampledFake(t, "fl", func(sh *counters.Shape) { sh.Latency = true })
	l := &f.now.Latency[0]
	for _, ns := range []uint64{10, 63, 64, 100, 127, 128, 5000, 5000, 1 << 40} {
		l.Hist[counters.LatBucket(ns)]++
		l.Stamped++
		l.SumNs += ns
		l.MaxNs = max(l.MaxNs, ns)
	}
	l.Unstamped, l.Gaps, l.Reordered = 3, 2, 1
	if err := s.Sample(); err != nil {
		t.Fatal(err)
	}
	p := openPublished(t, dir, "fl")
	p.read()
	q0 := []string{"port", "cx5", "queue", "0"}
	for name, want := range map[string]uint64{"rxprobe_latency_stamped_total": 9, "rxprobe_latency_unstamped_total": 3,
		"rxprobe_latency_sequence_gaps_total": 2, "rxprobe_latency_reordered_total": 1, "rxprobe_latency_max_seconds": 1 << 40} {
		if got := p.value(name, q0...); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	var exported, raw bool
	for _, h := range p.sc.Histograms {
		if h.Labels[0].Value != "cx5" || (h.Metric != "rxprobe_latency_seconds" && h.Metric != "rxprobe_latency_raw_seconds") {
			continue
		}
		var n uint64
		for k := 0; k <= len(h.Bounds); k++ {
			n += p.valueAt(h.First + k)
		}
		if n != 9 {
			t.Errorf("%s: %d observations, want 9", h.Metric, n)
		}
		switch h.Metric {
		case "rxprobe_latency_seconds":
			exported = !h.Internal
			// <= 64 ns: 10, 63 (64 is in (64, 128]: bucket edges are ns ranges [lo, hi))
			if got := p.valueAt(h.First); got != 2 || h.Bounds[0] != 64e-9 {
				t.Errorf("first exported bucket (<= %v s) = %d, want 2", h.Bounds[0], got)
			}
			if got := p.valueAt(h.First + len(h.Bounds)); got != 1 {
				t.Errorf("+Inf bucket = %d, want 1", got)
			}
		case "rxprobe_latency_raw_seconds":
			raw = h.Internal && len(h.Bounds) == counters.LatBuckets-1
		}
	}
	if !exported || !raw {
		t.Errorf("exported histogram %v, internal raw histogram %v: want both", exported, raw)
	}
	if n := testing.AllocsPerRun(20, func() {
		f.now.Latency[1].Hist[40]++
		_ = s.Sample()
	}); n != 0 {
		t.Errorf("a sample with latency allocates %.1f times", n)
	}
}

// valueAt is the value at index i of the last read.
func (p *published) valueAt(i int) uint64 { return snapshot.ValueAt(p.buf, p.off, i) }
