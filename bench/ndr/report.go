package ndr

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rxprobe/rxprobe/stats/dropclass"
)

// Output file names in --out.
const (
	ResultsFile = "results.json"
	ReportFile  = "report.md"
	IndexFile   = "index.html"
)

// WriteAll writes results.json, report.md, the SVG plots and index.html
// to dir (created if missing). Each file is written atomically.
func WriteAll(dir string, r *Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("ndr: %w", err)
	}
	if err := WriteJSON(filepath.Join(dir, ResultsFile), r); err != nil {
		return err
	}
	var md strings.Builder
	WriteMarkdown(&md, r)
	if err := writeAtomic(filepath.Join(dir, ReportFile), []byte(md.String())); err != nil {
		return err
	}
	plots := Plots(r)
	for _, p := range plots {
		if err := writeAtomic(filepath.Join(dir, p.File), p.SVG); err != nil {
			return err
		}
	}
	var idx strings.Builder
	if err := WriteIndex(&idx, r, plots); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, IndexFile), []byte(idx.String()))
}

func rateCell(r Rate) (mpps, gbps, pct string) {
	if !r.Found {
		return "not found", "–", "–"
	}
	ge := ""
	if r.AtLeast {
		ge = "≥ "
	}
	mpps = fmt.Sprintf("%s%.4f", ge, r.Mpps)
	if !r.Confirmed {
		mpps += " (unconfirmed)"
	}
	gbps = fmt.Sprintf("%s%.3f", ge, r.Gbps)
	pct = "–"
	if r.PctLine > 0 {
		pct = fmt.Sprintf("%s%.2f %%", ge, r.PctLine)
	}
	return mpps, gbps, pct
}

func dur(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}

