package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// scenarioSummary is one scenario's figures over its rounds.
type scenarioSummary struct {
	Name                             string
	Runs                             int
	TLB, CAL, RES, LOC, IRQ          float64 // medians, per minute
	TLBMin, TLBMax                   float64
	RXTLB                            float64 // sent by the RX process: median, per minute; -1 without trace
	RXTLBTotal                       uint64  // over all windows
	Mpps                             float64 // median
	MaxGap                           time.Duration
	Above                            uint64 // all rounds
	Mallocs                          uint64 // median
	TLBExcess, RXTLBExcess, Noise    float64
	Effect                           bool // stdio/inprocess: above noise
	HaveTrace                        bool
	WindowSeconds                    float64 // median
	ScrapesOK, ScrapesTotal          int
	BaselineTLBCount, BaselineWindow float64
	// PerRound is the TLB rate over the same round's baseline, per round
	// (per minute).
	PerRound []float64
}

type summary struct {
	Scenarios []scenarioSummary
	Verdict   string
	// Attributed is the tracefs line, empty without -trace.
	Attributed string
	Checks     []string
	Pass       bool
	Failure    string
}

// summarize takes medians per scenario and compares each with baseline.
// The noise floor of a comparison is the largest of 1/min, the spread of
// the baseline's TLB rate over its rounds, and twice the square root of
// the baseline's median TLB count per window (a Poisson-like error),
// expressed per minute.
func summarize(s settings, rs []result) summary {
	var sum summary
	for _, sc := range s.Scenarios {
		var ss scenarioSummary
		ss.Name = sc.Name
		var tlb, cal, res, loc, all, rxt, mpps, mallocs, win, counts []float64
		for _, r := range rs {
			if r.Scenario != sc.Name {
				continue
			}
			ss.Runs++
			tlb, cal, res = append(tlb, r.perMin("TLB")), append(cal, r.perMin("CAL")), append(res, r.perMin("RES"))
			loc, all = append(loc, r.perMin("LOC")), append(all, r.allPerMin())
			mpps, mallocs = append(mpps, r.Fig.Mpps), append(mallocs, float64(r.Fig.Mallocs))
			win, counts = append(win, r.Window.Seconds()), append(counts, float64(r.IRQ["TLB"]))
			if r.Trace != nil {
				ss.HaveTrace = true
				rxt = append(rxt, perMinute(r.Trace.Sent, r.Window))
				ss.RXTLBTotal += r.Trace.Sent
			}
			ss.MaxGap = max(ss.MaxGap, r.Fig.MaxGap)
			ss.Above += r.Fig.Above
			ss.ScrapesOK += r.Scrapes.OK
			ss.ScrapesTotal += r.Scrapes.OK + r.Scrapes.Failed
		}
		ss.TLB, ss.CAL, ss.RES, ss.LOC, ss.IRQ = benchkit.Median(tlb), benchkit.Median(cal), benchkit.Median(res), benchkit.Median(loc), benchkit.Median(all)
		if len(tlb) > 0 {
			ss.TLBMin, ss.TLBMax = tlb[0], tlb[0]
			for _, v := range tlb {
				ss.TLBMin, ss.TLBMax = math.Min(ss.TLBMin, v), math.Max(ss.TLBMax, v)
			}
		}
		ss.RXTLB = -1
		if ss.HaveTrace {
			ss.RXTLB = benchkit.Median(rxt)
		}
		ss.Mpps, ss.Mallocs, ss.WindowSeconds = benchkit.Median(mpps), uint64(benchkit.Median(mallocs)), benchkit.Median(win)
		ss.BaselineTLBCount = benchkit.Median(counts)
		sum.Scenarios = append(sum.Scenarios, ss)
	}
	var base scenarioSummary
	for _, ss := range sum.Scenarios {
		if ss.Name == "baseline" {
			base = ss
		}
	}
	noise := 1.0
	noise = math.Max(noise, base.TLBMax-base.TLBMin)
	if base.WindowSeconds > 0 {
		noise = math.Max(noise, 2*math.Sqrt(base.BaselineTLBCount)/(base.WindowSeconds/60))
	}
	// Two measures, judged separately. /proc/interrupts (primary) counts
	// every TLB IPI the RX CPU took, including other processes' that ran
	// there; the trace counts only the flushes the RX process's threads
	// sent, exactly (its baseline is 0 by construction, so its noise floor
	// is one event per minute).
	var adds, sent []string
	var fails []string
	check := func(ok bool, pass, fail, failure string) {
		if ok {
			sum.Checks = append(sum.Checks, "PASS "+pass)
		} else {
			sum.Checks = append(sum.Checks, "FAIL "+fail)
			fails = append(fails, failure)
		}
	}
	haveTrace := base.HaveTrace
	if haveTrace {
		sent = append(sent, fmt.Sprintf("baseline %.1f", base.RXTLB))
	}
	for i := range sum.Scenarios {
		ss := &sum.Scenarios[i]
		ss.PerRound = overBaseline(rs, ss.Name)
		ss.Noise = noise
		ss.TLBExcess = ss.TLB - base.TLB
		if ss.HaveTrace {
			ss.RXTLBExcess = ss.RXTLB - base.RXTLB
		}
		if ss.Name == "baseline" {
			continue
		}
		label := ss.Name
		if label == "inprocess" {
			label = "in-process"
		}
		adds = append(adds, fmt.Sprintf("%s adds %s", label, signed(ss.TLBExcess)))
		if ss.HaveTrace {
			sent = append(sent, fmt.Sprintf("%s %.1f", label, ss.RXTLB))
		}
		procMsg := fmt.Sprintf("%s, /proc/interrupts: TLB %s/min over baseline (noise floor %.1f/min)", ss.Name, signed(ss.TLBExcess), noise)
		traceMsg := fmt.Sprintf("%s, tracefs: its threads sent %.1f TLB flushes/min to the RX CPU (%d in all windows; baseline %.1f/min)", ss.Name, ss.RXTLB, ss.RXTLBTotal, base.RXTLB)
		switch ss.Name {
		case "rxprobe":
			check(ss.TLBExcess <= noise, procMsg+": adds none that this machine can resolve", procMsg, "rxprobe adds TLB shootdowns (/proc/interrupts)")
			if ss.HaveTrace {
				check(ss.RXTLBTotal == 0, traceMsg+": adds none", traceMsg, "rxprobe's threads sent TLB flushes (tracefs)")
			}
		case "stdio", "inprocess":
			ss.Effect = ss.TLBExcess > noise
			check(ss.Effect, procMsg+": the effect shows", procMsg+": NO effect above the noise floor: on this run the primary measure could not have failed",
				ss.Name+" shows no effect (/proc/interrupts)")
			if ss.HaveTrace {
				ok := ss.RXTLBExcess > 1
				ss.Effect = ss.Effect || ok
				check(ok, traceMsg+": the effect shows", traceMsg+": NO effect", ss.Name+" shows no effect (tracefs)")
			}
		}
	}
	sum.Pass, sum.Failure = len(fails) == 0, strings.Join(fails, "; ")
	sum.Verdict = "only the baseline was run: nothing to compare"
	if len(adds) > 0 {
		sum.Verdict = strings.Join(adds, "; ")
		// "rxprobe adds N TLB shootdowns/min over baseline; stdio adds M; ..."
		first, rest, _ := strings.Cut(sum.Verdict, "; ")
		sum.Verdict = first + " TLB shootdowns/min over baseline"
		if rest != "" {
			sum.Verdict += "; " + rest
		}
		sum.Verdict += " (/proc/interrupts, medians, RX CPU)"
	}
	if haveTrace {
		sum.Attributed = "TLB flushes/min the RX process's own threads sent to the RX CPU (tracefs, medians): " + strings.Join(sent, "; ")
	}
	return sum
}

