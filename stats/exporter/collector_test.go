package exporter

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rxprobe/rxprobe/stats/shm"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

const (
	lblQ0   = `{port="p0",queue="0"}`
	lblQ1   = `{port="p0",queue="1"}`
	buildOK = `rxprobe_build_info{commit="abc1234",dpdk="DPDK 23.11.0",goversion="go1.26.8",prefix="t",version="v1.2.3"}`
)

// wantFresh is the scrape of sampleValues published 2.5 s before the
// collector's clock, with a 1 s interval.
func wantFresh() map[string]float64 {
	return map[string]float64{
		MetricUp:                           1,
		MetricAge:                          2.5,
		MetricReadErrors:                   0,
		buildOK:                            1,
		"rxprobe_rx_packets_total" + lblQ0: 1000,
		"rxprobe_rx_packets_total" + lblQ1: 7,
		"rxprobe_rx_bytes_total" + lblQ0:   64000,
		`rxprobe_loop_heartbeat_seconds{port="p0"}`: 2.5,
		// Payload buckets 5, 3, 0, 2 (+Inf) → cumulative 5, 8, 8, 10.
		`rxprobe_loop_gap_seconds_bucket{port="p0",queue="0",le="1e-06"}`:  5,
		`rxprobe_loop_gap_seconds_bucket{port="p0",queue="0",le="1e-05"}`:  8,
		`rxprobe_loop_gap_seconds_bucket{port="p0",queue="0",le="0.0001"}`: 8,
		`rxprobe_loop_gap_seconds_bucket{port="p0",queue="0",le="+Inf"}`:   10,
		"rxprobe_loop_gap_seconds_count" + lblQ0:                           10,
		"rxprobe_loop_gap_seconds_sum" + lblQ0:                             1_234_567 * 1e-9,
	}
}

func TestCollectFresh(t *testing.T) {
	hb := time.Unix(1_700_000_000, 0)
	now := hb.Add(2500 * time.Millisecond)
	f, c := newFakePair(t, time.Second, 0, &now)
	f.publish(hb, f.sampleValues())

	got, meta := scrape(t, c)
	if d := cmp.Diff(wantFresh(), got); d != "" {
		t.Errorf("scrape (-want +got):\n%s", d)
	}
	wantMeta := map[string]string{
		"rxprobe_rx_packets_total":       "counter: Packets received by the RX loop.",
		"rxprobe_rx_bytes_total":         "counter: rxprobe snapshot metric rxprobe_rx_bytes_total (no help in the schema).",
		"rxprobe_loop_heartbeat_seconds": "gauge: rxprobe snapshot metric rxprobe_loop_heartbeat_seconds (no help in the schema).",
		"rxprobe_loop_gap_seconds":       "histogram: Gaps between two polls of the RX loop.",
		MetricBuildInfo:                  "gauge: Build of the RX process that writes the snapshot, and its segment prefix; always 1.",
	}
	for name, typ := range map[string]string{MetricUp: "gauge: ", MetricAge: "gauge: ", MetricReadErrors: "counter: "} {
		if !strings.HasPrefix(meta[name], typ) || len(meta[name]) < len(typ)+20 {
			t.Errorf("%s: %q, want %s with a help text", name, meta[name], typ)
		}
		delete(meta, name)
	}
	if d := cmp.Diff(wantMeta, meta); d != "" {
		t.Errorf("types and help (-want +got):\n%s", d)
	}
	if st := c.Status(); !st.Up || st.Err != nil || st.Header.PID == 0 || st.Header.Samples != 1 {
		t.Errorf("Status = %+v, want up with one sample", st)
	}
}

// TestCollectFollowsWriter proves values are read at each scrape and the
// schema is decoded once, not per scrape.
func TestCollectFollowsWriter(t *testing.T) {
	hb := time.Unix(1_700_000_000, 0)
	now := hb
	f, c := newFakePair(t, time.Second, 0, &now)
	vals := f.sampleValues()
	f.publish(hb, vals)
	scrape(t, c)
	comp := c.comp
	if comp == nil {
		t.Fatal("no schema cached after a scrape")
	}
	vals[f.pk0] = 5000
	f.publish(hb.Add(time.Second), vals)
	now = hb.Add(time.Second)
	got, _ := scrape(t, c)
	if v := got["rxprobe_rx_packets_total"+lblQ0]; v != 5000 {
		t.Errorf("packets after the second sample = %v, want 5000", v)
	}
	if got[MetricAge] != 0 || got[MetricUp] != 1 {
		t.Errorf("age %v up %v, want 0 and 1", got[MetricAge], got[MetricUp])
	}
	if c.comp != comp {
		t.Error("schema decoded again although its bytes did not change")
	}
}

