package trialapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// fakeSource hands out samples of a fixed schema whose values the test
// sets; every Sample call is counted, as a request would be.
type fakeSource struct {
	sc       *snapshot.Schema
	vals     []uint64
	at       time.Time
	requests uint32
	err      error
	idx      map[string]int
}

func labels(kv ...string) []snapshot.Label {
	var ls []snapshot.Label
	for i := 0; i+1 < len(kv); i += 2 {
		ls = append(ls, snapshot.L(kv[i], kv[i+1]))
	}
	return ls
}

// newFakeSource is one port "p0" with queues 0 and 1 on CPU 3, a
// second port "p1" with one queue, the ledger of both, and the guard's
// and interrupts' series of CPU 3.
func newFakeSource() *fakeSource {
	b := snapshot.NewBuilder("fake", 77, int64(time.Second), nil)
	f := &fakeSource{at: time.Unix(1_700_000_000, 0), idx: map[string]int{}}
	add := func(key, metric string, kv ...string) {
		f.idx[key] = b.Add(metric, snapshot.Counter, 0, labels(kv...)...)
	}
	for _, pq := range [][2]string{{"p0", "0"}, {"p0", "1"}, {"p1", "0"}} {
		add("pk "+pq[0]+"/"+pq[1], mRXPackets, "port", pq[0], "queue", pq[1])
		add("by "+pq[0]+"/"+pq[1], mRXBytes, "port", pq[0], "queue", pq[1])
		f.idx["gap "+pq[0]+"/"+pq[1]], _ = b.AddHistogram(mGap, []float64{1e-6, 1e-3}, 1e-9, labels("port", pq[0], "queue", pq[1])...)
	}
	for _, p := range []string{"p0", "p1"} {
		for _, l := range []string{"port_buffer", "host_too_slow", "mempool_empty", "capture_ring", "kernel_path", "errors"} {
			add("drop "+p+" "+l, mDrops, "port", p, "layer", l)
		}
	}
	for _, k := range []string{"LOC", "TLB", "gap"} {
		add("viol "+k, mViolations, "cpu", "3", "kind", k)
	}
	for _, k := range []string{"LOC", "TLB", "RES", "41", "42", "ERR"} {
		add("irq "+k, mInterrupts, "cpu", "3", "kind", k)
	}
	f.sc = b.Schema()
	f.vals = make([]uint64, f.sc.Values)
	return f
}

func (f *fakeSource) add(key string, n uint64) { f.vals[f.idx[key]] += n }

func (f *fakeSource) Sample(context.Context) (*Sample, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.requests++
	return f.Latest()
}

func (f *fakeSource) Latest() (*Sample, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &Sample{At: f.at, Served: f.requests, Samples: uint64(f.requests) + 10, Schema: f.sc, Values: append([]uint64(nil), f.vals...)}, nil
}

type client struct {
	t     *testing.T
	srv   *httptest.Server
	token string
}

