package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestCaptureEquation: the capture block is copied per queue, the
// equation is checked against the queue's rx_packets (and found broken
// when a packet is missing), and the summary has one line per queue.
func TestCaptureEquation(t *testing.T) {
	in := fixtureInput()
	q := &in.Ports[0].Queues[0]
	q.Capture = &Capture{Written: q.Packets - 30, FilteredOut: 20, RingDropped: 7, DiskDropped: 3, Files: 2}
	r := Build(in)
	c := r.Ports[0].Queues[0].Capture
	if c == nil || !c.Equation || c.Written != q.Packets-30 || c.Dropped() != 10 {
		t.Fatalf("capture block %+v", c)
	}
	if r.Ports[0].Queues[0].Capture == q.Capture {
		t.Error("the report shares the input's capture block")
	}
	var out bytes.Buffer
	WriteSummary(&out, r)
	if n := strings.Count(out.String(), "holds"); n != 1 || !strings.Contains(out.String(), "CAPTURE") {
		t.Errorf("summary:\n%s", out.String())
	}
	q.Capture.Written--
	if Build(in).Ports[0].Queues[0].Capture.Equation {
		t.Error("equation holds with a packet missing")
	}
}

// TestCaptureTriggerSummary: trigger mode's expired packets are part of
// the equation (broken without them), and the summary says trigger mode,
// the triggers and each event's reason and file.
func TestCaptureTriggerSummary(t *testing.T) {
	in := fixtureInput()
	q := &in.Ports[0].Queues[0]
	q.Capture = &Capture{Mode: "trigger", Written: 2_000, Expired: q.Packets - 2_000, Files: 2, Triggers: 2, TriggersCoalesced: 3,
		Events: []CaptureEvent{{At: t0.Add(3 * time.Second), Reason: "drop", File: "ev-drop-000000.pcapng"},
			{At: t0.Add(7 * time.Second), Reason: "signal", File: "ev-signal-000001.pcapng"}}}
	r := Build(in)
	if c := r.Ports[0].Queues[0].Capture; !c.Equation {
		t.Fatalf("equation broken: %+v", c)
	}
	var out bytes.Buffer
	WriteSummary(&out, r)
	for _, want := range []string{"EXPIRED", "capture veth/0: trigger mode, 2 trigger(s), 3 coalesced, 10000 packets expired",
		"12:00:03.000 drop   ev-drop-000000.pcapng", "12:00:07.000 signal ev-signal-000001.pcapng"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	q.Capture.Expired--
	if Build(in).Ports[0].Queues[0].Capture.Equation {
		t.Error("equation holds with an expired packet missing")
	}
}
