package dpdk

import (
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/rx/counters"
)

// TestLatBucketMatchesGo: the C loop's bucket function and its Go mirror
// agree on every edge of every bucket and around them.
func TestLatBucketMatchesGo(t *testing.T) {
	check := func(v uint64) {
		if c, g := LatBucket(v), counters.LatBucket(v); c != g {
			t.Fatalf("bucket of %d ns: C %d, Go %d", v, c, g)
		}
	}
	for i := 0; i < counters.LatBuckets; i++ {
		lo, hi := counters.LatBucketRange(i)
		check(lo)
		if lo > 0 {
			check(lo - 1)
		}
		if hi > 0 {
			check(hi - 1)
		}
	}
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1 << 31, 1<<32 - 1, 1 << 32, 1<<63 + 5, ^uint64(0)} {
		check(v)
	}
	if got := LatBucket(1 << 32); got != counters.LatBuckets-1 {
		t.Fatalf("2^32 ns in bucket %d, want the last (%d)", got, counters.LatBuckets-1)
	}
}

// TestLatencyLoopOnLoopback: frames stamped by the generator and looped
// back by net_ring are recorded by the latency loop: every one counted,
// with a positive latency below a second; a relaunch continues the
// sequence (no gap, no reorder); planted faults are each seen — a skipped
// range of sequence numbers as gaps, a repeated range as reorders,
// unstamped frames as unstamped — while a new generator (a new epoch in
// the sequence's top bits) restarts the check without a reorder.
func TestLatencyLoopOnLoopback(t *testing.T) {
	port, pool := loopbackPort(t, "net_ring0")
	q, err := NewRXQueue(port, 0, 32, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Free()
	if err := q.EnableLatency(0); err != nil {
		t.Fatal(err)
	}
	SetStop(false)
	if err := q.LaunchLatency(WorkerLcores()[0]); err != nil {
		t.Fatal(err)
	}
	var rxc RXCounters
	var l LatencyCounters
	var sent uint64
	send := func(g *Gen, n uint64) {
		t.Helper()
		g.Retarget(1e6, n, g.g.latency != 0)
		g.Run()
		var gc GenCounters
		g.Read(&gc)
		sent += n
		if gc.Sent != n {
			t.Fatalf("generator sent %d of %d", gc.Sent, n)
		}
		deadline := time.Now().Add(10 * time.Second)
		for q.Read(&rxc); rxc.Packets < sent && time.Now().Before(deadline); q.Read(&rxc) {
			time.Sleep(time.Millisecond)
		}
		q.ReadLatency(&l)
	}
	newGen := func(latency bool) *Gen {
		gp := genParams(0, 64, 1)
		gp.Latency = latency
		g, err := NewGen(port, 0, pool, 0, gp)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(g.Free)
		return g
	}
	want := func(step string, stamped, unstamped, gaps, reordered uint64) {
		t.Helper()
		if l.Stamped != stamped || l.Unstamped != unstamped || l.Gaps != gaps || l.Reordered != reordered {
			t.Errorf("%s: stamped %d unstamped %d gaps %d reordered %d; want %d %d %d %d", step,
				l.Stamped, l.Unstamped, l.Gaps, l.Reordered, stamped, unstamped, gaps, reordered)
		}
	}
	g := newGen(true)
	send(g, 1000)
	want("first launch", 1000, 0, 0, 0)
	p50 := l.Percentile(0.5)
	if p50 == 0 || l.MaxNs == 0 || l.MaxNs >= 1e9 {
		t.Errorf("p50 %d ns, max %d ns: want both above 0 and the max below 1 s", p50, l.MaxNs)
	}
	send(g, 500)
	want("relaunch continues the sequence", 1500, 0, 0, 0)
	g.g.seq_next += 50 // planted: 50 sequence numbers never sent
	send(g, 100)
	want("skipped range", 1600, 0, 50, 0)
	g.g.seq_next -= 200 // planted: 200 sequence numbers sent again
	send(g, 200)
	want("repeated range", 1800, 0, 50, 200)
	g2 := newGen(true) // a new generator: a new epoch, its count from 0
	if g2.g.seq_next>>48 == 0 || g2.g.seq_next>>48 == g.g.seq_next>>48 {
		t.Fatalf("generator epochs %#x and %#x: want two different, neither 0", g.g.seq_next>>48, g2.g.seq_next>>48)
	}
	send(g2, 200)
	want("restarted generator (new epoch)", 2000, 0, 50, 200)
	send(g2, 100)
	want("new epoch continues", 2100, 0, 50, 200)
	send(newGen(false), 300)
	want("unstamped frames", 2100, 300, 50, 200)
	SetStop(true)
	WaitAll()
	if rxc.Packets != sent {
		t.Errorf("loop received %d packets, %d sent", rxc.Packets, sent)
	}
	t.Logf("loopback latency: p50 %d ns, p99 %d ns, max %d ns", p50, l.Percentile(0.99), l.MaxNs)
}
