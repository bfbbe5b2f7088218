package rx

import (
	"context"
	"errors"
	"strings"
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

// fakeTrialGen is fakeGen that can be relaunched; its port counters grow
// by 1000 frames per PortStats call.
type fakeTrialGen struct {
	fakeGen
	rate  float64
	count uint64
	ports uint64
}

func (f *fakeTrialGen) relaunch(rate float64, count uint64, _ bool) error {
	f.rate, f.count, f.reads = rate, count, 0
	f.calls = append(f.calls, "relaunch")
	return nil
}

func (f *fakeTrialGen) PortStats() (counters.PortStats, error) {
	f.ports += 1000
	f.calls = append(f.calls, "portstats")
	return counters.PortStats{OPackets: f.ports}, nil
}

// TestRunTrialRelaunchesAndReportsDeltas: a trial relaunches the loop
// with its rate and count, waits for done, stops, and reports this
// trial's figures (the port's as a delta), and never closes the port.
func TestRunTrialRelaunchesAndReportsDeltas(t *testing.T) {
	f := &fakeTrialGen{fakeGen: fakeGen{doneAt: 3}}
	g := config.Generator{Device: "net_af_packet0", Size: 64}
	r, err := runTrial(context.Background(), f, g, TrialSpec{RatePPS: 5000, Count: 300}, time.Microsecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"portstats", "relaunch", "read", "read", "read", "stop", "read", "portstats"}
	if strings.Join(f.calls, " ") != strings.Join(want, " ") {
		t.Fatalf("calls %v, want %v", f.calls, want)
	}
	if f.rate != 5000 || f.count != 300 {
		t.Errorf("relaunched at %v pps, count %d", f.rate, f.count)
	}
	if r.Sent != 400 || r.PortOPkts != 1000 || r.RatePPS != 5000 || r.Count != 300 || r.Size != 64 {
		t.Errorf("report %+v: want sent 400 (the last read), port delta 1000", r)
	}
	if _, err := runTrial(context.Background(), f, g, TrialSpec{RatePPS: -1}, time.Microsecond, 0); err == nil {
		t.Error("a negative rate was accepted")
	}
}
