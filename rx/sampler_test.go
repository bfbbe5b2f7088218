package rx_test

// The engine feeding the stats thread end to end: a real net_null port
// read by stats/sampler through its Engine interface (the sampler's own
// tests use a fake engine and need neither DPDK nor root).

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/rx/capture"
	"github.com/rxprobe/rxprobe/rx/config"
	"github.com/rxprobe/rxprobe/stats/sampler"
	"github.com/rxprobe/rxprobe/stats/shm"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// One engine per test binary (EAL starts once per process): net_null on
// ordinary memory, one loop on CPU 1 (CPU 0 on a one-CPU host).
var (
	eng    *rx.Engine
	engErr error
)

func TestMain(m *testing.M) {
	runtime.LockOSThread() // EAL adopts this thread; every engine call stays on it
	cpu := "1"
	if runtime.NumCPU() < 2 {
		cpu = "0"
	}
	cfg := &config.Config{
		EAL:   config.EAL{NoHuge: true, LogLevel: "error", FilePrefix: fmt.Sprintf("rxpsmp%d", os.Getpid())},
		Ports: []config.Port{{Device: "net_null0", RXQueues: 1, RXCPUs: cpu, RXRing: 1024, Burst: 32, MbufCache: 256, DataRoom: 2176}},
		Stats: config.Stats{Interval: 100 * time.Millisecond, ShmDir: "/dev/shm"},
		// Capture on, with a filter net_null's all-zero frames never
		// match: the capture counters and the ISB's NIC drops are read
		// by every sample, and nothing is written to disk.
		Capture: capture.Config{Enabled: true, Filter: "udp dst port 9", Snaplen: 128, Dir: os.TempDir(),
			Pattern: fmt.Sprintf("rxpsmp%d-{port}-{queue}.pcapng", os.Getpid()), RingSize: 1024, BlockKB: 64, Blocks: 2},
	}
	online := cpuset.Of(0)
	if cpu == "1" {
		online = cpuset.Of(0, 1)
	}
	if engErr = cfg.Validate(online); engErr == nil {
		// Latency on: the latency loop runs, and every sample reads its
		// record (net_null's frames carry no stamp: all unstamped).
		eng, engErr = rx.Open(cfg, rx.Options{Latency: true})
	}
	code := m.Run()
	if eng != nil {
		_ = eng.Close()
	}
	_ = os.Remove(filepath.Join(os.TempDir(), fmt.Sprintf("rxpsmp%d-0-0.pcapng", os.Getpid())))
	os.Exit(code)
}

func TestEngineFeedsTheSamplerWithoutAllocating(t *testing.T) {
	if engErr != nil {
		t.Fatalf("engine: %v", engErr)
	}
	dir := t.TempDir()
	s, err := sampler.New(eng, sampler.Options{Interval: 100 * time.Millisecond, ShmDir: dir, Prefix: "smptest", StatusFD: -1, EventFD: -1, Guard: &sampler.GuardOptions{},
		Build: map[string]string{"version": "test"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Sample(); err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	s.LaunchTSC(rx.TSC())
	time.Sleep(100 * time.Millisecond)

	if n := testing.AllocsPerRun(20, func() {
		if err := s.Sample(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("a sample allocates %.1f times, want 0", n)
	}

	r, err := shm.Open(dir, "smptest")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, r.PayloadSize())
	read := func() (*snapshot.Schema, int) {
		if _, err := r.Read(buf); err != nil {
			t.Fatal(err)
		}
		sc, off, err := snapshot.Decode(buf)
		if err != nil {
			t.Fatal(err)
		}
		return sc, off
	}
	find := func(sc *snapshot.Schema, metric string, labels ...string) int {
		for _, se := range sc.Series {
			if se.Metric != metric {
				continue
			}
			ok := true
			for i := 0; i+1 < len(labels); i += 2 {
				match := false
				for _, l := range se.Labels {
					if l.Name == labels[i] && l.Value == labels[i+1] {
						match = true
					}
				}
				ok = ok && match
			}
			if ok {
				return se.Index
			}
		}
		t.Fatalf("no series %s %v", metric, labels)
		return -1
	}
	sc, off := read()
	pk := find(sc, "rxprobe_rx_packets_total", "port", "port0", "queue", "0")
	p1 := snapshot.ValueAt(buf, off, pk)
	// Stop the loop so the next sample is exact (a running loop's fields
	// are read one by one and may differ by a poll).
	eng.Stop()
	if err := s.Sample(); err != nil {
		t.Fatal(err)
	}
	_, off = read()
	p2 := snapshot.ValueAt(buf, off, pk)
	if p1 == 0 || p2 <= p1 {
		t.Errorf("rx_packets_total did not grow: %d then %d", p1, p2)
	}
	// The histogram holds one gap per poll.
	polls := snapshot.ValueAt(buf, off, find(sc, "rxprobe_loop_polls_total"))
	var sum uint64
	h := sc.Histograms[0]
	for k := 0; k <= len(h.Bounds); k++ {
		sum += snapshot.ValueAt(buf, off, h.First+k)
	}
	if sum != polls || h.Metric != "rxprobe_loop_gap_seconds" || len(h.Bounds) != rx.GapBuckets-1 {
		t.Errorf("histogram %s: %d gaps for %d polls, %d bounds", h.Metric, sum, polls, len(h.Bounds))
	}
	if snapshot.ValueAt(buf, off, h.Sum) == 0 {
		t.Error("histogram sum is 0 after the loop ran")
	}
	good := find(sc, "rxprobe_xstat_total", "name", "rx_good_packets")
	if v := snapshot.ValueAt(buf, off, good); v != p2 {
		t.Errorf("xstat rx_good_packets %d < loop packets %d", v, p2)
	}
	if v := snapshot.ValueAt(buf, off, find(sc, "rxprobe_capture_filtered_out_total", "queue", "0")); v != p2 {
		t.Errorf("capture filtered out %d of %d packets, want all (net_null frames are not UDP)", v, p2)
	}
	if v := snapshot.ValueAt(buf, off, find(sc, "rxprobe_latency_unstamped_total", "queue", "0")); v != p2 {
		t.Errorf("latency: %d unstamped of %d packets, want all (net_null frames carry no stamp)", v, p2)
	}
	loc := find(sc, "rxprobe_cpu_interrupts_total", "kind", "LOC")
	_ = loc // present for the RX CPU: the local timer row exists on every x86 host
	find(sc, "rxprobe_udp_rcvbuf_errors_total")
	find(sc, "rxprobe_netdev_rx_dropped_total", "device", "lo")
	if sc.Build["version"] != "test" || sc.Prefix != "smptest" {
		t.Errorf("schema build %v prefix %q", sc.Build, sc.Prefix)
	}
}

func TestSamplerStdioReadsBaselineStillPublishes(t *testing.T) {
	if engErr != nil {
		t.Fatalf("engine: %v", engErr)
	}
	dir := t.TempDir()
	s, err := sampler.New(eng, sampler.Options{Interval: 100 * time.Millisecond, ShmDir: dir, Prefix: "smpstdio", StatusFD: -1, StdioReads: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(250 * time.Millisecond)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "/rxprobe-smpstdio"); !os.IsNotExist(err) {
		t.Errorf("segment not removed by Close: %v", err)
	}
}
