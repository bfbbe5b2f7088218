package counters

import (
	"strings"
	"testing"
	"time"
)

func reading(queues int) *Reading {
	return &Reading{Ports: make([]PortReading, 1), Queues: make([]Loop, queues)}
}

func TestGapBucketLimits(t *testing.T) {
	if GapBucketLimitNs(0) != 64 || GapBucketLimitNs(1) != 128 || GapBucketLimitNs(GapBuckets-2) != 64<<24 {
		t.Errorf("bucket limits %d %d %d", GapBucketLimitNs(0), GapBucketLimitNs(1), GapBucketLimitNs(GapBuckets-2))
	}
	if GapBucketLimitNs(GapBuckets-1) != 0 {
		t.Error("last bucket must be unbounded")
	}
}

func TestWorstGap(t *testing.T) {
	for _, tc := range []struct {
		name      string
		grown     []int // buckets that grew
		ns        uint64
		unbounded bool
	}{
		{"nothing grew", nil, 0, false},
		{"first bucket", []int{0}, 64, false},
		{"highest of several", []int{3, 10, 5}, 64 << 10, false},
		{"last bounded bucket", []int{GapBuckets - 2}, 64 << 24, false},
		// The open-ended bucket: its lower bound, flagged.
		{"open-ended bucket", []int{2, GapBuckets - 1}, 64 << 24, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var prev, cur [GapBuckets]uint64
			for k := range prev {
				prev[k], cur[k] = 7, 7
			}
			for _, k := range tc.grown {
				cur[k]++
			}
			ns, unb := WorstGap(&prev, &cur)
			if ns != tc.ns || unb != tc.unbounded {
				t.Errorf("WorstGap = %d, %v; want %d, %v", ns, unb, tc.ns, tc.unbounded)
			}
		})
	}
}

func TestWorstGapAllAndStatus(t *testing.T) {
	prev, cur := reading(2), reading(2)
	t0 := time.Unix(1000, 0)
	prev.At, cur.At = t0, t0.Add(time.Second)
	cur.Queues[0].Packets, cur.Queues[0].Bytes = 2_000_000, 128_000_000
	cur.Queues[1].Packets = 1_000_000
	cur.Queues[0].GapHist[3] = 10 // <= 512 ns
	cur.Queues[1].GapHist[10] = 1 // <= 64 µs
	cur.Ports[0].Stats.IMissed = 7
	ns, unb := WorstGapAll(prev, cur)
	if ns != 64<<10 || unb {
		t.Errorf("worst gap = %d (unbounded %v), want %d", ns, unb, 64<<10)
	}
	buf := make([]byte, 0, 256)
	buf = AppendStatus(buf, t0, prev, cur)
	line := string(buf)
	for _, w := range []string{"1.0s", "3.000 Mpps", "1024.0 Mbit/s", "missed 7", "worst gap <=65.5 µs"} {
		if !strings.Contains(line, w) {
			t.Errorf("status %q lacks %q", line, w)
		}
	}
	if n := testing.AllocsPerRun(100, func() { buf = AppendStatus(buf[:0], t0, prev, cur) }); n != 0 {
		t.Errorf("AppendStatus allocates %.1f times", n)
	}
	if strings.Contains(line, "capture") {
		t.Errorf("status %q shows capture for a run without it", line)
	}
	// With capture: the writer's rate, MB/s written and both losses.
	prev.Captures, cur.Captures = make([]Capture, 2), make([]Capture, 2)
	cur.Captures[0] = Capture{Encoded: 1_500_000, BytesWritten: 96_000_000, RingDropped: 5}
	cur.Captures[1] = Capture{Encoded: 500_000, BytesWritten: 4_000_000, DiskDropped: 3}
	line = string(AppendStatus(buf[:0], t0, prev, cur))
	if !strings.HasSuffix(line, "capture 2.000 Mpps 100.0 MB/s written, lost: ring 5 disk 3") {
		t.Errorf("status %q: capture part wrong", line)
	}
	if n := testing.AllocsPerRun(100, func() { buf = AppendStatus(buf[:0], t0, prev, cur) }); n != 0 {
		t.Errorf("AppendStatus with capture allocates %.1f times", n)
	}
	cur.Queues[1].GapHist[GapBuckets-1] = 1
	if _, unb := WorstGapAll(prev, cur); !unb {
		t.Error("a gap in the last bucket must be reported as unbounded")
	}
	if line := string(AppendStatus(nil, t0, prev, cur)); !strings.Contains(line, "worst gap >1.07 s") {
		t.Errorf("status %q does not say the gap was longer than the last bound", line)
	}
}

func TestReadingCopyIsIndependent(t *testing.T) {
	sh := &Shape{Ports: []Port{{XStatNames: []string{"a", "b"}}}, Queues: []Queue{{}}}
	a, b := NewReading(sh), NewReading(sh)
	a.Ports[0].XStats[0], a.Ports[0].XStats[1] = 1, 2
	a.Queues[0].Packets = 5
	b.CopyFrom(a)
	a.Ports[0].XStats[0], a.Queues[0].Packets = 99, 99
	if b.Ports[0].XStats[0] != 1 || b.Queues[0].Packets != 5 {
		t.Errorf("copy shares memory with its source: %+v", b)
	}
	if n := testing.AllocsPerRun(100, func() { b.CopyFrom(a) }); n != 0 {
		t.Errorf("CopyFrom allocates %.1f times", n)
	}
}
