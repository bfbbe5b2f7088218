package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/bench/ndr"
	"github.com/rxprobe/rxprobe/stats/trialapi"
)

// fakeDUT is a trial API whose RX counter the test moves: every stop
// answers the packets "received" since the start.
type fakeDUT struct {
	mu      sync.Mutex
	rx      uint64
	starts  map[string]uint64
	log     []string
	pending []uint64 // packets arriving on the next stops (the rings draining)
	result  trialapi.Result
}

func (d *fakeDUT) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case r.URL.Path == "/v1/trials":
		id := fmt.Sprint(len(d.starts))
		d.starts[id] = d.rx
		d.log = append(d.log, "start")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(trialapi.Trial{ID: id, State: "running"})
	case strings.HasSuffix(r.URL.Path, "/stop"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/trials/"), "/stop")
		if len(d.pending) > 0 {
			d.rx += d.pending[0]
			d.pending = d.pending[1:]
		}
		res := d.result
		res.RXPackets = d.rx - d.starts[id]
		d.log = append(d.log, fmt.Sprintf("stop %d", res.RXPackets))
		_ = json.NewEncoder(w).Encode(trialapi.Trial{ID: id, State: "stopped", Result: &res})
	default:
		http.NotFound(w, r)
	}
}

// fakeGen "sends" by moving the DUT's counter: received of every count,
// the rest arriving over the next stops.
type fakeGen struct {
	dut      *fakeDUT
	received uint64
	late     []uint64
	prepared []string
}

func (g *fakeGen) Prepare(_ context.Context, size ndr.FrameSize) error {
	g.prepared = append(g.prepared, size.Name)
	return nil
}

func (g *fakeGen) Send(_ context.Context, s Send) (Sent, error) {
	g.dut.mu.Lock()
	defer g.dut.mu.Unlock()
	g.dut.log = append(g.dut.log, fmt.Sprintf("send %d", s.Count))
	g.dut.rx += g.received
	g.dut.pending = g.late
	return Sent{Packets: s.Count, Elapsed: s.Duration}, nil
}

func (g *fakeGen) Close() error { return nil }

func newFake(t *testing.T, res trialapi.Result) (*fakeDUT, *API) {
	dut := &fakeDUT{starts: map[string]uint64{}, result: res}
	srv := httptest.NewServer(dut)
	t.Cleanup(srv.Close)
	return dut, NewAPI(strings.TrimPrefix(srv.URL, "http://"))
}

func TestRunnerTrialOrderAndDrain(t *testing.T) {
	dut, api := newFake(t, trialapi.Result{
		Ports:          []trialapi.PortDelta{{Port: "veth", Queues: []trialapi.QueueDelta{{Queue: 0, RXPackets: 900}}}},
		Ledger:         []trialapi.LayerDelta{{Layer: "host_too_slow", Drops: 100}, {Layer: "capture_ring", Drops: 7, AfterLoop: true}},
		LostBeforeLoop: 100,
		GuardEvents:    []trialapi.CPUKinds{{CPU: 1, ByKind: map[string]uint64{"LOC": 2, "TLB": 1, "gap": 3}}},
	})
	gen := &fakeGen{dut: dut, received: 800, late: []uint64{60, 40}}
	r := &Runner{API: api, Gen: gen, Drain: time.Millisecond, MaxDrain: time.Minute}
	tr, err := r.Trial(context.Background(), ndr.TrialSpec{FrameSize: ndr.Fixed(64), RatePPS: 1000, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Before the trial: one look (nothing moving). The trial: start, send,
	// looks until one sees nothing (60, 40, 0), stop with everything.
	want := "start stop 0 start send 1000 start stop 60 start stop 40 start stop 0 stop 900"
	if got := strings.Join(dut.log, " "); got != want {
		t.Errorf("calls %q\nwant  %q", got, want)
	}
	if tr.Sent != 1000 || tr.Received != 900 || tr.Offered != 1000 || tr.Ledger["host_too_slow"] != 100 || tr.Ledger["capture_ring"] != 7 {
		t.Errorf("trial %+v", tr)
	}
	if tr.Guard != (ndr.GuardEvents{Interrupts: 2, IPIs: 1, Gaps: 3}) || len(tr.Queues) != 1 || tr.Queues[0].Packets != 900 {
		t.Errorf("guard %+v, queues %+v", tr.Guard, tr.Queues)
	}
	if err := tr.Finish(0.005); err != nil || tr.Unaccounted != 0 || !tr.Disturbed || tr.GeneratorLimited {
		t.Errorf("finish: %v, unaccounted %d, disturbed %v, generator-limited %v", err, tr.Unaccounted, tr.Disturbed, tr.GeneratorLimited)
	}
	if len(gen.prepared) != 1 || gen.prepared[0] != "64" {
		t.Errorf("prepared %v", gen.prepared)
	}
}

func TestRunnerRejectsInconsistentAPI(t *testing.T) {
	dut, api := newFake(t, trialapi.Result{Ledger: []trialapi.LayerDelta{{Layer: "host_too_slow", Drops: 5}}, LostBeforeLoop: 9})
	r := &Runner{API: api, Gen: &fakeGen{dut: dut, received: 10}, MaxDrain: time.Second}
	if _, err := r.Trial(context.Background(), ndr.TrialSpec{FrameSize: ndr.Fixed(64), RatePPS: 10, Duration: time.Second}); !errors.Is(err, ErrAPI) {
		t.Errorf("err %v: want ErrAPI", err)
	}
	dut2, api2 := newFake(t, trialapi.Result{GuardEvents: []trialapi.CPUKinds{{CPU: 1, ByKind: map[string]uint64{"XYZ": 1}}}})
	r = &Runner{API: api2, Gen: &fakeGen{dut: dut2, received: 10}, MaxDrain: time.Second}
	if _, err := r.Trial(context.Background(), ndr.TrialSpec{FrameSize: ndr.Fixed(64), RatePPS: 10, Duration: time.Second}); !errors.Is(err, ndr.ErrUnknownKind) {
		t.Errorf("err %v: want ErrUnknownKind", err)
	}
}

func TestCheckStartAndExpand(t *testing.T) {
	for cmd, want := range map[string]string{
		"":                           "external.start is empty",
		"send --pps {pps}":           "unknown placeholder {pps}",
		"send --size {size}":         "neither {rate} nor {count}",
		"send {rate} {count} {bogus": "",
	} {
		err := CheckStart(cmd)
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", cmd, err)
			}
			continue
		}
		if !errors.Is(err, ErrScenario) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want one line with %q", cmd, err, want)
		}
	}
	e := &External{Start: "{rxprobe} gen -c {gen_config} --rate {rate} --count {count} --duration {duration} --size {size}",
		Vars: map[string]string{"rxprobe": "/bin/rxprobe", "gen_config": "g.yaml"}}
	got := e.Expand(Send{Size: ndr.Fixed(1518), RatePPS: 1234.4, Count: 3703, Duration: 3 * time.Second})
	if want := "/bin/rxprobe gen -c g.yaml --rate 1234 --count 3703 --duration 3s --size 1518"; got != want {
		t.Errorf("expand %q, want %q", got, want)
	}
}

