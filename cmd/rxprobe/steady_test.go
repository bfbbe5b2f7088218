package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The RX process's Go heap is quiet in steady state with everything on:
// a 100 ms stats interval (ten samples a second), the guard, the exporter
// process being scraped, and the watcher process with the drift check and
// the flight recorder. Over a window of at least 20 s not one heap
// allocation, no GC cycle, and the heap the runtime holds from the OS does
// not grow.
func TestIntegrationSteadyStateAllOn(t *testing.T) {
	ok, why := haveTracefs()
	if !ok {
		t.Skip(why)
	}
	prefix := uniquePrefix(t)
	cfg := writeConfig(t, nullConfig(prefix, true, "")+"guard:\n  drift_interval: 1s\n  attribution: true\n")
	rep := filepath.Join(t.TempDir(), "r.json")
	addr := freeLoopbackPort(t)
	const runFor = 25 * time.Second // warm-up is 2 s: a window of about 23 s
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := rxprobeCmd(ctx, "run", "--config", cfg, "--duration", runFor.String(), "--stats-interval", "100ms",
		"--metrics-addr", addr, "--report", rep, "--status", "never")
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	terminateOnCleanup(t, cmd, done)
	url := "http://" + addr + "/metrics"
	waitExporterUp(t, url, done)
	// Scrape through the whole run: the exporter works from the segment
	// while the RX process must not notice.
	scrapes := 0
scrape:
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run: %v\n%s", err, stderr.String())
			}
			break scrape
		case <-time.After(500 * time.Millisecond):
			if _, _, err := scrapeFamilies(url); err == nil {
				scrapes++
			}
		}
	}
	r := readReport(t, rep)
	log := stderr.String()
	for _, bad := range []string{"drift watcher", "exporter exited", "stats:"} {
		if strings.Contains(log, bad) {
			t.Errorf("a part was not on for the whole run (%q in the log):\n%s", bad, tail(log, 20))
		}
	}
	for _, d := range r.Degraded {
		if strings.Contains(d, "attribution") || strings.Contains(d, "drift") || strings.Contains(d, "stats") {
			t.Errorf("degraded: %s", d)
		}
	}
	if scrapes < 20 {
		t.Errorf("only %d successful scrapes during the run", scrapes)
	}
	if len(r.Timeline) < 20 {
		t.Errorf("guard timeline has %d seconds, want at least 20 (was the guard on?)", len(r.Timeline))
	}
	ss := r.SteadyState
	if ss == nil {
		t.Fatal("no steady-state measurement in the report")
	}
	t.Logf("steady state over %.1f s: %d mallocs, %d bytes, %d GC cycles, HeapSys %+d bytes; %d scrapes, %d guard events",
		ss.WindowS, ss.Mallocs, ss.HeapBytes, ss.GCCycles, ss.HeapSysDiff, scrapes, len(r.Events))
	if ss.WindowS < 20 {
		t.Errorf("window %.1f s, want at least 20 s", ss.WindowS)
	}
	if ss.Mallocs != 0 || ss.HeapBytes != 0 || ss.GCCycles != 0 {
		t.Errorf("the RX process allocated in steady state: %d mallocs, %d bytes, %d GC cycles", ss.Mallocs, ss.HeapBytes, ss.GCCycles)
	}
	if ss.HeapSysDiff != 0 {
		t.Errorf("HeapSys changed by %d bytes in steady state", ss.HeapSysDiff)
	}
	assertNoLeftovers(t, prefix)
}
