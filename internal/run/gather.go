package run

import (
	"github.com/rxprobe/rxprobe/internal/run/report"
	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/rx/capture"
	"github.com/rxprobe/rxprobe/rx/counters"
)

// gather turns the engine's counters before the loops started (first)
// and after they stopped (last) into the report's plain values. It is the
// one place where the report reads the engine: call it after the loops
// stopped and before the engine is closed.
func gather(eng *rx.Engine, first, last *rx.Reading) report.Input {
	in := report.Input{FilePrefix: eng.Plan().Prefix, EALArgs: eng.Plan().Args, Started: eng.Started, Ended: last.At,
		TSCHz: eng.TSCHz, FirstTSC: first.TSC, LastTSC: last.TSC,
		DPDKEvents: report.DPDKEvents{LinkChanges: last.Events.LinkChanges, Removals: last.Events.Removals},
		HostClock:  eng.Shape().Clock}
	for k := 0; k < rx.GapBuckets-1; k++ {
		in.GapBoundsNs = append(in.GapBoundsNs, counters.GapBucketLimitNs(k))
	}
	qi := 0
	for i, p := range eng.Ports {
		f, l := &first.Ports[i].Stats, &last.Ports[i].Stats
		pi := report.PortInput{Name: p.Cfg.Name, Device: p.Cfg.Device, Driver: p.Info.Driver, NUMANode: p.Node,
			LinkUp: p.Link.Up, SpeedMbps: p.Link.SpeedMbps,
			First:      report.PortCounters{IPackets: f.IPackets, IMissed: f.IMissed, IErrors: f.IErrors, RXNoMbuf: f.RXNoMbuf},
			Last:       report.PortCounters{IPackets: l.IPackets, IMissed: l.IMissed, IErrors: l.IErrors, RXNoMbuf: l.RXNoMbuf},
			XStatNames: p.XStatNames(), XStats: last.Ports[i].XStats, XStatsFirst: first.Ports[i].XStats, Iface: p.Iface}
		if p.Iface != "" {
			if end := eng.ReadKernelCounters(p); end.OK && p.NetdevStart.OK {
				pi.KernelFirst = &report.KernelCounters{RXPackets: p.NetdevStart.RXPackets, RXDropped: p.NetdevStart.RXDropped}
				pi.KernelLast = &report.KernelCounters{RXPackets: end.RXPackets, RXDropped: end.RXDropped}
			}
		}
		for ; qi < len(eng.Queues) && eng.Queues[qi].Port == p; qi++ {
			q, c := eng.Queues[qi], &last.Queues[qi]
			pi.Queues = append(pi.Queues, report.QueueInput{ID: int(q.ID), CPU: q.CPU, Lcore: q.Lcore,
				Packets: c.Packets, Bytes: c.Bytes, Polls: c.Polls, EmptyPolls: c.EmptyPolls,
				BusyCycles: c.BusyCycles, MaxGapCycles: c.MaxGapCycles, GapHist: c.GapHist[:], Capture: gatherCapture(eng, qi)})
			if qi < len(last.Latency) {
				pi.Queues[len(pi.Queues)-1].Latency = &last.Latency[qi]
			}
		}
		in.Ports = append(in.Ports, pi)
	}
	return in
}

// gatherCapture is queue i's final capture counters, nil when the queue
// does not capture.
func gatherCapture(eng *rx.Engine, i int) *report.Capture {
	var c rx.CaptureCounters
	if !eng.ReadCapture(i, &c) {
		return nil
	}
	return &report.Capture{CapturedPackets: c.Encoded, CapturedBytes: c.Bytes, Truncated: c.Truncated,
		FilteredOut: c.FilteredOut, RingDropped: c.RingDropped, DiskDropped: c.DiskDropped,
		Written: c.Written, BytesWritten: c.BytesWritten, Files: c.FilesClosed, FilesDeleted: c.FilesDeleted,
		WriteErrors: c.Errors, WriterBusyNs: c.BusyNs, BlockWaitNs: c.BlockWaitNs, WriteNsMax: c.WriteNsMax,
		Direct: c.Direct, LastFile: eng.CaptureLastFile(i), Clock: eng.CaptureClock(i), NICStamped: c.NICStamped,
		Expired: c.Expired, Triggers: c.Triggers, TriggersCoalesced: c.TriggersCoalesced, Events: captureEvents(eng.CaptureEvents(i))}
}

// captureEvents turns the writer's trigger events into the report's.
func captureEvents(evs []rx.CaptureEvent) []report.CaptureEvent {
	var out []report.CaptureEvent
	for _, e := range evs {
		out = append(out, report.CaptureEvent{At: e.At, Reason: capture.Trigger(e.Reason).String(), File: e.File})
	}
	return out
}
