package dpdk

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"testing"
	"time"
)

// The EAL can start once per process, so every test here shares one EAL
// with two net_null ports on --no-huge memory and one worker lcore.
var ealErr error

func TestMain(m *testing.M) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		ealErr = Init([]string{"rxprobe-test",
			"--no-huge", "-m", "256", "--no-pci",
			"--file-prefix", fmt.Sprintf("rxptest%d", os.Getpid()),
			"--lcores", "0@0,1@" + workerCPU(),
			"--vdev", "net_null0", "--vdev", "net_null1", "--vdev", "net_ring0", "--vdev", "net_ring1", "--vdev", "net_null2,size=1514",
			"--log-level", "lib.eal:error", "--no-telemetry"})
		close(done)
	}()
	<-done
	code := m.Run()
	dir := RuntimeDir()
	_ = Cleanup()
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// workerCPU is CPU 1 where it exists, else CPU 0.
func workerCPU() string {
	if runtime.NumCPU() > 1 {
		return "1"
	}
	return "0"
}

func needEAL(t *testing.T) {
	t.Helper()
	if ealErr != nil {
		t.Fatalf("EAL did not start: %v", ealErr)
	}
}

func setupPort(t *testing.T, name string, rxq, txq uint16) (uint16, *Mempool) {
	t.Helper()
	needEAL(t)
	port, err := PortByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return port, startPort(t, port, "pool_"+name, 4095, rxq, txq)
}

// startPort makes a pool of n mbufs, configures port with rxq and txq
// queues of 1024 descriptors on it and starts it.
func startPort(tb testing.TB, port uint16, pool string, n uint32, rxq, txq uint16) *Mempool {
	tb.Helper()
	mp, err := NewMempool(pool, n, 256, 2176, 0, false)
	if err != nil {
		tb.Fatal(err)
	}
	if err := Configure(port, PortConfig{RXQueues: rxq, TXQueues: txq, RXRing: 1024, TXRing: 1024}, mp, 0); err != nil {
		tb.Fatal(err)
	}
	if err := Start(port); err != nil {
		tb.Fatal(err)
	}
	return mp
}

func TestRXLoopCountsPacketsOnNetNull(t *testing.T) {
	port, _ := setupPort(t, "net_null0", 1, 1)
	stats, err := NewStatsReader(port)
	if err != nil {
		t.Fatal(err)
	}
	var before PortStats
	if err := stats.Read(&before); err != nil {
		t.Fatal(err)
	}
	q, err := NewRXQueue(port, 0, 32, 0)
	if err != nil {
		t.Fatal(err)
	}
	workers := WorkerLcores()
	if len(workers) == 0 {
		t.Fatal("no worker lcore")
	}
	SetStop(false)
	if err := q.Launch(workers[0]); err != nil {
		t.Fatal(err)
	}
	var c RXCounters
	deadline := time.Now().Add(10 * time.Second)
	for c.Packets < 1_000_000 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		q.Read(&c)
	}
	if !c.Running {
		t.Errorf("loop not running while counting")
	}
	SetStop(true)
	WaitAll()
	q.Read(&c)
	if c.Running {
		t.Errorf("loop still marked running after stop")
	}
	if c.Packets < 1_000_000 {
		t.Fatalf("packets = %d, want >= 1e6 from net_null", c.Packets)
	}
	// net_null hands out 64-byte packets.
	if c.Bytes != 64*c.Packets {
		t.Errorf("bytes = %d, want 64 × %d packets", c.Bytes, c.Packets)
	}
	if c.Polls < c.Packets/32 {
		t.Errorf("polls = %d: fewer than packets/burst = %d", c.Polls, c.Packets/32)
	}
	var hist uint64
	for _, n := range c.GapHist {
		hist += n
	}
	if hist != c.Polls {
		t.Errorf("gap histogram holds %d gaps, want one per poll (%d)", hist, c.Polls)
	}
	if c.MaxGapCycles == 0 {
		t.Errorf("max gap not recorded")
	}
	var after PortStats
	if err := stats.Read(&after); err != nil {
		t.Fatal(err)
	}
	if got := after.IPackets - before.IPackets; got != c.Packets {
		t.Errorf("ethdev ipackets moved by %d, loop counted %d", got, c.Packets)
	}

	x, err := NewXStats(port)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Free()
	if err := x.Read(); err != nil {
		t.Fatal(err)
	}
	found := false
	for i, name := range x.Names() {
		if name == "rx_good_packets" {
			found = true
			if x.Values()[i] != after.IPackets {
				t.Errorf("xstat rx_good_packets = %d, stats ipackets = %d", x.Values()[i], after.IPackets)
			}
		}
	}
	if !found {
		t.Errorf("xstat rx_good_packets missing from %v", x.Names())
	}

	if n := testing.AllocsPerRun(100, func() { q.Read(&c); _ = stats.Read(&after); _ = x.Read() }); n != 0 {
		t.Errorf("counter reads allocate %.1f times per run, want 0", n)
	}
	q.Free()
}

func TestGenSendsExactCount(t *testing.T) {
	port, pool := setupPort(t, "net_null1", 1, 1)
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	g, err := NewGen(port, 0, pool, 0, GenParams{
		Burst: 32, Size: 128, Rate: 1e6, Count: 10_000, Flows: 4,
		SrcMAC: mac, DstMAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 2), SrcPort: 1024, DstPort: 9,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Free()
	SetStop(false)
	if err := g.Launch(WorkerLcores()[0]); err != nil {
		t.Fatal(err)
	}
	WaitAll()
	var c GenCounters
	g.Read(&c)
	if !c.Done || c.Sent+c.TXDropped != 10_000 {
		t.Fatalf("gen counters %+v: want done with sent+dropped = 10000", c)
	}
	if c.Sent != 10_000 {
		t.Errorf("net_null dropped %d packets on TX; it never should", c.TXDropped)
	}
	stats, _ := NewStatsReader(port)
	var ps PortStats
	if err := stats.Read(&ps); err != nil {
		t.Fatal(err)
	}
	// net_null counts TX packets but not TX bytes.
	if ps.OPackets != 10_000 {
		t.Errorf("port saw %d packets, want 10000", ps.OPackets)
	}
}

func TestBadInputsAreErrors(t *testing.T) {
	needEAL(t)
	if _, err := PortByName("net_nosuch0"); err == nil {
		t.Error("unknown port name accepted")
	}
	if _, err := NewRXQueue(0, 0, 0, 0); err == nil {
		t.Error("burst 0 accepted")
	}
	if _, err := NewRXQueue(0, 0, MaxBurst+1, 0); err == nil {
		t.Error("burst above MaxBurst accepted")
	}
	if err := Init(nil); err != ealErr {
		t.Errorf("second Init returned %v, want the first result %v", err, ealErr)
	}
}
