package report

import (
	"bytes"
	"encoding/json"
	"github.com/rxprobe/rxprobe/isolation/guard"
	"os"
	"strings"
	"testing"
)

func TestBuildFromPlainCounters(t *testing.T) {
	r := Build(fixtureInput())
	if r.RXPackets != 5_020_000 || r.RXBytes != 321_280_000 {
		t.Errorf("totals %d packets %d bytes, want 5020000 and 321280000 (the sum of every queue)", r.RXPackets, r.RXBytes)
	}
	if r.DurationS != 10 || r.RXMpps != 0.502 || r.TSCCycles != 20_000_000_000 {
		t.Errorf("duration %v s, %v Mpps, %d TSC cycles; want 10, 0.502, 20e9", r.DurationS, r.RXMpps, r.TSCCycles)
	}
	veth := r.Ports[0]
	if veth.IPackets != 20_000 || veth.IMissed != 10 || veth.IErrors != 3 || veth.RXNoMbuf != 5 {
		t.Errorf("port counters are not deltas over the run: %+v", veth)
	}
	if veth.Kernel == nil || *veth.Kernel != (Kernel{Iface: "veth0", RXPackets: 20_500, RXDropped: 100}) {
		t.Errorf("kernel counters %+v, want veth0 20500 received, 100 dropped", veth.Kernel)
	}
	// The drop classes of stats/dropclass: ierrors 3 + rx_nombuf 5 + kernel
	// 100 on veth; an AF_XDP port's imissed (10) are frames the kernel
	// already counts in the veth's rx_dropped, so they count once.
	// Nothing on null.
	if r.RXDropped != 108 {
		t.Errorf("rx_dropped %d, want 108", r.RXDropped)
	}
	if veth.XStats["rx_good_packets"] != 20_000 || veth.XStats["rx_q0_errors"] != 3 || len(veth.XStats) != 2 {
		t.Errorf("xstats %v", veth.XStats)
	}
	q := veth.Queues[0]
	if q.BusyFraction != 0.1 || q.MaxGapNs != 60_000 {
		t.Errorf("queue 0: busy %v, max gap %d ns; want 0.1 and 60000 (120000 cycles at 2 GHz)", q.BusyFraction, q.MaxGapNs)
	}
	if len(q.GapHistogram) != 4 || q.GapHistogram[3].LeNs != nil || q.GapHistogram[3].Count != 1 {
		t.Fatalf("histogram %+v: want 4 buckets, the last unbounded", q.GapHistogram)
	}
	for k, want := range []uint64{1_000, 10_000, 100_000} {
		if b := q.GapHistogram[k]; b.LeNs == nil || *b.LeNs != want {
			t.Errorf("bucket %d bound %v, want %d", k, b.LeNs, want)
		}
	}
	if r.Ports[1].Kernel != nil || r.Ports[1].Queues[0].MaxGapNs != 1_000_000_000 {
		t.Errorf("null port: kernel %+v, max gap %d", r.Ports[1].Kernel, r.Ports[1].Queues[0].MaxGapNs)
	}
	if len(r.Ledger) != 6 || r.Ledger[4].Layer != "kernel_path" || r.Ledger[4].Drops != 100 || r.Ledger[4].Why == "" {
		t.Errorf("ledger %+v", r.Ledger)
	}
	if len(r.Events) != 8 || r.Events[7].Kind != "drift" || r.EventsLost != 1 {
		t.Fatalf("events: %d, last %q, lost %d; want the 7 guard events, then the drift, 1 lost", len(r.Events), r.Events[len(r.Events)-1].Kind, r.EventsLost)
	}
	if !strings.Contains(r.Events[0].Detail, "rxp-munmap") {
		t.Errorf("the TLB event was not annotated: %+v", r.Events[0])
	}
}

func TestBuildCopiesWhatItIsGiven(t *testing.T) {
	in := fixtureInput()
	r := Build(in)
	in.Degraded[0] = "changed"
	in.Guard.Events[0].Detail = "changed"
	if r.Degraded[0] == "changed" || r.Events[0].Detail == "changed" {
		t.Error("the report shares degraded or events with its input")
	}
}

// A run without stats thread: no ledger, no events (null, as before), an
// empty degraded list ([] rather than null), no kernel counters when they
// could not be read at the end.
func TestBuildWithoutGuard(t *testing.T) {
	in := fixtureInput()
	in.Guard, in.Drift, in.Attribution, in.Degraded, in.SteadyState = nil, nil, nil, nil, nil
	in.Ports[0].KernelLast = nil
	b, err := json.Marshal(Build(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"degraded":[]`, `"events":null`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("JSON lacks %s", want)
		}
	}
	for _, absent := range []string{`"ledger"`, `"timeline"`, `"steady_state"`, `"kernel"`, `"events_lost"`} {
		if bytes.Contains(b, []byte(absent)) {
			t.Errorf("JSON has %s", absent)
		}
	}
}

// The JSON field names are read by other tools: the golden file holds
// every one of them.
func TestReportJSONGolden(t *testing.T) {
	b, err := json.MarshalIndent(Build(fixtureInput()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", append(b, '\n'))
}

func TestWriteIsAtomicAndReadable(t *testing.T) {
	path := t.TempDir() + "/r.json"
	want := Build(fixtureInput())
	if err := Write(path, want); err != nil {
		t.Fatal(err)
	}
	var got Report
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.RXPackets != want.RXPackets || len(got.Events) != len(want.Events) {
		t.Errorf("read back %d packets %d events", got.RXPackets, len(got.Events))
	}
	if _, err := os.Stat(path + ".tmp"); err == nil {
		t.Error("temporary file left behind")
	}
	if err := Write(t.TempDir()+"/missing/r.json", want); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

// TestLostBeforeLoop: capture_ring drops were received by the loop, so
// offered = rx_packets + the ledger's other layers.
func TestLostBeforeLoop(t *testing.T) {
	in := fixtureInput()
	in.Guard.Ledger = [guard.NumLayers]uint64{}
	in.Guard.Ledger[guard.LayerKernelPath] = 100
	in.Guard.Ledger[guard.LayerCaptureRing] = 40
	in.Guard.Ledger[guard.LayerHostTooSlow] = 2
	r := Build(in)
	if got := r.LostBeforeLoop(); got != 102 {
		t.Errorf("LostBeforeLoop = %d, want 102 (kernel_path 100 + host_too_slow 2; capture_ring 40 was received)", got)
	}
	for _, l := range r.Ledger {
		if l.AfterLoop != (l.Layer == "capture_ring") {
			t.Errorf("layer %s: after_loop %v", l.Layer, l.AfterLoop)
		}
	}
}
