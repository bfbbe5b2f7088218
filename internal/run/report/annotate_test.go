package report

import (
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/isolation/guard"
)

// The guard and the recorder tick once a second each, independently: an
// event at T may overlap a recorder window ending anywhere in (T-500ms,
// T+500ms]. Only the first such window of the event's CPU is used, only
// its sentences about the event's kind, three at most.
func TestAnnotateOverlappingWindows(t *testing.T) {
	launched := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	T := launched.Add(10 * time.Second)
	ms := func(d int) time.Time { return T.Add(time.Duration(d) * time.Millisecond) }
	attrib := []Attribution{
		{At: ms(-500), CPU: 1, Detail: "TLB shootdown: at the edge, outside"},
		{At: ms(-300), CPU: 2, Detail: "TLB shootdown: another CPU"},
		{At: ms(-300), CPU: 1, Detail: "reschedule: first window, other kind"},
		{At: ms(-300), CPU: 1, Detail: "TLB shootdown: first window 1"},
		{At: ms(-300), CPU: 1, Detail: "function call: first window 2"},
		{At: ms(-300), CPU: 1, Detail: "TLB shootdown: first window 3"},
		{At: ms(-300), CPU: 1, Detail: "TLB shootdown: first window 4, one too many"},
		{At: ms(700), CPU: 1, Detail: "TLB shootdown: second window"},
	}
	events := []guard.Event{
		{At: T, Kind: "CAL", CPU: 1},
		{At: T, Kind: "TLB", CPU: 1},
		{At: T, Kind: "RES", CPU: 1},
		{At: T, Kind: "LOC", CPU: 1, Detail: "kept"},
		{At: T, Kind: "TLB", CPU: 3},
		{At: ms(600), Kind: "TLB", CPU: 1},
		{At: ms(1100), Kind: "TLB", CPU: 1},
	}
	annotate(events, attrib, launched)
	for i, want := range []string{
		"TLB shootdown: first window 1; function call: first window 2; TLB shootdown: first window 3",
		"TLB shootdown: first window 1; TLB shootdown: first window 3; TLB shootdown: first window 4, one too many",
		"reschedule: first window, other kind",
		"kept",
		"",
		"TLB shootdown: second window",
		"TLB shootdown: second window",
	} {
		if events[i].Detail != want {
			t.Errorf("event %d (%s at %v): detail %q, want %q", i, events[i].Kind, events[i].At.Sub(T), events[i].Detail, want)
		}
	}
}

// Windows that began before the loops were launched describe start-up
// (waking the worker lcores is an IPI to each RX CPU) and are not used.
func TestAnnotateSkipsStartUpWindows(t *testing.T) {
	launched := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	events := []guard.Event{{At: launched.Add(500 * time.Millisecond), Kind: "RES", CPU: 1}}
	annotate(events, []Attribution{{At: launched.Add(800 * time.Millisecond), CPU: 1, Detail: "reschedule: waking the lcores"}}, launched)
	if events[0].Detail != "" {
		t.Errorf("a start-up window was used: %q", events[0].Detail)
	}
	// Its control: the same window one second later is used.
	events[0].At = events[0].At.Add(time.Second)
	annotate(events, []Attribution{{At: launched.Add(1800 * time.Millisecond), CPU: 1, Detail: "reschedule: later"}}, launched)
	if !strings.Contains(events[0].Detail, "later") {
		t.Errorf("a window after launch was not used: %q", events[0].Detail)
	}
}
