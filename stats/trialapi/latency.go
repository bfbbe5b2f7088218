package trialapi

import (
	"strconv"

	"github.com/rxprobe/rxprobe/rx/counters"
)

// Latency metrics read from the snapshot (stats/sampler publishes them
// when the run records latency).
const (
	mLatStamped   = "rxprobe_latency_stamped_total"
	mLatUnstamped = "rxprobe_latency_unstamped_total"
	mLatGaps      = "rxprobe_latency_sequence_gaps_total"
	mLatReordered = "rxprobe_latency_reordered_total"
	mLatMax       = "rxprobe_latency_max_seconds"
	mLatRaw       = "rxprobe_latency_raw_seconds"
)

// LatencyResult is a trial's one-way latency over every queue (rxprobe
// run --latency with frames from rxprobe gen --latency). Its figures are
// a measurement only when Valid: generator and probe read the same TSC
// (same host, same boot), which the stop call checks against the
// generator's clock it was given. A harness must not report the figures
// of an invalid result.
type LatencyResult struct {
	Clock  string `json:"clock"` // "same-host TSC"
	Valid  bool   `json:"valid"`
	Reason string `json:"reason,omitempty"` // why not valid
	counters.LatencySummary
}

// latencyPair is one queue's latency records at the trial's two
// boundaries.
type latencyPair struct {
	port  string
	queue int
	ab    [2]counters.Latency
}

// latencyRecords collects each queue's latency record from a and b;
// nil when the run does not record latency.
func latencyRecords(a, b *Sample) []*latencyPair {
	var out []*latencyPair
	find := func(port, queue string) *latencyPair {
		q, _ := strconv.Atoi(queue)
		for _, p := range out {
			if p.port == port && p.queue == q {
				return p
			}
		}
		p := &latencyPair{port: port, queue: q}
		out = append(out, p)
		return p
	}
	val := func(s *Sample, i int) uint64 {
		if i < 0 || i >= len(s.Values) {
			return 0
		}
		return s.Values[i]
	}
	for i := range b.Schema.Series {
		se := &b.Schema.Series[i]
		var field func(l *counters.Latency) *uint64
		switch se.Metric {
		case mLatStamped:
			field = func(l *counters.Latency) *uint64 { return &l.Stamped }
		case mLatUnstamped:
			field = func(l *counters.Latency) *uint64 { return &l.Unstamped }
		case mLatGaps:
			field = func(l *counters.Latency) *uint64 { return &l.Gaps }
		case mLatReordered:
			field = func(l *counters.Latency) *uint64 { return &l.Reordered }
		case mLatMax:
			field = func(l *counters.Latency) *uint64 { return &l.MaxNs }
		default:
			continue
		}
		p := find(label(se.Labels, "port"), label(se.Labels, "queue"))
		*field(&p.ab[0]), *field(&p.ab[1]) = val(a, se.Index), val(b, se.Index)
	}
	for i := range b.Schema.Histograms {
		h := &b.Schema.Histograms[i]
		if h.Metric != mLatRaw || len(h.Bounds)+1 != counters.LatBuckets {
			continue
		}
		p := find(label(h.Labels, "port"), label(h.Labels, "queue"))
		for k := range counters.LatBuckets {
			p.ab[0].Hist[k], p.ab[1].Hist[k] = val(a, h.First+k), val(b, h.First+k)
		}
		p.ab[0].SumNs, p.ab[1].SumNs = val(a, h.Sum), val(b, h.Sum)
	}
	return out
}

// addLatency puts each queue's latency delta into r's queues and the
// total into r.Latency, not yet judged valid (judgeLatency).
func addLatency(r *Result, a, b *Sample, queue func(port string, id int) *QueueDelta) {
	recs := latencyRecords(a, b)
	if len(recs) == 0 {
		return
	}
	var total, d counters.Latency
	for _, p := range recs {
		d.Sub(&p.ab[1], &p.ab[0])
		s := d.Summary()
		queue(p.port, p.queue).Latency = &s
		total.Add(&d)
	}
	r.Latency = &LatencyResult{Clock: counters.ClockName, LatencySummary: total.Summary(),
		Reason: "not judged: the trial was not stopped through the API"}
}

// judgeLatency sets r's latency validity: generator and probe on the
// same TSC.
func judgeLatency(r *Result, gen, probe *counters.HostClock) {
	if r == nil || r.Latency == nil {
		return
	}
	r.Latency.Valid, r.Latency.Reason = counters.SameTSC(gen, probe)
}
