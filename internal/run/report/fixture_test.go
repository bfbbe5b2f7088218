package report

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/isolation/guard"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// t0 is when the fixture run's loops were launched.
var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// fixtureInput is a 10 s run on two ports: an AF_XDP port on a veth
// (kernel counters, drops in every counter) with two queues, and a
// net_null port with one. The guard saw seven events (one more lost), the
// watcher one drift and attributions, and the run was degraded.
func fixtureInput() Input {
	bounds := []uint64{1_000, 10_000, 100_000} // 4 buckets, the last unbounded
	gap := func(at time.Time, cpu int, port, queue int, ns uint64) guard.Event {
		return guard.Event{At: at, Kind: "gap", CPU: cpu, Port: port, Queue: queue, Count: ns, Limit: 50_000}
	}
	irq := func(at time.Time, kind string, count uint64, irqName string) guard.Event {
		return guard.Event{At: at, Kind: kind, CPU: 1, Port: -1, Queue: -1, Count: count, Limit: 0, IRQ: irqName}
	}
	return Input{
		Version: "v1.2.3", FilePrefix: "rxprobe-run-42", EALArgs: []string{"rxprobe", "--file-prefix", "rxprobe-run-42"},
		Started: t0, Ended: t0.Add(10 * time.Second),
		TSCHz: 2_000_000_000, FirstTSC: 1_000, LastTSC: 1_000 + 20_000_000_000,
		DPDKEvents:  DPDKEvents{LinkChanges: 1},
		GapBoundsNs: bounds,
		Ports: []PortInput{
			{Name: "veth", Device: "net_af_xdp0", Driver: "net_af_xdp", NUMANode: 0, LinkUp: true, SpeedMbps: 10000,
				First:      PortCounters{IPackets: 100, IMissed: 1, IErrors: 0, RXNoMbuf: 2},
				Last:       PortCounters{IPackets: 20_100, IMissed: 11, IErrors: 3, RXNoMbuf: 7},
				XStatNames: []string{"rx_good_packets", "rx_q0_errors"}, XStats: []uint64{20_000, 3},
				Iface: "veth0", KernelFirst: &KernelCounters{RXPackets: 500, RXDropped: 4}, KernelLast: &KernelCounters{RXPackets: 21_000, RXDropped: 104},
				Queues: []QueueInput{
					{ID: 0, CPU: 1, Lcore: 1, Packets: 12_000, Bytes: 768_000, Polls: 1_000_000, EmptyPolls: 900_000,
						BusyCycles: 2_000_000_000, MaxGapCycles: 120_000, GapHist: []uint64{999_000, 900, 99, 1}},
					{ID: 1, CPU: 1, Lcore: 2, Packets: 8_000, Bytes: 512_000, Polls: 500_000, EmptyPolls: 250_000,
						BusyCycles: 4_000_000_000, MaxGapCycles: 4_000, GapHist: []uint64{499_990, 10, 0, 0}},
				}},
			{Name: "null", Device: "net_null0", Driver: "net_null", NUMANode: 0,
				Last:       PortCounters{IPackets: 5_000_000},
				XStatNames: []string{}, XStats: []uint64{},
				Queues: []QueueInput{{ID: 0, CPU: 1, Lcore: 3, Packets: 5_000_000, Bytes: 320_000_000, Polls: 2_000_000,
					BusyCycles: 10_000_000_000, MaxGapCycles: 2_000_000_000, GapHist: []uint64{1_999_999, 0, 0, 1}}}},
		},
		Degraded:    []string{"no hugepages (eal.no_huge): packet memory is ordinary pages, TLB misses and page moves possible", "unisolated: preflight failed isolcpus (--allow-unisolated)"},
		SteadyState: &SteadyState{WindowS: 7.5, GCCycles: 0, HeapSysDiff: 0},
		Guard: &GuardResult{
			Ledger:   [guard.NumLayers]uint64{0, 10, 5, 0, 100},
			Timeline: []guard.Second{{At: t0.Add(time.Second), RXPackets: 1_000, WorstGapNs: 64}},
			Events: []guard.Event{
				irq(t0.Add(2*time.Second), "TLB", 12, ""),
				gap(t0.Add(3*time.Second), 1, 0, 0, 60_000),
				irq(t0.Add(4*time.Second), "IRQ", 3, "41 virtio3-rx"),
				irq(t0.Add(5*time.Second), "RES", 2, ""),
				irq(t0.Add(6*time.Second), "LOC", 1001, ""),
				irq(t0.Add(7*time.Second), "TLB", 4, ""),
				gap(t0.Add(8*time.Second), 1, 1, 0, 1_500_000),
			},
			EventsLost: 1,
		},
		Attribution: []Attribution{
			{At: t0.Add(2*time.Second + 200*time.Millisecond), CPU: 1, Detail: "12 TLB shootdown in 1.0 s, sent by rxprobe (pid 42) thread rxp-munmap"},
		},
		Drift: []guard.Event{{At: t0.Add(9 * time.Second), Kind: "drift", CPU: -1, Port: -1, Queue: -1,
			Detail: "irq 41 (virtio3-rx) affinity now includes RX CPU 1"}},
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (-want +got):\n-%s\n+%s", path, want, got)
	}
}
