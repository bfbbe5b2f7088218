package rx

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/rx/config"
	"github.com/rxprobe/rxprobe/rx/counters"
)

// fakeGen is a generator that has sent 100 more frames at each Read and
// is done after doneAt reads (never when 0).
type fakeGen struct {
	reads, doneAt int
	stopped       bool
	calls         []string
	closeErr      error
}

func (f *fakeGen) Read(c *GenCounters) {
	f.reads++
	c.Sent, c.TXDropped, c.AllocFailed = uint64(100*f.reads), 3, 1
	c.Done = f.doneAt > 0 && f.reads >= f.doneAt
	f.calls = append(f.calls, "read")
}

func (f *fakeGen) Stop() { f.stopped = true; f.calls = append(f.calls, "stop") }

func (f *fakeGen) PortStats() (counters.PortStats, error) {
	f.calls = append(f.calls, "portstats")
	return counters.PortStats{OPackets: 290, OErrors: 2}, nil
}

func (f *fakeGen) Close() error { f.calls = append(f.calls, "close"); return f.closeErr }

func TestRunGenStopsWhenDoneAndReports(t *testing.T) {
	f := &fakeGen{doneAt: 2, closeErr: errors.New("port busy")}
	g := config.Generator{Device: "net_null0", Size: 64, Rate: 1000, Count: 300}
	r, err := runGen(context.Background(), f, g, time.Now().Add(-time.Second), time.Microsecond, 0)
	if !errors.Is(err, f.closeErr) {
		t.Errorf("error %v, want Close's", err)
	}
	// Two polls (the second is done), then stop, a final read, port stats, close.
	want := []string{"read", "read", "stop", "read", "portstats", "close"}
	if len(f.calls) != len(want) {
		t.Fatalf("calls %v, want %v", f.calls, want)
	}
	for i := range want {
		if f.calls[i] != want[i] {
			t.Fatalf("calls %v, want %v", f.calls, want)
		}
	}
	if r.Device != "net_null0" || r.Size != 64 || r.RatePPS != 1000 || r.Count != 300 || r.Sent != 300 ||
		r.TXDropped != 3 || r.AllocFailed != 1 || r.PortOPkts != 290 || r.PortOErrors != 2 {
		t.Errorf("report %+v", r)
	}
	if r.DurationS < 1 || r.AchievedPPS <= 0 || r.AchievedPPS > 300 {
		t.Errorf("duration %v s, achieved %v pps: want >= 1 s and 300 frames over it", r.DurationS, r.AchievedPPS)
	}
}

func TestRunGenStopsOnCancel(t *testing.T) {
	f := &fakeGen{} // never done
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := runGen(ctx, f, config.Generator{}, time.Now(), time.Hour, 0)
	if err != nil || !f.stopped || r.Sent != 100 {
		t.Errorf("cancelled run: err %v, stopped %v, sent %d (want nil, true, one final read of 100)", err, f.stopped, r.Sent)
	}
}
