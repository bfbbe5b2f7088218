package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rxprobe/rxprobe/rx/counters"
)

// TestIntegrationVethLatency: frames stamped by `gen --latency` over the
// veth pair are all recorded by `run --latency` — count N, no gap, no
// reorder, a positive p50 and a max below a second, a clock the
// generator's report shares. A second generator run restarts the
// sequence: the detector counts every one of its frames as reordered.
func TestIntegrationVethLatency(t *testing.T) {
	const n = 5000
	v := newNamedVethPair(t, "rxlt")
	cfg := writeConfig(t, vethConfig(v, "net_af_xdp0", fmt.Sprintf(afXDPArgs, v.a), 4096))
	dir := t.TempDir()
	runRep := filepath.Join(dir, "run.json")
	cmd, done := startRun(t, cfg, runRep, "--latency")
	g1 := genInNS(t, v, cfg, filepath.Join(dir, "gen1.json"), "--latency", "--count", fmt.Sprint(n), "--rate", "10000")
	g2 := genInNS(t, v, cfg, filepath.Join(dir, "gen2.json"), "--latency", "--count", fmt.Sprint(n/5), "--rate", "10000")
	stopRun(t, cmd, done)
	r := readReport(t, runRep)
	if g1.Sent != n || g2.Sent != n/5 || !g1.Latency || g1.Clock == nil {
		t.Fatalf("generators sent %d and %d (latency %v, clock %v), want %d and %d", g1.Sent, g2.Sent, g1.Latency, g1.Clock, n, n/5)
	}
	if r.RXPackets != n+n/5 {
		t.Fatalf("received %d frames, sent %d: a lossy run cannot check the detector", r.RXPackets, n+n/5)
	}
	l := r.Latency
	if l == nil {
		t.Fatal("the report has no latency block")
	}
	t.Logf("latency over veth: p50 %d ns, p90 %d, p99 %d, p99.9 %d, max %d", l.P50Ns, l.P90Ns, l.P99Ns, l.P999Ns, l.MaxNs)
	if l.Count != n+n/5 || l.Gaps != 0 || l.Reordered != n/5 || l.Unstamped != 0 {
		t.Errorf("count %d gaps %d reordered %d unstamped %d; want %d 0 %d 0", l.Count, l.Gaps, l.Reordered, l.Unstamped, n+n/5, n/5)
	}
	if l.P50Ns == 0 || l.MaxNs >= 1e9 || l.P50Ns > l.P99Ns || l.P99Ns > l.MaxNs {
		t.Errorf("p50 %d ns, p99 %d, max %d: want 0 < p50 <= p99 <= max < 1 s", l.P50Ns, l.P99Ns, l.MaxNs)
	}
	if ok, why := counters.SameTSC(g1.Clock, &l.HostClock); !ok {
		t.Errorf("generator and probe on this host do not share a clock: %s", why)
	}
	if q := r.Ports[0].Queues[0].Latency; q == nil || q.Count != l.Count {
		t.Errorf("queue latency %+v, want the run's", q)
	}
}