// TestCollectSchemaChange rewrites the schema in place: the exporter must
// notice the bytes changed and export the new schema.
func TestCollectSchemaChange(t *testing.T) {
	hb := time.Unix(1_700_000_000, 0)
	now := hb
	f, c := newFakePair(t, time.Second, 256, &now)
	f.publish(hb, f.sampleValues())
	scrape(t, c)

	b := snapshot.NewBuilder("t", 4242, int64(time.Second), map[string]string{"version": "v2"})
	i := b.Add("rxprobe_rx_missed_total", snapshot.Counter, 0, snapshot.L("port", "p0"))
	l, err := snapshot.NewLayout(b.Schema())
	if err != nil {
		t.Fatal(err)
	}
	p := f.w.Begin()
	clear(p)
	l.WriteSchema(p)
	l.Values(p)[i] = 9
	f.w.Commit(hb.UnixNano())

	got, _ := scrape(t, c)
	want := map[string]float64{
		MetricUp: 1, MetricAge: 0, MetricReadErrors: 0,
		`rxprobe_build_info{commit="unknown",dpdk="unknown",goversion="unknown",prefix="t",version="v2"}`: 1,
		`rxprobe_rx_missed_total{port="p0"}`: 9,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("scrape after the schema changed (-want +got):\n%s", d)
	}
}

func TestCollectStale(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		age      time.Duration
		up       float64
	}{
		{"1s interval, 2.9s old", time.Second, 2900 * time.Millisecond, 1},
		{"1s interval, 3s old", time.Second, 3 * time.Second, 0},
		{"10ms interval uses the 3s floor", 10 * time.Millisecond, 2 * time.Second, 1},
		{"5s interval, 14s old", 5 * time.Second, 14 * time.Second, 1},
		{"5s interval, 15s old", 5 * time.Second, 15 * time.Second, 0},
		{"1s interval, an hour old", time.Second, time.Hour, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hb := time.Unix(1_700_000_000, 0)
			now := hb.Add(tc.age)
			f, c := newFakePair(t, tc.interval, 0, &now)
			f.publish(hb, f.sampleValues())
			got, _ := scrape(t, c)
			want := wantFresh()
			want[MetricUp] = tc.up
			want[MetricAge] = tc.age.Seconds()
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("scrape (-want +got):\n%s", d)
			}
			st := c.Status()
			if stale := errors.Is(st.Err, ErrStale); stale != (tc.up == 0) || st.Up != (tc.up == 1) {
				t.Errorf("Status = %+v, want up %v", st, tc.up)
			}
		})
	}
}

func TestCollectHeartbeatInFuture(t *testing.T) {
	hb := time.Unix(1_700_000_000, 0)
	now := hb.Add(-time.Second) // the writer's clock is ahead
	f, c := newFakePair(t, time.Second, 0, &now)
	f.publish(hb, f.sampleValues())
	got, _ := scrape(t, c)
	if got[MetricAge] != 0 || got[MetricUp] != 1 {
		t.Errorf("age %v up %v, want 0 and 1", got[MetricAge], got[MetricUp])
	}
}

func TestCollectNoSnapshot(t *testing.T) {
	onlySelf := map[string]float64{MetricUp: 0, MetricReadErrors: 0}
	t.Run("missing segment", func(t *testing.T) {
		now := time.Now()
		c := newCollector(t, t.TempDir(), "absent", &now)
		got, _ := scrape(t, c)
		if d := cmp.Diff(onlySelf, got); d != "" {
			t.Errorf("scrape (-want +got):\n%s", d)
		}
		if st := c.Status(); st.Up || !errors.Is(st.Err, shm.ErrNotFound) {
			t.Errorf("Status = %+v, want shm.ErrNotFound", st)
		}
	})
	t.Run("no sample committed", func(t *testing.T) {
		dir := t.TempDir()
		w, err := shm.Create(dir, "t", 4096)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		now := time.Now()
		c := newCollector(t, dir, "t", &now)
		got, _ := scrape(t, c)
		if d := cmp.Diff(onlySelf, got); d != "" {
			t.Errorf("scrape (-want +got):\n%s", d)
		}
		if st := c.Status(); st.Up || !errors.Is(st.Err, shm.ErrNoSample) {
			t.Errorf("Status = %+v, want shm.ErrNoSample", st)
		}
	})
}

