package dpdk

import (
	"testing"
	"time"
)

// BenchmarkRXLoop compares rxprobe's RX loop with the receive-and-free
// baseline (what testpmd's rxonly engine does) on the same net_null queue.
// Each iteration runs both for 200 ms, alternating, so both see the same
// machine; it reports both rates and their ratio.
func BenchmarkRXLoop(b *testing.B) {
	q := benchQueue(b)
	defer q.Free()
	run := func(baseline bool) (uint64, time.Duration) {
		launch := q.Launch
		if baseline {
			launch = q.LaunchBaseline
		}
		return measureRX(b, q, launch)
	}
	var pr, pb uint64
	var dr, db time.Duration
	for b.Loop() {
		p, d := run(false)
		pr, dr = pr+p, dr+d
		p, d = run(true)
		pb, db = pb+p, db+d
	}
	r := float64(pr) / dr.Seconds() / 1e6
	base := float64(pb) / db.Seconds() / 1e6
	b.ReportMetric(r, "rxprobe-Mpps")
	b.ReportMetric(base, "baseline-Mpps")
	b.ReportMetric(r/base, "ratio")
}

var benchPortUp bool

// benchQueue is a loop's state for queue 0 of net_null0, set up once.
func benchQueue(b *testing.B) *RXQueue {
	port, err := PortByName("net_null0")
	if err != nil {
		b.Fatal(err)
	}
	if !benchPortUp {
		setupPortB(b, port)
	}
	q, err := NewRXQueue(port, 0, 32, 0)
	if err != nil {
		b.Fatal(err)
	}
	return q
}

// measureRX launches q's loop with launch on the worker lcore and counts
// the packets it receives in 200 ms after a 10 ms warm-up; the loop is
// stopped and waited for on return.
func measureRX(b *testing.B, q *RXQueue, launch func(lcore uint) error) (uint64, time.Duration) {
	var c RXCounters
	SetStop(false)
	if err := launch(WorkerLcores()[0]); err != nil {
		b.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	q.Read(&c)
	p0, t0 := c.Packets, time.Now()
	time.Sleep(200 * time.Millisecond)
	q.Read(&c)
	d := time.Since(t0)
	SetStop(true)
	WaitAll()
	return c.Packets - p0, d
}

func setupPortB(b *testing.B, port uint16) {
	startPort(b, port, "bench_pool", 4095, 1, 1)
	benchPortUp = true
}

// BenchmarkRXLoopLatency measures what latency mode costs the RX loop on
// net_null, whose frames carry no stamp: the per-packet check of the
// marker (one read of the frame's first cache line) and the extra TSC
// read per burst. Each iteration runs the production loop and the
// latency loop for 200 ms each on the same queue, alternating which goes
// first; it reports both rates and the cost in ns per packet.
func BenchmarkRXLoopLatency(b *testing.B) {
	q := benchQueue(b)
	defer q.Free()
	if err := q.EnableLatency(0); err != nil {
		b.Fatal(err)
	}
	var po, pl uint64
	var do, dl time.Duration
	first := false
	for b.Loop() {
		for _, lat := range []bool{first, !first} {
			launch := q.Launch
			if lat {
				launch = q.LaunchLatency
			}
			p, d := measureRX(b, q, launch)
			if lat {
				pl, dl = pl+p, dl+d
			} else {
				po, do = po+p, do+d
			}
		}
		first = !first
	}
	off := float64(po) / do.Seconds() / 1e6
	on := float64(pl) / dl.Seconds() / 1e6
	b.ReportMetric(off, "off-Mpps")
	b.ReportMetric(on, "latency-Mpps")
	b.ReportMetric(1e3/on-1e3/off, "cost-ns/pkt")
}