// WriteMarkdown writes report.md: an RFC 2544-style table per frame size
// with trial counts, search time and the limiting layer, then each frame
// size's trials.
func WriteMarkdown(w io.Writer, r *Results) {
	s := r.Settings
	fmt.Fprintf(w, "# rxprobe bench ndr\n\n")
	if !r.Complete {
		fmt.Fprintf(w, "**INCOMPLETE**: %s. The figures below are what was measured until then.\n\n", orNone(r.Error))
	}
	if r.Simulated != "" {
		fmt.Fprintf(w, "**SIMULATED DUT** (`--sim %s`): not a measurement of this host.\n\n", r.Simulated)
	}
	m := r.Machine
	fmt.Fprintf(w, "| | |\n|---|---|\n")
	for _, kv := range [][2]string{{"host", m.Host}, {"CPU", m.CPUModel}, {"kernel", m.Kernel}, {"DPDK", m.DPDKVersion},
		{"NIC", m.NIC}, {"driver", m.Driver}, {"rxprobe", m.RxprobeVersion}, {"config", r.ConfigPath},
		{"started", r.StartedAt.Format(time.RFC3339)}, {"finished", r.FinishedAt.Format(time.RFC3339)}} {
		fmt.Fprintf(w, "| %s | %s |\n", kv[0], mdEsc(orNone(kv[1])))
	}
	fmt.Fprintf(w, "\nSearch `%s`; full trial %v, short trial %v; precision %.3g %%", s.Algorithm, s.TrialDuration, s.ShortDuration, 100*s.Precision)
	if s.PrecisionPPS > 0 {
		fmt.Fprintf(w, " and %.0f pps", s.PrecisionPPS)
	}
	repeats := fmt.Sprintf("repeated up to %d times", s.MaxRepeats)
	if s.MaxRepeats == NoRepeats {
		repeats = "not repeated"
	}
	fmt.Fprintf(w, "; PDR loss ≤ %.3g %%; %s; disturbed trials %s; generator tolerance %.3g %%.\n",
		100*s.PDRLoss, s.lineRate(), repeats, 100*s.GenTolerance)
	fmt.Fprintf(w, "Units: %s.\n\n", r.Units)

	fmt.Fprintf(w, "## Throughput\n\n")
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(summaryHeader, " | "), strings.Repeat("---|", len(summaryHeader)))
	for _, z := range r.Sizes {
		fmt.Fprintf(w, "| %s |\n", strings.Join(summaryRow(z), " | "))
	}
	fmt.Fprintln(w)
	for _, z := range r.Sizes {
		switch {
		case z.GeneratorLimitedPPS > 0 && z.NDR.AtLeast:
			fmt.Fprintf(w, "- %s: **generator-limited**: the generator fell short of its target (reaching %.4f Mpps in its weakest trial) and the DUT lost nothing up to the highest rate offered: the NDR is at least the figure above, never lower because of the generator.\n", z.FrameSize, z.GeneratorLimitedPPS/1e6)
		case z.GeneratorLimitedPPS > 0 && z.NDR.UpperPPS > 0:
			fmt.Fprintf(w, "- %s: the generator fell short of a target (reaching %.4f Mpps), but the DUT lost packets at %.4f Mpps: the shortfall did not limit the result.\n", z.FrameSize, z.GeneratorLimitedPPS/1e6, z.NDR.UpperPPS/1e6)
		case z.GeneratorLimitedPPS > 0:
			fmt.Fprintf(w, "- %s: the generator fell short of a target (reaching %.4f Mpps), but the DUT lost packets below it: the shortfall did not limit the result.\n", z.FrameSize, z.GeneratorLimitedPPS/1e6)
		}
		if z.NDR.Found && z.NDR.AtLeast && z.GeneratorLimitedPPS == 0 {
			fmt.Fprintf(w, "- %s: no loss up to the maximum rate tried (%.4f Mpps).\n", z.FrameSize, z.MaxRatePPS/1e6)
		}
		if !z.NDR.Found {
			fmt.Fprintf(w, "- %s: loss even at the lowest rate tried (%.4f Mpps).\n", z.FrameSize, z.MinRatePPS/1e6)
		}
		if z.LimitingLayer != "" {
			why := "loss no ledger layer explains"
			if c := classOf(z.LimitingLayer); c >= 0 {
				why = dropclass.Why[c]
			}
			fmt.Fprintf(w, "- %s: limiting layer `%s`: %s.\n", z.FrameSize, z.LimitingLayer, why)
		}
		for _, c := range z.Rejected {
			fmt.Fprintf(w, "- %s: %.4f Mpps was **not an NDR**: repeat %d of %d at full duration lost %.4f %% (%s); the search went on below it.\n",
				z.FrameSize, c.RatePPS/1e6, len(c.Trials), r.Settings.Confirm, 100*c.MaxLossRatio, strings.Join(c.Layers, ", "))
		}
		if c := z.Confirm; c != nil {
			flags := ""
			if c.GeneratorLimited > 0 || c.Disturbed > 0 {
				flags = fmt.Sprintf(" (%d generator-limited, %d disturbed)", c.GeneratorLimited, c.Disturbed)
			}
			switch {
			case c.Held():
				fmt.Fprintf(w, "- %s: NDR **confirmed**: %d repeats at %.4f Mpps, full duration, lost nothing%s.\n", z.FrameSize, len(c.Trials), c.RatePPS/1e6, flags)
			case c.Lossy == 0:
				fmt.Fprintf(w, "- %s: NDR **not confirmed**: stopped after %d of %d repeats at %.4f Mpps (none lost packets)%s.\n",
					z.FrameSize, len(c.Trials), c.Asked, c.RatePPS/1e6, flags)
			default:
				fmt.Fprintf(w, "- %s: NDR **not confirmed**: %d of %d repeats at %.4f Mpps lost packets (at most %.4f %%, first layers: %s)%s.\n",
					z.FrameSize, c.Lossy, len(c.Trials), c.RatePPS/1e6, 100*c.MaxLossRatio, strings.Join(c.Layers, ", "), flags)
			}
		}
		if z.Error != "" {
			fmt.Fprintf(w, "- %s: stopped: %s\n", z.FrameSize, z.Error)
		}
	}
	writeLatency(w, r)
	for _, z := range r.Sizes {
		fmt.Fprintf(w, "\n## Trials: %s\n\n", z.FrameSize)
		fmt.Fprintf(w, "| # | phase | target Mpps | achieved Mpps | sent | received | loss %% | ledger | unaccounted | guard (irq/ipi/gap) | p99 µs | flags |\n")
		fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for i := range r.Trials {
			t := &r.Trials[i]
			if t.FrameSize.Name != z.FrameSize.Name {
				continue
			}
			p99 := "–"
			if t.Latency != nil && t.Latency.Valid {
				p99 = fmt.Sprintf("%.1f", float64(t.Latency.P99Ns)/1e3)
			}
			fmt.Fprintf(w, "| %d | %s %v | %.4f | %.4f | %d | %d | %.4f | %s | %d | %d/%d/%d | %s | %s |\n", t.Index+1, t.Phase, t.Duration,
				t.RatePPS/1e6, t.AchievedPPS/1e6, t.Sent, t.Received, 100*t.LossRatio, ledgerCell(t), t.Unaccounted,
				t.Guard.Interrupts, t.Guard.IPIs, t.Guard.Gaps, p99, flagsCell(t))
		}
	}
}

