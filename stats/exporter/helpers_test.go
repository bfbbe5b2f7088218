package exporter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/rxprobe/rxprobe/stats/shm"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// testBuild is the Schema.Build of the synthetic writer.
var testBuild = map[string]string{"version": "v1.2.3", "commit": "abc1234", "goversion": "go1.26.8", "dpdk": "DPDK 23.11.0"}

// gapBounds are the histogram bounds of the synthetic writer, in seconds.
var gapBounds = []float64{1e-6, 1e-5, 1e-4}

// fakeRX is a synthetic RX process: a segment written the way the stats
// thread writes it.
type fakeRX struct {
	w      *shm.Writer
	layout *snapshot.Layout
	vals   []uint64
	// value indexes
	pk0, pk1, bytes0, loopHB, gapFirst, gapSum int
}

// schemaFor builds the synthetic schema for prefix.
func schemaFor(prefix string, interval time.Duration) (*snapshot.Builder, *fakeRX) {
	f := &fakeRX{}
	b := snapshot.NewBuilder(prefix, 4242, int64(interval), testBuild)
	f.pk0 = b.Add("rxprobe_rx_packets_total", snapshot.Counter, 0, snapshot.L("port", "p0"), snapshot.L("queue", "0"))
	f.pk1 = b.Add("rxprobe_rx_packets_total", snapshot.Counter, 0, snapshot.L("port", "p0"), snapshot.L("queue", "1"))
	f.bytes0 = b.Add("rxprobe_rx_bytes_total", snapshot.Counter, 0, snapshot.L("port", "p0"), snapshot.L("queue", "0"))
	f.loopHB = b.Add("rxprobe_loop_heartbeat_seconds", snapshot.Gauge, 1e-9, snapshot.L("port", "p0"))
	f.gapFirst, f.gapSum = b.AddHistogram("rxprobe_loop_gap_seconds", gapBounds, 1e-9, snapshot.L("port", "p0"), snapshot.L("queue", "0"))
	// An internal histogram (the trial API's): never in a scrape, which
	// TestCollectFresh's exact comparison checks.
	b.AddHistogram("rxprobe_raw_seconds", []float64{1e-9, 2e-9}, 1e-9, snapshot.L("port", "p0"))
	b.MarkInternal("rxprobe_raw_seconds")
	b.Help("rxprobe_rx_packets_total", "Packets received by the RX loop.")
	b.Help("rxprobe_loop_gap_seconds", "Gaps between two polls of the RX loop.")
	return b, f
}

// newFakeRX creates the segment dir/rxprobe-<prefix> with room for spare
// extra payload bytes, writes the schema and returns the writer; it has
// not committed a sample yet.
func newFakeRX(t *testing.T, dir, prefix string, interval time.Duration, spare int) *fakeRX {
	t.Helper()
	b, f := schemaFor(prefix, interval)
	l, err := snapshot.NewLayout(b.Schema())
	if err != nil {
		t.Fatal(err)
	}
	w, err := shm.Create(dir, prefix, l.PayloadSize()+spare)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	f.w, f.layout = w, l
	p := w.Begin()
	l.WriteSchema(p)
	f.vals = l.Values(p)
	return f
}

// publish writes vals (index → value) and commits with heartbeat hb.
func (f *fakeRX) publish(hb time.Time, vals map[int]uint64) {
	f.w.Begin()
	for i, v := range vals {
		f.vals[i] = v
	}
	f.w.Commit(hb.UnixNano())
}

// sampleValues is a sample with every kind of series:
// gap buckets 5, 3, 0 and 2 (+Inf), sum 1234567 ns.
func (f *fakeRX) sampleValues() map[int]uint64 {
	return map[int]uint64{
		f.pk0: 1000, f.pk1: 7, f.bytes0: 64000, f.loopHB: 2_500_000_000,
		f.gapFirst: 5, f.gapFirst + 1: 3, f.gapFirst + 2: 0, f.gapFirst + 3: 2, f.gapSum: 1_234_567,
	}
}

// newCollector returns a collector for dir/prefix whose clock is *now.
func newCollector(t *testing.T, dir, prefix string, now *time.Time) *Collector {
	t.Helper()
	c, err := NewCollector(Options{Dir: dir, Prefix: prefix, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// newFakePair returns a fake RX writer (interval, spare payload bytes)
// and a collector on its segment, in a new temporary directory; the
// collector's clock is *now.
func newFakePair(t *testing.T, interval time.Duration, spare int, now *time.Time) (*fakeRX, *Collector) {
	t.Helper()
	dir := t.TempDir()
	return newFakeRX(t, dir, "t", interval, spare), newCollector(t, dir, "t", now)
}

// scrape gathers c through a pedantic registry and flattens the result to
// `name{label="value",...}` → value, histograms as _bucket (with +Inf),
// _sum and _count. The scrape duration, which varies, is checked and left
// out. meta maps each family name to "type: help".
func scrape(t *testing.T, c *Collector) (flat map[string]float64, meta map[string]string) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	flat, meta = map[string]float64{}, map[string]string{}
	for _, mf := range mfs {
		name := mf.GetName()
		meta[name] = strings.ToLower(mf.GetType().String()) + ": " + mf.GetHelp()
		for _, m := range mf.GetMetric() {
			switch mf.GetType() {
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					flat[key(name+"_bucket", m.GetLabel(), "le", strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))] = float64(b.GetCumulativeCount())
				}
				flat[key(name+"_bucket", m.GetLabel(), "le", "+Inf")] = float64(h.GetSampleCount())
				flat[key(name+"_sum", m.GetLabel())] = h.GetSampleSum()
				flat[key(name+"_count", m.GetLabel())] = float64(h.GetSampleCount())
			case dto.MetricType_COUNTER:
				flat[key(name, m.GetLabel())] = m.GetCounter().GetValue()
			default:
				flat[key(name, m.GetLabel())] = m.GetGauge().GetValue()
			}
		}
	}
	d, ok := flat[MetricScrapeDuration]
	if !ok || d < 0 || math.IsNaN(d) {
		t.Errorf("%s = %v (present %v), want a duration", MetricScrapeDuration, d, ok)
	}
	delete(flat, MetricScrapeDuration)
	delete(meta, MetricScrapeDuration)
	return flat, meta
}

// key formats a series name with its labels (already sorted by name, as
// client_golang returns them) and optional extra name/value pairs.
func key(name string, labels []*dto.LabelPair, extra ...string) string {
	var parts []string
	for _, l := range labels {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		parts = append(parts, fmt.Sprintf("%s=%q", extra[i], extra[i+1]))
	}
	if len(parts) == 0 {
		return name
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}
