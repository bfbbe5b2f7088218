package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"fmt"
	"strconv"
	"strings"
)

// target is the bound: rxprobe's tail within 1.1× of oslat's.
const target = 1.1

// markdown renders the result block for bench/RESULTS.md.
func markdown(s settings, h hostInfo, g *benchkit.Gate, rs []round, sum summary, args []string) string {
	var b strings.Builder
	b.WriteString(benchkit.Heading("benchjitter", h.Host, g, ", oslat (rt-tests) "+h.Oslat, args))
	order := "oslat, rxprobe"
	if s.Observe {
		order += ", rxprobe observed"
	}
	fmt.Fprintf(&b, "- rounds: %d × %d s, each round %s in odd rounds, reversed in even ones\n", len(rs), s.Seconds, order)
	prio := "SCHED_OTHER, like rxprobe's loop"
	if s.RTPrio > 0 {
		prio = fmt.Sprintf("SCHED_FIFO %d: oslat only, rxprobe's loop stays SCHED_OTHER", s.RTPrio)
	}
	fmt.Fprintf(&b, "- oslat: `taskset -c %d oslat %s` (%s)\n", s.Housekeeping, strings.Join(oslatArgs(s, "FILE"), " "), prio)
	fmt.Fprintf(&b, "- rxprobe: `rxprobe run --config %s --duration %ds --no-exporter --report FILE` (loop on CPU %d; stats thread at the config's interval)\n", s.Config, s.Seconds, s.CPU)
	if s.Observe {
		sc, fail := 0, 0
		for _, r := range rs {
			if r.Observed != nil {
				sc, fail = sc+r.Observed.Obs.Scrapes, fail+r.Observed.Obs.Failed
			}
		}
		fmt.Fprintf(&b, "- observed: the same with `--stats-interval %s --metrics-addr 127.0.0.1:PORT` (exporter on), `/metrics` scraped at %g Hz by the harness: %d scrapes, %d failed\n",
			s.ObservedInterval, s.ScrapeHz, sc, fail)
	}
	b.WriteString("\nPercentiles are bucket upper bounds: rxprobe's buckets are powers of two (64 ns × 2^k), so its p99 is rounded up to one of 64, 128, 256, 512 ns, 1.02 µs, …; oslat's are 1 µs wide and it cannot resolve below 1 µs. ")
	b.WriteString("\"grid\" puts both on rxprobe's buckets with everything up to 1.02 µs in one (the finest bucket both resolve). ")
	b.WriteString("oslat's max is rounded up to the µs; ratios use its lower bound. ")
	fmt.Fprintf(&b, "Rates count gaps per second at or above %s on rxprobe's grid and %s on oslat's.\n\n", joinNs(thresholds), joinNs(sum.Oslat.Eff))

	b.WriteString("| round | tool | load1 | loop thread on CPU | samples/s | max | p99 ≤ | p99.9 ≤ | grid p99 / p99.9 |")
	for _, t := range thresholds {
		fmt.Fprintf(&b, " ≥%s /s |", fmtNs(t))
	}
	b.WriteString("\n|---:|---|---:|---:|---:|---:|---:|---:|---|" + strings.Repeat("---:|", len(thresholds)) + "\n")
	row := func(i int, r runRec) {
		mx := fmtNs(r.D.MaxHi)
		if r.D.MaxLo != r.D.MaxHi {
			mx = "≤" + mx
		}
		fmt.Fprintf(&b, "| %d | %s | %.2f | %.1f %% | %s | %s | %s | %s | %s / %s |", i, r.Tool, r.Load1, 100*r.CPUShare,
			fmtCount(float64(r.D.Samples)/r.Seconds), mx, fmtNs(r.p99()), fmtNs(r.p999()),
			gridLabel(gridBucket(r.p99())), gridLabel(gridBucket(r.p999())))
		for _, t := range thresholds {
			v, _ := r.rate(t)
			fmt.Fprintf(&b, " %s |", fmtRate(v))
		}
		b.WriteString("\n")
	}
	for i, r := range rs {
		row(i+1, r.Oslat)
		row(i+1, r.Rxprobe)
		if r.Observed != nil {
			row(i+1, *r.Observed)
		}
	}

	b.WriteString("\n| median over the rounds | oslat | rxprobe | rxprobe / oslat |")
	if sum.Observed != nil {
		b.WriteString(" observed | observed / oslat |")
	}
	b.WriteString("\n|---|---:|---:|---:|")
	if sum.Observed != nil {
		b.WriteString("---:|---:|")
	}
	b.WriteString("\n")
	line := func(name string, o string, f func(t toolSummary) (string, float64), ratioFmt func(a, b float64) string) {
		_, ov := f(sum.Oslat)
		rs, rv := f(sum.Rxprobe)
		fmt.Fprintf(&b, "| %s | %s | %s | %s |", name, o, rs, ratioFmt(rv, ov))
		if sum.Observed != nil {
			os, obv := f(*sum.Observed)
			fmt.Fprintf(&b, " %s | %s |", os, ratioFmt(obv, ov))
		}
		b.WriteString("\n")
	}
	plain := func(a, c float64) string {
		if a == 0 && c == 0 {
			return "—"
		}
		return fmtRatio(benchkit.Ratio(a, c))
	}
	grid := func(a, c float64) string { return gridRatio(int(a), int(c)) }
	line("max gap", fmt.Sprintf("%s–%s", fmtNs(sum.Oslat.Max), fmtNs(sum.Oslat.MaxHi)),
		func(t toolSummary) (string, float64) { return fmtNs(t.Max), float64(t.Max) }, plain)
	line("p99 ≤ (bucket bound)", fmtNs(sum.Oslat.P99),
		func(t toolSummary) (string, float64) { return fmtNs(t.P99), float64(t.P99) }, plain)
	line("p99, common grid", gridLabel(sum.Oslat.GridP99),
		func(t toolSummary) (string, float64) { return gridLabel(t.GridP99), float64(t.GridP99) }, grid)
	line("p99.9 ≤ (bucket bound)", fmtNs(sum.Oslat.P999),
		func(t toolSummary) (string, float64) { return fmtNs(t.P999), float64(t.P999) }, plain)
	line("p99.9, common grid", gridLabel(sum.Oslat.GridP999),
		func(t toolSummary) (string, float64) { return gridLabel(t.GridP999), float64(t.GridP999) }, grid)
	for k, th := range thresholds {
		line(fmt.Sprintf("gaps ≥%s per s", fmtNs(th)), fmtRate(sum.Oslat.Rates[k]),
			func(t toolSummary) (string, float64) { return fmtRate(t.Rates[k]), t.Rates[k] }, plain)
	}
	line("loop thread on CPU", fmt.Sprintf("%.1f %%", 100*sum.Oslat.Share),
		func(t toolSummary) (string, float64) { return fmt.Sprintf("%.1f %%", 100*t.Share), t.Share }, plain)

	b.WriteString("\n| round | first | worst gap rxprobe / oslat |")
	for _, t := range thresholds {
		fmt.Fprintf(&b, " gaps ≥%s per s rxprobe / oslat |", fmtNs(t))
	}
	b.WriteString("\n|---:|---|---:|" + strings.Repeat("---:|", len(thresholds)) + "\n")
	cols := make([][]float64, 1+len(thresholds))
	for i, pr := range sum.PerRound {
		fmt.Fprintf(&b, "| %d | %s |", i+1, rs[i].First)
		for k, v := range pr {
			fmt.Fprintf(&b, " %s |", fmtRatio(v))
			cols[k] = append(cols[k], v)
		}
		b.WriteString("\n")
	}
	b.WriteString("| min / median / max | |")
	for _, c := range cols {
		sp := benchkit.SpreadOf(c)
		fmt.Fprintf(&b, " %s / %s / %s |", fmtRatio(sp.Min), fmtRatio(sp.Median), fmtRatio(sp.Max))
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "Goals, rxprobe within %.1f× of oslat (medians over the rounds), every row of the method:\n\n", target)
	var failed []string
	for _, c := range sum.Checks {
		fmt.Fprintf(&b, "- %s\n", g.Goal(fmt.Sprintf("%s ≤%.1f× oslat", c.Name, target), c.Met, c.Figure))
		if !c.Met {
			failed = append(failed, c.Name+" "+c.Figure)
		}
	}
	b.WriteString("\n")
	if sum.Observed != nil {
		fmt.Fprintf(&b, "Observers (stats %s, exporter scraped at %g Hz) vs quiet rxprobe: worst gap %s×, gaps ≥%s per s %s×.\n\n",
			s.ObservedInterval, s.ScrapeHz, fmtRatio(benchkit.Ratio(float64(sum.Observed.Max), float64(sum.Rxprobe.Max))),
			fmtNs(thresholds[0]), fmtRatio(benchkit.Ratio(sum.Observed.Rates[0], sum.Rxprobe.Rates[0])))
	}
	all := fmt.Sprintf("every row ≤%.1f× oslat", target)
	verdict := benchkit.Goal(all, true, fmt.Sprintf("worst gap %s×", fmtRatio(sum.MaxRatio)))
	if len(failed) > 0 {
		verdict = benchkit.Goal(all, false, strings.Join(failed, "; "))
	}
	b.WriteString(benchkit.Verdict(g, "rxprobe vs oslat: "+verdict))
	return b.String()
}

// gridRatio is the ratio of two common-grid buckets: 2^(a−b).
func gridRatio(a, b int) string {
	d := a - b
	switch {
	case d == 0:
		return "same bucket (1×)"
	case d > 0:
		return fmt.Sprintf("%d bucket(s) higher (%d×)", d, 1<<d)
	default:
		return fmt.Sprintf("%d bucket(s) lower (1/%d×)", -d, 1<<-d)
	}
}

func fmtRatio(r float64) string {
	switch {
	case r > 1e6:
		return "∞"
	case r >= 10:
		return strconv.FormatFloat(r, 'f', 0, 64)
	default:
		return strconv.FormatFloat(r, 'f', 2, 64)
	}
}

func fmtRate(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

// fmtCount prints a large count as 12.3M / 456k.
func fmtCount(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

func joinNs(ts []uint64) string {
	var s []string
	for _, t := range ts {
		s = append(s, fmtNs(t))
	}
	return strings.Join(s, ", ")
}