// TestCollectWriterStuck: a writer that began a sample and never
// committed it (odd sequence) is a read error, not a hang.
func TestCollectWriterStuck(t *testing.T) {
	dir := t.TempDir()
	newFakeRX(t, dir, "t", time.Second, 0) // Begin without Commit
	now := time.Now()
	c := newCollector(t, dir, "t", &now)
	got, _ := scrape(t, c)
	if d := cmp.Diff(map[string]float64{MetricUp: 0, MetricReadErrors: 1}, got); d != "" {
		t.Errorf("scrape (-want +got):\n%s", d)
	}
	if st := c.Status(); st.Up || !errors.Is(st.Err, shm.ErrBusy) {
		t.Errorf("Status = %+v, want shm.ErrBusy", st)
	}
}

// TestCollectWriterRestart: the writer exits (removing its segment), then
// a new one with another schema takes the name. The collector drops the
// old mapping and attaches to the new file.
func TestCollectWriterRestart(t *testing.T) {
	hb := time.Unix(1_700_000_000, 0)
	now := hb
	f, c := newFakePair(t, time.Second, 0, &now)
	f.publish(hb, f.sampleValues())
	if got, _ := scrape(t, c); got[MetricUp] != 1 {
		t.Fatalf("up = %v before the restart", got[MetricUp])
	}
	if err := f.w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := scrape(t, c)
	if d := cmp.Diff(map[string]float64{MetricUp: 0, MetricReadErrors: 0}, got); d != "" {
		t.Errorf("scrape with the writer gone (-want +got):\n%s", d)
	}

	b := snapshot.NewBuilder("t", 4343, int64(time.Second), testBuild)
	i := b.Add("rxprobe_rx_packets_total", snapshot.Counter, 0, snapshot.L("port", "p1"), snapshot.L("queue", "0"))
	l, err := snapshot.NewLayout(b.Schema())
	if err != nil {
		t.Fatal(err)
	}
	w, err := shm.Create(filepath.Dir(c.Path()), "t", l.PayloadSize())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	p := w.Begin()
	l.WriteSchema(p)
	l.Values(p)[i] = 11
	w.Commit(hb.UnixNano())

	got, _ = scrape(t, c)
	want := map[string]float64{
		MetricUp: 1, MetricAge: 0, MetricReadErrors: 0, buildOK: 1,
		`rxprobe_rx_packets_total{port="p1",queue="0"}`: 11,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("scrape after the restart (-want +got):\n%s", d)
	}
}