// overBaseline is, per round that ran both, the TLB rate of scenario
// minus the baseline's in the same round (per minute).
func overBaseline(rs []result, scenario string) []float64 {
	base := map[int]float64{}
	for _, r := range rs {
		if r.Scenario == "baseline" {
			base[r.Round] = r.perMin("TLB")
		}
	}
	var out []float64
	for _, r := range rs {
		if b, ok := base[r.Round]; ok && r.Scenario == scenario {
			out = append(out, r.perMin("TLB")-b)
		}
	}
	return out
}

// senders renders per-thread counts, largest first: "rxp-stats 12, rxprobe 1".
func senders(m map[string]uint64) string {
	if len(m) == 0 {
		return "-"
	}
	type kv struct {
		k string
		v uint64
	}
	var l []kv
	for k, v := range m {
		l = append(l, kv{k, v})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v || (l[i].v == l[j].v && l[i].k < l[j].k) })
	var parts []string
	for _, e := range l {
		parts = append(parts, fmt.Sprintf("%s %d", e.k, e.v))
	}
	return strings.Join(parts, ", ")
}

func signed(v float64) string {
	if math.Abs(v) < 0.05 {
		return "0.0"
	}
	return fmt.Sprintf("%+.1f", v)
}

// markdown renders the block for bench/RESULTS.md.
func markdown(s settings, h hostInfo, g *benchkit.Gate, rs []result, sum summary, args []string) string {
	var b strings.Builder
	b.WriteString(benchkit.Heading("benchobserver", h.Host, g, "", args))
	fmt.Fprintf(&b, "- each run: `rxprobe run --config %s --duration %s --stats-interval %s` + scenario flags; RX CPU %d; window from %s after the ready file to %s before the end; /metrics scraped at %g Hz by the bench (pinned to CPU %d) in every scenario (baseline: a dummy server in the bench); %d round(s), order reversed every other round\n",
		s.Config, s.Duration, s.StatsInterval, s.CPU, s.Warmup, s.Tail, s.ScrapeHz, s.Housekeeping, s.Rounds)
	addrs := map[string]bool{}
	for _, r := range rs {
		if r.Addr != "" && r.Addr != "dummy" && r.Addr != s.MetricsAddr {
			addrs[r.Addr] = true
		}
	}
	if len(addrs) > 0 {
		var l []string
		for a := range addrs {
			l = append(l, a)
		}
		sort.Strings(l)
		fmt.Fprintf(&b, "- %s was taken by another process for some runs; they used %s\n", s.MetricsAddr, strings.Join(l, ", "))
	}
	for _, sc := range s.Scenarios {
		fl := strings.Join(sc.Flags, " ")
		if fl == "" {
			fl = "(none)"
		}
		fmt.Fprintf(&b, "  - `%s`: `%s`: %s\n", sc.Name, fl, sc.What)
	}
	b.WriteString("\nPer run (rates per minute on the RX CPU over the window, from /proc/interrupts; RX-sent = TLB flush IPIs that threads of the RX process sent from other CPUs, tlb:tlb_flush \"remote IPI send\" in a tracefs instance of the bench, by thread name):\n\n")
	b.WriteString("| round | scenario | window | TLB | CAL | RES | LOC | all IRQs | RX-sent TLB | RX-sent by thread | Mpps | loop on CPU | max gap | gaps > bound | steady mallocs | scrapes ok | load1 |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		rx, oth := "-", "-"
		if r.Trace != nil {
			rx = fmt.Sprintf("%.1f", perMinute(r.Trace.Sent, r.Window))
			oth = senders(r.Trace.Senders)
			if r.TraceLost > 0 {
				oth += fmt.Sprintf(" (%d lost)", r.TraceLost)
			}
		}
		fmt.Fprintf(&b, "| %d | %s | %.1f s | %.1f | %.1f | %.1f | %.1f | %.1f | %s | %s | %.3f | %.1f %% | %s | %d > %s | %d | %d/%d | %.2f |\n",
			r.Round, r.Scenario, r.Window.Seconds(), r.perMin("TLB"), r.perMin("CAL"), r.perMin("RES"), r.perMin("LOC"), r.allPerMin(),
			rx, oth, r.Fig.Mpps, 100*r.OnCPU, fmtDur(r.Fig.MaxGap), r.Fig.Above, fmtDur(r.Fig.AboveNs), r.Fig.Mallocs,
			r.Scrapes.OK, r.Scrapes.OK+r.Scrapes.Failed, r.Load1)
	}
	b.WriteString("\nMedians per scenario (per minute), and the TLB rate over baseline:\n\n")
	b.WriteString("| scenario | runs | TLB (min–max) | TLB over baseline | over baseline per round | RX-sent TLB | CAL | RES | LOC | all IRQs | Mpps | worst max gap | steady mallocs |\n")
	b.WriteString("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, ss := range sum.Scenarios {
		rx := "-"
		if ss.HaveTrace {
			rx = fmt.Sprintf("%.1f", ss.RXTLB)
		}
		per := make([]string, len(ss.PerRound))
		for i, v := range ss.PerRound {
			per[i] = signed(v)
		}
		fmt.Fprintf(&b, "| %s | %d | %.1f (%.1f–%.1f) | %s | %s | %s | %.1f | %.1f | %.1f | %.1f | %.3f | %s | %d |\n",
			ss.Name, ss.Runs, ss.TLB, ss.TLBMin, ss.TLBMax, signed(ss.TLBExcess), strings.Join(per, ", "), rx, ss.CAL, ss.RES, ss.LOC, ss.IRQ, ss.Mpps, fmtDur(ss.MaxGap), ss.Mallocs)
	}
	fmt.Fprintf(&b, "\nMedians: %s.\n\n", sum.Verdict)
	if sum.Attributed != "" {
		fmt.Fprintf(&b, "%s.\n\n", sum.Attributed)
	}
	if !g.Result() && len(sum.Checks) > 0 {
		b.WriteString("Checks, not judged (NOT A RESULT):\n\n")
	}
	for _, c := range sum.Checks {
		fmt.Fprintf(&b, "- %s\n", c)
	}
	goal := "rxprobe adds no TLB shootdowns, stdio and in-process show their effect"
	gl := g.Goal(goal, sum.Pass, "every check PASS")
	if !sum.Pass {
		gl = g.Goal(goal, false, sum.Failure)
	}
	b.WriteString("\n" + benchkit.Verdict(g, sum.Verdict+"; "+gl))
	return b.String()
}
