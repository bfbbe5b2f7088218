package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/rxprobe/rxprobe/internal/units"
	"github.com/rxprobe/rxprobe/isolation/guard"
)

// summaryEvents is how many events the summary lists; the rest are in
// the JSON report.
const summaryEvents = 5

// WriteSummary prints the end-of-run summary: totals, a port table, a
// queue table, the steady-state heap figures, the drop ledger, the first
// guard events and every degradation.
func WriteSummary(out io.Writer, r *Report) {
	fmt.Fprintf(out, "rxprobe run: %.1f s, %d packets, %d bytes, %.3f Mpps, %d dropped\n", r.DurationS, r.RXPackets, r.RXBytes, r.RXMpps, r.RXDropped)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PORT\tDEVICE\tDRIVER\tNODE\tRX_PACKETS\tIMISSED\tIERRORS\tRX_NOMBUF\tKERNEL_DROPPED")
	for _, p := range r.Ports {
		kd := "-"
		if p.Kernel != nil {
			kd = fmt.Sprintf("%d (%s)", p.Kernel.RXDropped, p.Kernel.Iface)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", p.Name, p.Device, p.Driver, p.NUMANode, p.IPackets, p.IMissed, p.IErrors, p.RXNoMbuf, kd)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "QUEUE\tCPU\tRX_PACKETS\tMPPS\tPOLLS\tEMPTY%\tBUSY%\tMAX_GAP")
	for _, p := range r.Ports {
		for _, q := range p.Queues {
			empty := 0.0
			if q.Polls > 0 {
				empty = 100 * float64(q.EmptyPolls) / float64(q.Polls)
			}
			mpps := 0.0
			if r.DurationS > 0 {
				mpps = float64(q.RXPackets) / r.DurationS / 1e6
			}
			fmt.Fprintf(tw, "%s/%d\t%d\t%d\t%.3f\t%d\t%.1f\t%.1f\t%s\n", p.Name, q.ID, q.CPU, q.RXPackets, mpps, q.Polls, empty, 100*q.BusyFraction, units.AppendDuration(nil, q.MaxGapNs))
		}
	}
	tw.Flush()
	writeCapture(out, r)
	if l := r.Latency; l != nil {
		fmt.Fprintf(out, "latency (%s): %d stamped, p50 %s p90 %s p99 %s p99.9 %s max %s, %d gaps, %d reordered, %d unstamped\n",
			l.Clock, l.Count, units.AppendDuration(nil, l.P50Ns), units.AppendDuration(nil, l.P90Ns), units.AppendDuration(nil, l.P99Ns),
			units.AppendDuration(nil, l.P999Ns), units.AppendDuration(nil, l.MaxNs), l.Gaps, l.Reordered, l.Unstamped)
	}
	if r.SteadyState != nil {
		fmt.Fprintf(out, "go heap, steady state: %d allocations, %d bytes, %d GC cycles over %.1f s\n",
			r.SteadyState.Mallocs, r.SteadyState.HeapBytes, r.SteadyState.GCCycles, r.SteadyState.WindowS)
	}
	writeLedger(out, r.Ledger)
	writeEvents(out, r)
	for _, d := range r.Degraded {
		fmt.Fprintf(out, "degraded: %s\n", d)
	}
}

// writeLedger prints the layers that lost packets, or that none did.
func writeLedger(out io.Writer, ledger []LedgerEntry) {
	if len(ledger) == 0 {
		return
	}
	var total uint64
	for _, l := range ledger {
		total += l.Drops
	}
	if total == 0 {
		fmt.Fprintln(out, "drop ledger: no drops in any layer")
		return
	}
	fmt.Fprintln(out, "drop ledger:")
	for _, l := range ledger {
		if l.Drops > 0 {
			after := ""
			if l.AfterLoop {
				after = " (after the loop: these were received)"
			}
			fmt.Fprintf(out, "  %-14s %12d  %s%s\n", l.Layer, l.Drops, l.Why, after)
		}
	}
}

// writeEvents prints the event count by kind and the first events, or
// that the guard saw none.
func writeEvents(out io.Writer, r *Report) {
	n := len(r.Events) + r.EventsLost
	if n == 0 {
		if r.Timeline != nil {
			fmt.Fprintln(out, "jitter guard: no event")
		}
		return
	}
	fmt.Fprintf(out, "jitter guard: %d event(s)", n)
	counts := map[string]int{}
	var kinds []string
	for _, e := range r.Events {
		if counts[e.Kind] == 0 {
			kinds = append(kinds, e.Kind)
		}
		counts[e.Kind]++
	}
	for _, k := range kinds {
		fmt.Fprintf(out, ", %s %d", k, counts[k])
	}
	fmt.Fprintln(out)
	for i, e := range r.Events {
		if i == summaryEvents {
			fmt.Fprintf(out, "  ... %d more in the report\n", len(r.Events)-summaryEvents)
			break
		}
		fmt.Fprintf(out, "  %s %s\n", e.At.Format("15:04:05"), describeEvent(e))
	}
}

// describeEvent is one guard event in words.
func describeEvent(e guard.Event) string {
	var s string
	if e.Kind == "gap" {
		s = fmt.Sprintf("cpu %d: loop gap %s on port %d queue %d (threshold %s)", e.CPU,
			units.AppendDuration(nil, e.Count), e.Port, e.Queue, units.AppendDuration(nil, uint64(e.Limit)))
	} else {
		s = fmt.Sprintf("cpu %d: %d %s in 1 s, expected at most %g", e.CPU, e.Count, e.Kind, e.Limit)
		if e.IRQ != "" {
			s += " (irq " + e.IRQ + ")"
		}
	}
	if e.Detail != "" {
		d, _, _ := strings.Cut(e.Detail, "; ")
		if _, rest, ok := strings.Cut(d, " in 1.0 s, "); ok && e.Kind != "drift" {
			d = rest // "sent by ..." — the count is already said
		}
		s += " — " + d
	}
	return s
}
