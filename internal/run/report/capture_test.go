package report

import (
	"bytes"
	"strings"
	"testing"
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
