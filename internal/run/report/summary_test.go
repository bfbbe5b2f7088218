package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/isolation/guard"
)

func TestWriteSummaryGolden(t *testing.T) {
	var b bytes.Buffer
	WriteSummary(&b, Build(fixtureInput()))
	golden(t, "summary.txt", b.Bytes())
}

func TestWriteSummaryQuietRun(t *testing.T) {
	in := fixtureInput()
	in.Guard.Ledger = [guard.NumLayers]uint64{}
	in.Guard.Events, in.Guard.EventsLost, in.Drift, in.Degraded = nil, 0, nil, nil
	var b bytes.Buffer
	WriteSummary(&b, Build(in))
	out := b.String()
	for _, want := range []string{"drop ledger: no drops in any layer\n", "jitter guard: no event\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "degraded:") {
		t.Errorf("summary of an undegraded run says degraded:\n%s", out)
	}

	// Without a stats thread there is no guard: neither line.
	in.Guard = nil
	b.Reset()
	WriteSummary(&b, Build(in))
	if out := b.String(); strings.Contains(out, "drop ledger") || strings.Contains(out, "jitter guard") {
		t.Errorf("summary of a run without guard:\n%s", out)
	}
}

func TestDescribeEvent(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		e    guard.Event
		want string
	}{
		{"gap", guard.Event{At: at, Kind: "gap", CPU: 3, Port: 0, Queue: 2, Count: 1_500_000, Limit: 6_900},
			"cpu 3: loop gap 1.5 ms on port 0 queue 2 (threshold 6.9 µs)"},
		{"device irq", guard.Event{Kind: "IRQ", CPU: 1, Count: 3, Limit: 0, IRQ: "41 virtio3-rx"},
			"cpu 1: 3 IRQ in 1 s, expected at most 0 (irq 41 virtio3-rx)"},
		{"attributed: the count is not said twice, one sentence only", guard.Event{Kind: "TLB", CPU: 1, Count: 12,
			Detail: "12 TLB shootdown in 1.0 s, sent by rxprobe thread rxp-munmap; 1 function call in 1.0 s, sent by kworker"},
			"cpu 1: 12 TLB in 1 s, expected at most 0 — sent by rxprobe thread rxp-munmap"},
		{"drift keeps its sentence", guard.Event{Kind: "drift", CPU: -1, Detail: "irqbalance started in 1.0 s, banned list empty"},
			"cpu -1: 0 drift in 1 s, expected at most 0 — irqbalance started in 1.0 s, banned list empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := describeEvent(c.e); got != c.want {
				t.Errorf("describeEvent\n got %q\nwant %q", got, c.want)
			}
		})
	}
}