// summaryHeader names the columns of summaryRow.
var summaryHeader = []string{"frame", "NDR Mpps", "NDR Gbit/s", "NDR % line", "PDR Mpps", "PDR Gbit/s", "PDR % line",
	"limiting layer", "trials (short/full)", "disturbed (repeats)", "trial time", "search time"}

// summaryRow is one frame size's line of the throughput table.
func summaryRow(z SizeResult) []string {
	nm, ng, np := rateCell(z.NDR)
	pm, pg, pp := rateCell(z.PDR)
	layer := z.LimitingLayer
	if layer == "" {
		layer = "none (no loss seen)"
	}
	name := z.FrameSize.String()
	switch {
	case z.GeneratorLimitedPPS > 0 && z.NDR.AtLeast:
		name += " (generator-limited)"
	case z.GeneratorLimitedPPS > 0:
		name += fmt.Sprintf(" (generator short at %.4f Mpps)", z.GeneratorLimitedPPS/1e6)
	}
	if !z.Complete {
		name += " (incomplete)"
	}
	trials := fmt.Sprintf("%d (%d/%d)", z.Trials, z.ShortTrials, z.FullTrials)
	if z.ConfirmTrials > 0 {
		trials += fmt.Sprintf(" + %d repeats", z.ConfirmTrials)
	}
	return []string{name, nm, ng, np, pm, pg, pp, layer, trials,
		fmt.Sprintf("%d (%d)", z.Disturbed, z.Repeats), dur(z.TrialSeconds), dur(z.SearchSeconds)}
}

func ledgerCell(t *Trial) string {
	var parts []string
	for _, n := range dropclass.Names {
		if d := t.Ledger[n]; d > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", n, d))
		}
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, ", ")
}

func flagsCell(t *Trial) string {
	var f []string
	if t.GeneratorLimited {
		f = append(f, "generator-limited")
	}
	if t.Disturbed {
		f = append(f, "disturbed")
	}
	if t.Repeat > 0 {
		f = append(f, fmt.Sprintf("repeat %d", t.Repeat))
	}
	if !t.Decisive && !t.afterSearch() {
		f = append(f, "superseded")
	}
	return strings.Join(f, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func mdEsc(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// writeLatency prints the latency measured at fractions of the PDR, per
// frame size (nothing when no size has any). Figures that are not valid
// (another host, no clock) are named as such, never printed.
func writeLatency(w io.Writer, r *Results) {
	any := false
	for _, z := range r.Sizes {
		any = any || len(z.Latency) > 0
	}
	if !any {
		return
	}
	fmt.Fprintf(w, "\n## Latency at fractions of the PDR\n\n")
	fmt.Fprintf(w, "| frame | load | offered Mpps | loss %% | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | gaps | reordered |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|---|\n")
	us := func(ns uint64) string { return fmt.Sprintf("%.1f", float64(ns)/1e3) }
	for _, z := range r.Sizes {
		for _, p := range z.Latency {
			l := p.Latency
			if l == nil || !l.Valid {
				why := "not measured"
				if l != nil && l.Reason != "" {
					why = "not valid: " + l.Reason
				}
				fmt.Fprintf(w, "| %s | %.0f %% of PDR | %.4f | %.4f | %s | | | | | | |\n", z.FrameSize, 100*p.Load, p.RatePPS/1e6, 100*p.Lost, why)
				continue
			}
			fmt.Fprintf(w, "| %s | %.0f %% of PDR | %.4f | %.4f | %s | %s | %s | %s | %s | %d | %d |\n", z.FrameSize, 100*p.Load, p.RatePPS/1e6, 100*p.Lost,
				us(l.P50Ns), us(l.P90Ns), us(l.P99Ns), us(l.P999Ns), us(l.MaxNs), l.SeqGaps, l.Reordered)
		}
	}
}

// lineRate says what bounds the search: the line rate, or without one the
// maximum rate.
func (c Config) lineRate() string {
	if c.LineRateGbps == 0 {
		return fmt.Sprintf("no line rate, maximum %.4g Mpps", c.MaxRatePPS/1e6)
	}
	return fmt.Sprintf("line rate %g Gbit/s", c.LineRateGbps)
}
