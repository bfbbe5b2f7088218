package rx

import (
	"time"

	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/rx/internal/dpdk"
)

// GapBuckets is the number of loop-gap histogram buckets
// (counters.GapBuckets).
const GapBuckets = counters.GapBuckets

// Reading is every counter of the engine at one moment (see
// counters.Reading): what Engine.Read fills.
type Reading = counters.Reading

// AppendDuration appends ns in a human unit (counters.AppendDuration).
var AppendDuration = counters.AppendDuration

// Shape describes the engine's ports and queues for readers of its
// counters (the stats thread, the report). It is built once when the
// engine opens; do not modify it.
func (e *Engine) Shape() *counters.Shape { return &e.shape }

// NewReading allocates a reading shaped for the engine.
func (e *Engine) NewReading() *Reading { return counters.NewReading(&e.shape) }

// Read fills r with the current counters. It does not allocate.
func (e *Engine) Read(r *Reading) {
	r.At = time.Now()
	r.TSC = dpdk.TSC()
	for i, p := range e.Ports {
		pr := &r.Ports[i]
		pr.StatsErr = p.stats.Read(&pr.Stats)
		if err := p.xstats.Read(); err == nil {
			copy(pr.XStats, p.xstats.Values())
		}
		if e.shape.Capture {
			p.nicDrops = nicDrops(p, pr) // once per port, for its queues' ISBs
		}
	}
	for i, q := range e.Queues {
		q.rxq.Read(&r.Queues[i])
		if q.cap != nil {
			q.cap.SetNICDrops(q.Port.nicDrops)
		}
		if q.cap != nil && i < len(r.Captures) {
			q.cap.Read(&q.capc)
			copyCapture(&r.Captures[i], &q.capc)
		}
		if i < len(r.Latency) {
			q.rxq.ReadLatency(&r.Latency[i])
		}
	}
	r.Events = dpdk.ReadEvents()
}

// describe builds the engine's Shape once its ports and queues exist.
func (e *Engine) describe() {
	sh := counters.Shape{TSCHz: e.TSCHz, Latency: e.latency}
	if e.latency {
		sh.Clock = ReadHostClock(e.hostRoot, e.TSCHz)
	}
	for _, p := range e.Ports {
		sh.Ports = append(sh.Ports, counters.Port{Name: p.Cfg.Name, Device: p.Cfg.Device, Driver: p.Info.Driver,
			Iface: p.Iface, XStatNames: p.XStatNames(), RXRing: p.Cfg.RXRing, LineRateGbps: p.Cfg.LineRateGbps})
	}
	for _, q := range e.Queues {
		sh.Queues = append(sh.Queues, counters.Queue{Port: portIndex(e, q.Port), ID: q.ID, CPU: q.CPU})
	}
	e.shape = sh
}

func portIndex(e *Engine, p *Port) int {
	for i := range e.Ports {
		if e.Ports[i] == p {
			return i
		}
	}
	return -1
}
