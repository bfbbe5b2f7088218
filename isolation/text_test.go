package isolation

import (
	"bytes"
	"strings"
	"testing"
)

func TestReportWriteText(t *testing.T) {
	rep := Report{Host: "box", Results: []Result{
		{ID: "isolcpus", Status: StatusPass, Observed: "2-5"},
		{ID: "irqbalance", Status: StatusFail, Title: "irqbalance is off", Observed: "running",
			Expected: "not running", Reason: "moves\nIRQs", Remedy: "systemctl stop irqbalance", Details: []string{"pid 7"}},
		{ID: "cpu_power", Status: StatusSkip, Reason: "no cpufreq"},
	}}
	var buf bytes.Buffer
	rep.WriteText(&buf, false)
	want := `host box

STATUS  CHECK       OBSERVED
PASS    isolcpus    2-5
FAIL    irqbalance  running
SKIP    cpu_power   no cpufreq

FAIL irqbalance: irqbalance is off
  why:      moves IRQs
  expected: not running
  remedy:   systemctl stop irqbalance
    - pid 7

1 pass, 0 warn, 1 fail, 1 skip
`
	if buf.String() != want {
		t.Errorf("WriteText =\n%s\nwant\n%s", buf.String(), want)
	}
	buf.Reset()
	rep.WriteText(&buf, true)
	if !strings.Contains(buf.String(), "\x1b[31mFAIL\x1b[0m") || !strings.Contains(buf.String(), "\x1b[32mPASS\x1b[0m") {
		t.Errorf("no coloured status with colour on:\n%q", buf.String())
	}
}