func TestExternalSendReadsTheLastLine(t *testing.T) {
	e := &External{Start: "echo starting {rate}; echo {count}"}
	s, err := e.Send(context.Background(), Send{Size: ndr.Fixed(64), RatePPS: 10, Count: 42, Duration: time.Millisecond})
	if err != nil || s.Packets != 42 {
		t.Errorf("sent %+v, %v: want 42", s, err)
	}
	e.Start = "echo sent {count} packets"
	if _, err := e.Send(context.Background(), Send{Count: 1, Duration: time.Millisecond}); !errors.Is(err, ErrGenerator) {
		t.Errorf("a last line without a bare count: %v, want ErrGenerator", err)
	}
}

func TestWithIface(t *testing.T) {
	got, err := withIface("iface=old,start_queue=0", "new0")
	if err != nil || got != "iface=new0,start_queue=0" {
		t.Errorf("%q, %v", got, err)
	}
	if _, err := withIface("start_queue=0", "x"); !errors.Is(err, errNoIface) {
		t.Errorf("no iface: %v", err)
	}
}

func TestLoadScenarioStrictAndDefaults(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(p, []byte("config: dut.yaml\ntrial: 3s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadScenario(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Config != filepath.Join(dir, "dut.yaml") || s.Trial != 3*time.Second || s.Setup != SetupCabled || s.Generator != GenRxprobe || s.Drain != DefaultDrain {
		t.Errorf("scenario %+v", s)
	}
	if err := os.WriteFile(p, []byte("config: dut.yaml\ntrail: 3s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadScenario(p); !errors.Is(err, ErrScenario) || !strings.Contains(err.Error(), "trail") || strings.Contains(err.Error(), "\n") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestServeGenDiesMidBench(t *testing.T) {
	// A generator that answers its warm-up trial, then exits.
	exe := filepath.Join(t.TempDir(), "gen.sh")
	script := "#!/bin/sh\nread line\necho '{\"sent\": 1, \"duration_s\": 0.001}'\nread line\nexit 3\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	g := &ServeGen{Exe: exe, Config: "x.yaml"}
	ctx := context.Background()
	if err := g.Prepare(ctx, ndr.Fixed(64)); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Send(ctx, Send{Size: ndr.Fixed(64), RatePPS: 10, Count: 10, Duration: time.Second}); !errors.Is(err, ErrGenerator) {
		t.Errorf("send to a dead generator: %v, want ErrGenerator", err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("close: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close hangs on a generator that already exited")
	}
	if err := g.Prepare(ctx, ndr.IMIX); !errors.Is(err, ErrMixedSizes) {
		t.Errorf("imix: %v, want ErrMixedSizes", err)
	}
}
