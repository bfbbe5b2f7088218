package report

import (
	"strings"
	"time"

	"github.com/rxprobe/rxprobe/isolation/guard"
)

// Attribution is one sentence of the flight recorder: who sent the
// interrupts CPU took in the second that ended At.
type Attribution struct {
	At     time.Time
	CPU    int
	Detail string
}

// attributionWants are, per interrupt kind, the recorder's phrases that
// explain it; kinds not listed are never annotated.
var attributionWants = map[string][]string{
	"TLB": {"TLB shootdown"},
	"CAL": {"function call", "TLB shootdown"},
	"RES": {"reschedule"},
}

// annotate gives each interrupt event of the guard the flight recorder's
// sentences about the same CPU, from the recorder's window that overlaps
// the event's second most (the two tick once a second, independently:
// the first window ending within ±500 ms of the event), and only the
// sentences about that kind of interrupt, three at most. Windows that
// began before the loops were launched describe start-up (waking the
// worker lcores is itself an IPI to each RX CPU) and are not used.
func annotate(events []guard.Event, attrib []Attribution, launched time.Time) {
	for i := range events {
		e := &events[i]
		want := attributionWants[e.Kind]
		if want == nil {
			continue
		}
		var window time.Time
		var parts []string
		for _, a := range attrib {
			d := a.At.Sub(e.At)
			if a.CPU != e.CPU || d <= -500*time.Millisecond || d > 500*time.Millisecond || a.At.Add(-time.Second).Before(launched) {
				continue
			}
			if window.IsZero() {
				window = a.At
			}
			if !a.At.Equal(window) {
				break
			}
			for _, k := range want {
				if strings.Contains(a.Detail, k) && len(parts) < 3 {
					parts = append(parts, a.Detail)
					break
				}
			}
		}
		if len(parts) > 0 {
			e.Detail = strings.Join(parts, "; ")
		}
	}
}