// TestCollectGarbledSchema: payloads whose schema does not decode or
// cannot be exported count a read error and give up 0, no data series,
// and an error matching ErrSchema.
func TestCollectGarbledSchema(t *testing.T) {
	// Schemas snapshot.Decode accepts but the exporter must refuse.
	unexportable := map[string]func(b *snapshot.Builder){
		"kind clash": func(b *snapshot.Builder) {
			b.Add("rxprobe_x_total", snapshot.Counter, 0)
			b.Add("rxprobe_x_total", snapshot.Gauge, 0, snapshot.L("a", "b"))
		},
		"unknown kind":   func(b *snapshot.Builder) { b.Add("rxprobe_x", snapshot.Kind("summary"), 0) },
		"invalid name":   func(b *snapshot.Builder) { b.Add("rxprobe-x", snapshot.Gauge, 0) },
		"invalid label":  func(b *snapshot.Builder) { b.Add("rxprobe_x", snapshot.Gauge, 0, snapshot.L("a-b", "c")) },
		"reserved label": func(b *snapshot.Builder) { b.Add("rxprobe_x", snapshot.Gauge, 0, snapshot.L("__name__", "c")) },
		"label twice": func(b *snapshot.Builder) {
			b.Add("rxprobe_x", snapshot.Gauge, 0, snapshot.L("a", "1"), snapshot.L("a", "2"))
		},
		"reserved name": func(b *snapshot.Builder) { b.Add(MetricUp, snapshot.Gauge, 0) },
		"duplicate series": func(b *snapshot.Builder) {
			b.Add("rxprobe_x", snapshot.Gauge, 0)
			b.Add("rxprobe_x", snapshot.Gauge, 0)
		},
		"unordered bounds": func(b *snapshot.Builder) { b.AddHistogram("rxprobe_h", []float64{2, 1}, 0) },
		"le label":         func(b *snapshot.Builder) { b.AddHistogram("rxprobe_h", []float64{1}, 0, snapshot.L("le", "1")) },
		"histogram suffix": func(b *snapshot.Builder) {
			b.Add("rxprobe_h_count", snapshot.Gauge, 0)
			b.AddHistogram("rxprobe_h", []float64{1}, 0)
		},
		"negative interval": func(b *snapshot.Builder) { b.Schema().IntervalNs = -1 },
	}
	// Raw corruptions of a valid payload.
	corrupt := map[string]func(p []byte){
		"not json":        func(p []byte) { p[4] = 'X' },
		"length too big":  func(p []byte) { binary.LittleEndian.PutUint32(p, 1<<30) },
		"length zero":     func(p []byte) { binary.LittleEndian.PutUint32(p, 0) },
		"version changed": func(p []byte) { copy(p[4:], `{"version":7`) },
	}
	check := func(t *testing.T, dir string) {
		t.Helper()
		now := time.Unix(1_700_000_000, 0)
		c := newCollector(t, dir, "t", &now)
		got, _ := scrape(t, c)
		want := map[string]float64{MetricUp: 0, MetricAge: 0, MetricReadErrors: 1}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("scrape (-want +got):\n%s", d)
		}
		if st := c.Status(); st.Up || !errors.Is(st.Err, ErrSchema) || c.ReadErrors() != 2 {
			t.Errorf("Status = %+v with %d read errors, want ErrSchema and 2", st, c.ReadErrors())
		}
	}
	for name, edit := range unexportable {
		t.Run(name, func(t *testing.T) {
			b := snapshot.NewBuilder("t", 1, int64(time.Second), nil)
			edit(b)
			l, err := snapshot.NewLayout(b.Schema())
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			w, err := shm.Create(dir, "t", l.PayloadSize())
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			l.WriteSchema(w.Begin())
			w.Commit(time.Unix(1_700_000_000, 0).UnixNano())
			check(t, dir)
		})
	}
	for name, edit := range corrupt {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			f := newFakeRX(t, dir, "t", time.Second, 0)
			edit(f.w.Begin())
			f.w.Commit(time.Unix(1_700_000_000, 0).UnixNano())
			check(t, dir)
		})
	}
}

// TestCollectBadSegment: a file with the segment's name that is not a
// segment counts as a read error.
func TestCollectBadSegment(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, shm.FilePrefix+"t"), make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := newCollector(t, dir, "t", &now)
	got, _ := scrape(t, c)
	if d := cmp.Diff(map[string]float64{MetricUp: 0, MetricReadErrors: 1}, got); d != "" {
		t.Errorf("scrape (-want +got):\n%s", d)
	}
	if st := c.Status(); !errors.Is(st.Err, shm.ErrBadMagic) {
		t.Errorf("Status = %+v, want shm.ErrBadMagic", st)
	}
}

// TestCollectStartsNoGoroutines: Collect itself starts no goroutine, so
// scrapes cannot leak any.
func TestCollectStartsNoGoroutines(t *testing.T) {
	dir := t.TempDir()
	f := newFakeRX(t, dir, "t", time.Second, 0)
	f.publish(time.Now(), f.sampleValues())
	now := time.Now()
	c := newCollector(t, dir, "t", &now)
	ch := make(chan prometheus.Metric, 64)
	before := runtime.NumGoroutine()
	for range 100 {
		c.Collect(ch)
		n := len(ch)
		for range n {
			<-ch
		}
		if n < 10 {
			t.Fatalf("Collect sent %d metrics, want the whole sample", n)
		}
	}
	if after := runtime.NumGoroutine(); after != before {
		t.Errorf("%d goroutines after 100 collects, %d before", after, before)
	}
}

func TestNewCollectorRejectsBadPrefix(t *testing.T) {
	for _, p := range []string{"", ".", "..", "a/b"} {
		if _, err := NewCollector(Options{Prefix: p}); err == nil {
			t.Errorf("NewCollector(prefix %q) succeeded", p)
		}
	}
}

func TestStaleAfter(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		0:                      3 * time.Second,
		100 * time.Millisecond: 3 * time.Second,
		time.Second:            3 * time.Second,
		2 * time.Second:        6 * time.Second,
	} {
		if got := StaleAfter(in); got != want {
			t.Errorf("StaleAfter(%v) = %v, want %v", in, got, want)
		}
	}
}
