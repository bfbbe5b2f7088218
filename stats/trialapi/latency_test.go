package trialapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// newLatencySource is one queue p0/0 with its latency series as the
// sampler publishes them.
func newLatencySource() *fakeSource {
	b := snapshot.NewBuilder("fake", 77, int64(time.Second), nil)
	f := &fakeSource{at: time.Unix(1_700_000_000, 0), idx: map[string]int{}}
	ls := labels("port", "p0", "queue", "0")
	f.idx["pk"] = b.Add(mRXPackets, snapshot.Counter, 0, ls...)
	for _, m := range []string{mLatStamped, mLatUnstamped, mLatGaps, mLatReordered} {
		f.idx[m] = b.Add(m, snapshot.Counter, 0, ls...)
	}
	f.idx[mLatMax] = b.Add(mLatMax, snapshot.Gauge, 1e-9, ls...)
	raw := make([]float64, counters.LatBuckets-1)
	for i := range raw {
		_, hi := counters.LatBucketRange(i)
		raw[i] = float64(hi) * 1e-9
	}
	f.idx[mLatRaw], f.idx["sum"] = b.AddHistogram(mLatRaw, raw, 1e-9, ls...)
	b.MarkInternal(mLatRaw)
	f.sc = b.Schema()
	f.vals = make([]uint64, f.sc.Values)
	return f
}

func (f *fakeSource) record(ns uint64) {
	f.vals[f.idx[mLatRaw]+counters.LatBucket(ns)]++
	f.vals[f.idx[mLatStamped]]++
	f.vals[f.idx["sum"]] += ns
	f.vals[f.idx[mLatMax]] = max(f.vals[f.idx[mLatMax]], ns)
}

// stopWith stops trial id with body (nil: none) and decodes the answer.
func stopWith(t *testing.T, c *client, id string, body any) (int, Trial) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	resp, err := http.Post(c.srv.URL+"/v1/trials/"+id+"/stop", "application/json", rd)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr Trial
	_ = json.NewDecoder(resp.Body).Decode(&tr)
	return resp.StatusCode, tr
}

// TestTrialLatency: a trial's latency is the change of the histogram
// and counts between its boundaries (percentiles within 3 %), per queue
// and in total; it is valid only with a generator clock from the probe's
// host and boot, and says why otherwise.
func TestTrialLatency(t *testing.T) {
	probe := counters.HostClock{MachineID: "m1", BootID: "b1"}
	f := newLatencySource()
	c := newClient(t, f, Options{ProbeClock: probe})
	f.record(900_000_000) // before the trial: neither its max nor its count
	for _, tc := range []struct {
		name  string
		body  any
		valid bool
		why   string
	}{
		{"same host", StopRequest{GeneratorClock: &counters.HostClock{MachineID: "m1", BootID: "b1", TSCHz: 3e9}}, true, ""},
		{"no clock", nil, false, "unknown"},
		{"other host", StopRequest{GeneratorClock: &counters.HostClock{MachineID: "m2", BootID: "b1"}}, false, "another host"},
		{"other boot", StopRequest{GeneratorClock: &counters.HostClock{MachineID: "m1", BootID: "b2"}}, false, "another boot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var started Trial
			if code := c.do("POST", "/v1/trials", &started); code != http.StatusCreated {
				t.Fatalf("start: %d", code)
			}
			for i := uint64(1); i <= 1000; i++ {
				f.record(10_000 + i*10) // 10.01 .. 20 us
			}
			f.vals[f.idx[mLatGaps]] += 3
			f.vals[f.idx[mLatReordered]] += 1
			code, tr := stopWith(t, c, started.ID, tc.body)
			if code != http.StatusOK || tr.Result == nil || tr.Result.Latency == nil {
				t.Fatalf("stop: %d %+v", code, tr.Result)
			}
			l := tr.Result.Latency
			if l.Clock != "same-host TSC" || l.Valid != tc.valid || !strings.Contains(l.Reason, tc.why) {
				t.Errorf("clock %q valid %v reason %q; want valid %v, reason with %q", l.Clock, l.Valid, l.Reason, tc.valid, tc.why)
			}
			if l.Count != 1000 || l.Gaps != 3 || l.Reordered != 1 {
				t.Errorf("count %d gaps %d reordered %d, want 1000 3 1", l.Count, l.Gaps, l.Reordered)
			}
			for _, p := range []struct {
				got, want uint64
			}{{l.P50Ns, 15_000}, {l.P90Ns, 19_000}, {l.P99Ns, 19_900}, {l.P999Ns, 19_990}, {l.MaxNs, 20_000}} {
				if absDiff(p.got, p.want)*100 > p.want*3 {
					t.Errorf("percentile %d ns, want %d (3 %%)", p.got, p.want)
				}
			}
			q := tr.Result.Ports[0].Queues[0].Latency
			if q == nil || q.Count != 1000 || q.P50Ns != l.P50Ns {
				t.Errorf("queue latency %+v, want the total's", q)
			}
		})
	}
	var started Trial
	c.do("POST", "/v1/trials", &started)
	if code, _ := stopWith(t, c, started.ID, map[string]any{"generator": 1}); code != http.StatusBadRequest {
		t.Errorf("stop with an unknown field: %d, want 400", code)
	}
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}
