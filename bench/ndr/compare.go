package ndr

import (
	"fmt"
	"io"
	"strings"
)

// LatencyAtNDR is the latency of the decisive full trial at the NDR of
// frame size name (nil: none measured).
func (r *Results) LatencyAtNDR(name string) *Latency {
	for _, z := range r.Sizes {
		if z.FrameSize.Name != name || !z.NDR.Found {
			continue
		}
		for i := range r.Trials {
			t := &r.Trials[i]
			if t.FrameSize.Name == name && t.Decisive && t.Phase == PhaseFull && t.EffectiveRate() == z.NDR.PPS && t.Latency != nil && t.Latency.Valid {
				return t.Latency
			}
		}
	}
	return nil
}

// Compare writes the change in every figure from a to b: machine facts,
// versions, settings, the config, and per frame size the NDR, PDR,
// limiting layer, trial counts and the latency at the NDR.
func Compare(w io.Writer, a, b *Results) {
	str := func(name, x, y string) {
		if x == y {
			fmt.Fprintf(w, "%-22s %s (same)\n", name+":", orNone(x))
		} else {
			fmt.Fprintf(w, "%-22s %s → %s\n", name+":", orNone(x), orNone(y))
		}
	}
	num := func(name string, x, y float64, unit string) {
		d := "same"
		switch {
		case x == y:
		case x == 0:
			d = "new"
		default:
			d = fmt.Sprintf("%+.2f %%", 100*(y-x)/x)
		}
		fmt.Fprintf(w, "%-22s %.4f → %.4f %s (%s)\n", name+":", x, y, unit, d)
	}
	count := func(name string, x, y int) {
		fmt.Fprintf(w, "%-22s %d → %d (%+d)\n", name+":", x, y, y-x)
	}
	ma, mb := a.Machine, b.Machine
	str("host", ma.Host, mb.Host)
	str("CPU", ma.CPUModel, mb.CPUModel)
	str("kernel", ma.Kernel, mb.Kernel)
	str("DPDK", ma.DPDKVersion, mb.DPDKVersion)
	str("NIC", ma.NIC, mb.NIC)
	str("driver", ma.Driver, mb.Driver)
	str("rxprobe", ma.RxprobeVersion, mb.RxprobeVersion)
	str("simulated", a.Simulated, b.Simulated)
	str("complete", fmt.Sprint(a.Complete), fmt.Sprint(b.Complete))
	sa, sb := a.Settings, b.Settings
	str("search", sa.Algorithm, sb.Algorithm)
	str("trial", sa.TrialDuration.String(), sb.TrialDuration.String())
	str("short trial", sa.ShortDuration.String(), sb.ShortDuration.String())
	str("precision", fmt.Sprintf("%.3g%% %.0fpps", 100*sa.Precision, sa.PrecisionPPS), fmt.Sprintf("%.3g%% %.0fpps", 100*sb.Precision, sb.PrecisionPPS))
	str("pdr loss", fmt.Sprintf("%.3g%%", 100*sa.PDRLoss), fmt.Sprintf("%.3g%%", 100*sb.PDRLoss))
	str("line rate Gbit/s", fmt.Sprint(sa.LineRateGbps), fmt.Sprint(sb.LineRateGbps))
	str("config", a.ConfigPath, b.ConfigPath)
	if a.ConfigText == b.ConfigText {
		fmt.Fprintf(w, "%-22s same text\n", "config text:")
	} else {
		fmt.Fprintf(w, "%-22s differs in %d lines\n", "config text:", diffLines(a.ConfigText, b.ConfigText))
	}
	var names []string
	seen := map[string]bool{}
	for _, r := range []*Results{a, b} {
		for _, z := range r.Sizes {
			if !seen[z.FrameSize.Name] {
				seen[z.FrameSize.Name] = true
				names = append(names, z.FrameSize.Name)
			}
		}
	}
	for _, n := range names {
		za, oka := a.size(n)
		zb, okb := b.size(n)
		fmt.Fprintf(w, "\nframe %s:\n", n)
		if !oka || !okb {
			fmt.Fprintf(w, "  only in %s\n", map[bool]string{true: "A", false: "B"}[oka])
			continue
		}
		num("  NDR", za.NDR.Mpps, zb.NDR.Mpps, "Mpps")
		num("  NDR", za.NDR.Gbps, zb.NDR.Gbps, "Gbit/s")
		num("  NDR % line", za.NDR.PctLine, zb.NDR.PctLine, "%")
		num("  PDR", za.PDR.Mpps, zb.PDR.Mpps, "Mpps")
		num("  PDR", za.PDR.Gbps, zb.PDR.Gbps, "Gbit/s")
		num("  PDR % line", za.PDR.PctLine, zb.PDR.PctLine, "%")
		str("  NDR at least", fmt.Sprint(za.NDR.AtLeast), fmt.Sprint(zb.NDR.AtLeast))
		num("  generator-limited", za.GeneratorLimitedPPS/1e6, zb.GeneratorLimitedPPS/1e6, "Mpps")
		str("  limiting layer", layerName(za.LimitingLayer), layerName(zb.LimitingLayer))
		count("  trials", za.Trials, zb.Trials)
		count("  full trials", za.FullTrials, zb.FullTrials)
		count("  disturbed", za.Disturbed, zb.Disturbed)
		num("  trial time", za.TrialSeconds, zb.TrialSeconds, "s")
		str("  NDR repeats", za.Confirm.String(), zb.Confirm.String())
		count("  rejected NDRs", len(za.Rejected), len(zb.Rejected))
		la, lb := a.LatencyAtNDR(n), b.LatencyAtNDR(n)
		if la == nil && lb == nil {
			fmt.Fprintf(w, "  latency at NDR:      not measured\n")
			continue
		}
		if la == nil {
			la = &Latency{}
		}
		if lb == nil {
			lb = &Latency{}
		}
		num("  latency p50", float64(la.P50Ns)/1e3, float64(lb.P50Ns)/1e3, "µs")
		num("  latency p90", float64(la.P90Ns)/1e3, float64(lb.P90Ns)/1e3, "µs")
		num("  latency p99", float64(la.P99Ns)/1e3, float64(lb.P99Ns)/1e3, "µs")
		num("  latency p99.9", float64(la.P999Ns)/1e3, float64(lb.P999Ns)/1e3, "µs")
		num("  latency max", float64(la.MaxNs)/1e3, float64(lb.MaxNs)/1e3, "µs")
	}
}

func (r *Results) size(name string) (SizeResult, bool) {
	for _, z := range r.Sizes {
		if z.FrameSize.Name == name {
			return z, true
		}
	}
	return SizeResult{}, false
}

// diffLines counts lines of x and y that differ position by position.
func diffLines(x, y string) int {
	a, b := strings.Split(x, "\n"), strings.Split(y, "\n")
	n := 0
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			n++
		}
	}
	return n
}

func layerName(l string) string {
	if l == "" {
		return "none"
	}
	return l
}
