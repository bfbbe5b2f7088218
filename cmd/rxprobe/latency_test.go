package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/trialapi"
)

// TestIntegrationVethLatency: frames stamped by `gen --latency` over the
// veth pair are all recorded by `run --latency` — count N, no gap, no
// reorder, a positive p50 and a max below a second, a clock the
// generator's report shares. A second generator run starts a new epoch
// of the sequence: the detector restarts without counting a reorder or a
// gap (the detector's own faults are planted in rx/internal/dpdk's
// TestLatencyLoopOnLoopback).
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
	if l.Count != n+n/5 || l.Gaps != 0 || l.Reordered != 0 || l.Unstamped != 0 {
		t.Errorf("count %d gaps %d reordered %d unstamped %d; want %d 0 0 0", l.Count, l.Gaps, l.Reordered, l.Unstamped, n+n/5)
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

// TestIntegrationVethLatencyTrials: what the benchmark harness does — a
// served generator sends latency trials, each inside a trial of the API,
// whose stop call gets the generator's clock. Each trial's latency counts
// exactly its frames with no gap and no reorder (the served generator's
// sequence runs on across trials) and is valid; a stop without the clock
// is not, and says why.
func TestIntegrationVethLatencyTrials(t *testing.T) {
	needCurl(t)
	v := newNamedVethPair(t, "rxlu")
	cfg := writeConfig(t, vethConfig(v, "net_af_xdp0", fmt.Sprintf(afXDPArgs, v.a), 4096))
	addr := "127.0.0.1:" + freePort(t)
	base := "http://" + addr
	run, done := startRun(t, cfg, filepath.Join(t.TempDir(), "run.json"), "--latency", "--trial-api", addr)
	waitTrialAPI(t, base)
	gs := startGenServe(t, v, cfg)
	for i, count := range []uint64{2000, 3000} {
		var start, stop trialapi.Trial
		if code := curlJSON(t, &start, "-X", "POST", base+"/v1/trials"); code != 201 {
			t.Fatalf("trial %d start: %d", i, code)
		}
		r := gs.trial(fmt.Sprintf(`{"rate_pps": 10000, "count": %d, "latency": true}`, count))
		if r.Clock == nil || !r.Latency {
			t.Fatalf("trial %d reply without latency or clock: %+v", i, r)
		}
		time.Sleep(300 * time.Millisecond) // the last frames cross the veth
		body, _ := json.Marshal(trialapi.StopRequest{GeneratorClock: r.Clock})
		if code := curlJSON(t, &stop, "-X", "POST", "--data", string(body), base+"/v1/trials/"+start.ID+"/stop"); code != 200 || stop.Result == nil {
			t.Fatalf("trial %d stop: %d", i, code)
		}
		l := stop.Result.Latency
		if l == nil || !l.Valid || l.Clock != counters.ClockName {
			t.Fatalf("trial %d latency %+v: want valid, same-host TSC", i, l)
		}
		t.Logf("trial %d: p50 %d ns, p99 %d, max %d", i, l.P50Ns, l.P99Ns, l.MaxNs)
		if r.Sent != count || stop.Result.RXPackets != count || l.Count != count || l.Gaps != 0 || l.Reordered != 0 || l.P50Ns == 0 {
			t.Errorf("trial %d: sent %d, received %d, latency count %d gaps %d reordered %d p50 %d; want %d each, 0 gaps and reorders",
				i, r.Sent, stop.Result.RXPackets, l.Count, l.Gaps, l.Reordered, l.P50Ns, count)
		}
	}
	gs.close()
	var start, stop trialapi.Trial
	curlJSON(t, &start, "-X", "POST", base+"/v1/trials")
	if code := curlJSON(t, &stop, "-X", "POST", base+"/v1/trials/"+start.ID+"/stop"); code != 200 || stop.Result.Latency == nil ||
		stop.Result.Latency.Valid || stop.Result.Latency.Reason == "" {
		t.Errorf("stop without a generator clock: %d %+v, want valid false with a reason", code, stop.Result.Latency)
	}
	stopRun(t, run, done)
}
