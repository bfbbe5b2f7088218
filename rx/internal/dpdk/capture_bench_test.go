package dpdk

import (
	"testing"
	"time"
)

// BenchmarkCaptureRXCost is the capture stage's cost on the RX loop:
// Mpps on one net_null queue (64-byte frames) with capture off, and on
// with no filter, with a filter that matches nothing (JIT and
// interpreter). Each iteration runs every variant for 200 ms, alternating.
// With capture on and no filter the writer cannot keep up with net_null:
// that variant measures filter-less handoff plus ring-full drops.
func BenchmarkCaptureRXCost(b *testing.B) {
	q := benchQueue(b)
	defer q.Free()
	port := q.Port
	prog, err := CompileFilter("udp dst port 53", 256)
	if err != nil {
		b.Fatal(err)
	}
	defer prog.Free()
	jit, err := prog.Load(true)
	if err != nil {
		b.Fatal(err)
	}
	defer jit.Free()
	interp, err := prog.Load(false)
	if err != nil {
		b.Fatal(err)
	}
	defer interp.Free()
	variants := []struct {
		name   string
		filter *Filter
		on     bool
	}{{"off", nil, false}, {"on-nofilter", nil, true}, {"on-jit", jit, true}, {"on-interp", interp, true}}
	pkts := make([]uint64, len(variants))
	durs := make([]time.Duration, len(variants))
	handed := make([]uint64, len(variants)) // to the writer, whole run
	run := func(i int) {
		v := variants[i]
		var c *Capture
		if v.on {
			cfg := baseConfig()
			// the ring must leave the pool (4095) enough for RX: 1024 descriptors + caches
			cfg.Port, cfg.Snaplen, cfg.RingSize, cfg.Dir = port, 256, 1024, b.TempDir()
			cfg.CPUs = captureCPUs(b)
			if c, err = NewCapture(cfg, v.filter); err != nil {
				b.Fatal(err)
			}
			if err := c.Attach(q); err != nil {
				b.Fatal(err)
			}
			if err := c.Start(); err != nil {
				b.Fatal(err)
			}
		}
		p, d := measureRX(b, q, q.Launch)
		pkts[i] += p
		durs[i] += d
		if c != nil {
			c.Stop()
			var cc CaptureCounters
			c.Read(&cc)
			handed[i] += cc.Enqueued
			c.Free()
		}
	}
	for b.Loop() {
		for i := range variants {
			run(i)
		}
	}
	off := float64(pkts[0]) / durs[0].Seconds() / 1e6
	for i, v := range variants {
		mpps := float64(pkts[i]) / durs[i].Seconds() / 1e6
		b.ReportMetric(mpps, v.name+"-Mpps")
		if i > 0 {
			b.ReportMetric(mpps/off, v.name+"-ratio")
		}
		if v.name == "on-nofilter" {
			b.ReportMetric(float64(handed[i])/durs[i].Seconds()/1e6, v.name+"-handed-Mpps")
		}
	}
}

// BenchmarkCaptureWriter is the writer's sustained rate: net_null2 hands
// the RX loop 1514-byte frames far faster than one writer can store them,
// so the writer runs flat out; it reports what reached the file system
// (MB/s, O_DIRECT where the target allows it, 4 MiB blocks) and the share
// of matched packets the ring had to drop. The target is b.TempDir()
// (set TMPDIR to measure another disk).
func BenchmarkCaptureWriter(b *testing.B) {
	port, err := PortByName("net_null2")
	if err != nil {
		b.Fatal(err)
	}
	startPort(b, port, "pool_bench_writer", 32767, 1, 1)
	q, err := NewRXQueue(port, 0, 32, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Free()
	var written, bytes, drops, matched, busy, wait, wns uint64
	var dur time.Duration
	direct := true
	for b.Loop() {
		cfg := baseConfig()
		cfg.Port, cfg.Snaplen, cfg.RingSize = port, 1514, 16384
		cfg.BlockSize, cfg.Blocks = 4<<20, 8
		cfg.RotateBytes, cfg.MaxFiles = 512<<20, 2
		cfg.Dir, cfg.CPUs = b.TempDir(), captureCPUs(b)
		c, err := NewCapture(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Attach(q); err != nil {
			b.Fatal(err)
		}
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		SetStop(false)
		t0 := time.Now()
		if err := q.Launch(WorkerLcores()[0]); err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Second)
		SetStop(true)
		WaitAll()
		c.Stop()
		dur += time.Since(t0)
		var cc CaptureCounters
		c.Read(&cc)
		c.Free()
		written += cc.Written
		bytes += cc.BytesWritten
		drops += cc.RingDropped
		matched += cc.Enqueued + cc.RingDropped
		direct = direct && cc.Direct
		busy, wait, wns = busy+cc.BusyNs, wait+cc.BlockWaitNs, wns+cc.WriteNs
		if cc.Errors != 0 {
			b.Fatalf("writer errors: %+v", cc)
		}
	}
	b.ReportMetric(float64(bytes)/dur.Seconds()/1e6, "MB/s")
	b.ReportMetric(float64(written)/dur.Seconds()/1e6, "written-Mpps")
	b.ReportMetric(100*float64(drops)/float64(max(matched, 1)), "ring-drop-%")
	// where the time went: the writer encoding, the writer waiting for a
	// free block (the disk behind), the I/O thread inside pwrite
	b.ReportMetric(100*float64(busy)/float64(dur.Nanoseconds()), "writer-busy-%")
	b.ReportMetric(100*float64(wait)/float64(dur.Nanoseconds()), "writer-blockwait-%")
	b.ReportMetric(100*float64(wns)/float64(dur.Nanoseconds()), "io-pwrite-%")
	if !direct {
		b.Log("the target refused O_DIRECT: buffered writes")
	}
}
