package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rxprobe/rxprobe/rx/counters"
)

// TestLatencyInReportAndSummary: queues' latency records appear per
// queue, summed in the report's latency block with the host clock, and
// as one summary line; a run without latency has neither.
func TestLatencyInReportAndSummary(t *testing.T) {
	in := fixtureInput()
	var a, b counters.Latency
	for v := uint64(1000); v < 2000; v++ {
		a.Hist[counters.LatBucket(v)]++
		a.Stamped++
	}
	a.MaxNs, a.Gaps = 1999, 2
	b.Hist[counters.LatBucket(3_000_000)]++
	b.Stamped, b.MaxNs, b.Reordered, b.Unstamped = 1, 3_000_000, 5, 7
	in.Ports[0].Queues[0].Latency = &a
	in.Ports[len(in.Ports)-1].Queues[len(in.Ports[len(in.Ports)-1].Queues)-1].Latency = &b
	in.HostClock = counters.HostClock{MachineID: "m", BootID: "b", TSCHz: 2e9}
	r := Build(in)
	if q := r.Ports[0].Queues[0].Latency; q == nil || q.Count != 1000 || q.MaxNs != 1999 {
		t.Fatalf("queue latency %+v", q)
	}
	l := r.Latency
	if l == nil || l.Count != 1001 || l.Gaps != 2 || l.Reordered != 5 || l.Unstamped != 7 || l.MaxNs != 3_000_000 ||
		l.Clock != "same-host TSC" || l.HostClock.MachineID != "m" {
		t.Fatalf("report latency %+v", l)
	}
	var out bytes.Buffer
	WriteSummary(&out, r)
	if !strings.Contains(out.String(), "latency (same-host TSC): 1001 stamped, p50 1.5") || !strings.Contains(out.String(), "max 3.0 ms, 2 gaps, 5 reordered, 7 unstamped\n") {
		t.Errorf("summary lacks the latency line:\n%s", out.String())
	}
	out.Reset()
	WriteSummary(&out, Build(fixtureInput()))
	if strings.Contains(out.String(), "latency") {
		t.Errorf("summary of a run without latency mentions it:\n%s", out.String())
	}
}