func (c *client) do(method, path string, out any) int {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		c.t.Errorf("%s %s: content type %q", method, path, ct)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

func newClient(t *testing.T, src Source, o Options) *client {
	srv := httptest.NewServer(NewHandler(src, o))
	t.Cleanup(srv.Close)
	return &client{t: t, srv: srv, token: o.Token}
}

// TestTrialDeltasAreExact: what changed between start and stop, and only
// that, comes back per port, queue, layer, CPU and kind.
func TestTrialDeltasAreExact(t *testing.T) {
	f := newFakeSource()
	c := newClient(t, f, Options{})
	// Counts before the trial: not part of it.
	f.add("pk p0/0", 1000)
	f.add("drop p0 host_too_slow", 5)
	f.add("irq LOC", 4000)
	var started Trial
	if code := c.do("POST", "/v1/trials", &started); code != http.StatusCreated {
		t.Fatalf("start: %d", code)
	}
	if started.State != "running" || started.StartRequest != 1 || !started.StartedAt.Equal(f.at) {
		t.Errorf("started %+v", started)
	}
	f.at = f.at.Add(2500 * time.Millisecond)
	f.add("pk p0/0", 300)
	f.add("by p0/0", 300*64)
	f.add("pk p0/1", 200)
	f.add("by p0/1", 200*128)
	f.add("pk p1/0", 7)
	f.add("drop p0 host_too_slow", 11)
	f.add("drop p1 port_buffer", 2)
	f.add("drop p0 capture_ring", 9)
	f.add("viol TLB", 1)
	f.add("irq LOC", 2)
	f.add("irq TLB", 3)
	f.add("irq 41", 1)
	f.add("irq 42", 2)
	f.add("irq ERR", 100) // not a kind the guard watches
	f.vals[f.idx["gap p0/0"]+1] += 6
	f.vals[f.idx["gap p0/0"]+2] += 1
	var stopped Trial
	if code := c.do("POST", "/v1/trials/"+started.ID+"/stop", &stopped); code != http.StatusOK {
		t.Fatalf("stop: %d", code)
	}
	zeroKinds := func(m map[string]uint64) map[string]uint64 {
		out := map[string]uint64{"LOC": 0, "CAL": 0, "TLB": 0, "RES": 0, "IWI": 0, "NMI": 0, "PMI": 0, "MCE": 0, "IRQ": 0}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	events := zeroKinds(map[string]uint64{"TLB": 1})
	events["gap"] = 0
	bounds := []float64{1e-6, 1e-3}
	want := &Result{
		DurationS: 2.5, RXPackets: 507, RXBytes: 300*64 + 200*128,
		Ports: []PortDelta{
			{Port: "p0", RXPackets: 500, RXBytes: 300*64 + 200*128, Queues: []QueueDelta{
				{Queue: 0, RXPackets: 300, RXBytes: 300 * 64, GapHistogram: &Histogram{bounds, []uint64{0, 6, 1}}},
				{Queue: 1, RXPackets: 200, RXBytes: 200 * 128, GapHistogram: &Histogram{bounds, []uint64{0, 0, 0}}}}},
			{Port: "p1", RXPackets: 7, Queues: []QueueDelta{{Queue: 0, RXPackets: 7, GapHistogram: &Histogram{bounds, []uint64{0, 0, 0}}}}},
		},
		Ledger: []LayerDelta{{"port_buffer", 2, false}, {"host_too_slow", 11, false}, {"mempool_empty", 0, false},
			{"capture_ring", 9, true}, {"kernel_path", 0, false}, {"errors", 0, false}},
		LostBeforeLoop:   13,
		GuardEvents:      []CPUKinds{{CPU: 3, ByKind: events}},
		GuardEventsTotal: 1,
		Interrupts:       []CPUKinds{{CPU: 3, ByKind: zeroKinds(map[string]uint64{"LOC": 2, "TLB": 3, "IRQ": 3})}},
	}
	if diff := cmp.Diff(want, stopped.Result); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if stopped.State != "stopped" || stopped.StopRequest != 2 || stopped.StoppedAt == nil || !stopped.StoppedAt.Equal(f.at) {
		t.Errorf("stopped %+v", stopped)
	}
	var again Trial
	if code := c.do("GET", "/v1/trials/"+started.ID, &again); code != http.StatusOK {
		t.Fatalf("get: %d", code)
	}
	if diff := cmp.Diff(stopped, again, cmp.AllowUnexported(Trial{})); diff != "" {
		t.Errorf("GET differs from the stop's answer (-stop +get):\n%s", diff)
	}
	if f.requests != 2 {
		t.Errorf("%d sample requests, want 2 (one per boundary; GET reads none)", f.requests)
	}
}

// TestErrors: unknown trial 404, second stop 409, no sample 503; each a
// JSON error.
func TestErrors(t *testing.T) {
	f := newFakeSource()
	c := newClient(t, f, Options{})
	var e apiError
	if code := c.do("GET", "/v1/trials/t-nope", &e); code != http.StatusNotFound || !strings.Contains(e.Error, "t-nope") {
		t.Errorf("unknown trial: %d %q", code, e.Error)
	}
	if code := c.do("POST", "/v1/trials/t-nope/stop", &e); code != http.StatusNotFound {
		t.Errorf("stop of an unknown trial: %d", code)
	}
	var tr Trial
	c.do("POST", "/v1/trials", &tr)
	if code := c.do("POST", "/v1/trials/"+tr.ID+"/stop", nil); code != http.StatusOK {
		t.Fatalf("stop: %d", code)
	}
	if code := c.do("POST", "/v1/trials/"+tr.ID+"/stop", &e); code != http.StatusConflict || !strings.Contains(e.Error, "already stopped") {
		t.Errorf("second stop: %d %q", code, e.Error)
	}
	if code := c.do("GET", "/v1/nothing", &e); code != http.StatusNotFound {
		t.Errorf("unknown endpoint: %d", code)
	}
	var h Health
	if code := c.do("GET", "/v1/health", &h); code != http.StatusOK || h.Status != "ok" || h.PID != 77 || h.Prefix != "fake" {
		t.Errorf("health: %d %+v", code, h)
	}
	f.err = errors.New("segment gone")
	if code := c.do("POST", "/v1/trials", &e); code != http.StatusServiceUnavailable || !strings.Contains(e.Error, "segment gone") {
		t.Errorf("start without a sample: %d %q", code, e.Error)
	}
	if code := c.do("GET", "/v1/health", &e); code != http.StatusServiceUnavailable {
		t.Errorf("health without a snapshot: %d", code)
	}
}

// TestToken: with a token, every endpoint wants it; a wrong or missing
// one gets 401 and reaches nothing.
func TestToken(t *testing.T) {
	f := newFakeSource()
	c := newClient(t, f, Options{Token: "s3cret"})
	var tr Trial
	if code := c.do("POST", "/v1/trials", &tr); code != http.StatusCreated {
		t.Fatalf("with the token: %d", code)
	}
	for _, tok := range []string{"", "wrong", "s3cre", "s3cret2"} {
		bad := &client{t: t, srv: c.srv, token: tok}
		var e apiError
		for _, ep := range [][2]string{{"POST", "/v1/trials"}, {"POST", "/v1/trials/" + tr.ID + "/stop"}, {"GET", "/v1/trials/" + tr.ID}, {"GET", "/v1/health"}} {
			if code := bad.do(ep[0], ep[1], &e); code != http.StatusUnauthorized || e.Error == "" {
				t.Errorf("token %q, %s %s: %d %q", tok, ep[0], ep[1], code, e.Error)
			}
		}
	}
	if f.requests != 1 {
		t.Errorf("unauthorised requests took samples: %d", f.requests)
	}
}

func TestMaxTrials(t *testing.T) {
	c := newClient(t, newFakeSource(), Options{MaxTrials: 2})
	var a, b, d Trial
	c.do("POST", "/v1/trials", &a)
	c.do("POST", "/v1/trials", &b)
	c.do("POST", "/v1/trials/"+b.ID+"/stop", nil)
	c.do("POST", "/v1/trials", &d) // b, the oldest stopped, goes
	for id, want := range map[string]int{a.ID: 200, b.ID: 404, d.ID: 200} {
		if code := c.do("GET", "/v1/trials/"+id, nil); code != want {
			t.Errorf("trial %s: %d, want %d", id, code, want)
		}
	}
}

func TestCheckListen(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	if err := os.WriteFile(tok, []byte("  abc123 \nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr      string
		public    bool
		file      string
		wantToken string
		wantErr   string
	}{
		{"127.0.0.1:9471", false, "", "", ""},
		{"[::1]:9471", false, "", "", ""},
		{"localhost:0", false, "", "", ""},
		{"127.0.0.1:9471", false, tok, "abc123", ""},
		{"0.0.0.0:9471", false, "", "", "not a loopback address"},
		{":9471", false, "", "", "not a loopback address"},
		{"10.1.2.3:9471", false, tok, "", "not a loopback address"},
		{"10.1.2.3:9471", true, "", "", "needs --trial-api-token-file"},
		{"10.1.2.3:9471", true, tok, "abc123", ""},
		{"10.1.2.3:9471", true, filepath.Join(dir, "missing"), "", "no such file"},
		{"10.1.2.3:9471", true, empty, "", "first line is empty"},
		{"127.0.0.1", false, "", "", "want HOST:PORT"},
		{"nonsense", false, "", "", "want HOST:PORT"},
	} {
		token, err := CheckListen(tc.addr, tc.public, tc.file)
		if tc.wantErr == "" {
			if err != nil || token != tc.wantToken {
				t.Errorf("%s public=%v file=%q: token %q, %v; want %q", tc.addr, tc.public, tc.file, token, err, tc.wantToken)
			}
			continue
		}
		if !errors.Is(err, ErrListen) || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s public=%v file=%q: %v; want one line with %q", tc.addr, tc.public, tc.file, err, tc.wantErr)
		}
	}
}
