package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rxprobe/rxprobe/bench/internal/benchkit"
	"github.com/rxprobe/rxprobe/bench/ndr"
)

// sizeStats are one algorithm's figures for one frame size over the rounds.
type sizeStats struct {
	NDR, PDR             []float64 // Mpps
	AtLeast, GenLimited  int       // searches whose NDR is a lower bound / that met the generator's ceiling
	Layers               []string  // limiting layers seen
	Trials               []float64 // per search
	SearchSecs, TrialSec []float64
	Repeated, Held       int       // searches whose NDR was repeated / held every repeat
	LossyRepeats         int       // repeats that lost (each rejected an NDR)
	Rejected             []float64 // per search: candidate NDRs rejected by a lossy repeat
	// latency (MLR with -latency): per load fraction
	Lat map[float64]*latStats
}

// latStats are the latency figures at one fraction of the PDR.
type latStats struct {
	P50, P90, P99, P999, Max []float64 // µs
	Invalid                  int
	Reordered, Gaps          uint64
}

// stats are the figures over every search.
type stats struct {
	Sizes []string // frame sizes in the scenario's order
	By    map[string]map[string]*sizeStats
	Wall  map[string][]float64 // seconds per search, by algorithm
	// Trials and Unaccounted count every trial and those whose counts
	// did not add up (received + ledger before the loop ≠ sent).
	Trials, Unaccounted int
	Precision           float64
	PrecisionPPS        float64
	Confirm             int
}

func summarize(runs []search) stats {
	st := stats{By: map[string]map[string]*sizeStats{}, Wall: map[string][]float64{}}
	for _, r := range runs {
		st.Precision, st.PrecisionPPS, st.Confirm = r.Res.Settings.Precision, r.Res.Settings.PrecisionPPS, r.Res.Settings.Confirm
		st.Wall[r.Algorithm] = append(st.Wall[r.Algorithm], r.Wall.Seconds())
		if st.By[r.Algorithm] == nil {
			st.By[r.Algorithm] = map[string]*sizeStats{}
		}
		for _, t := range r.Res.Trials {
			st.Trials++
			if t.Unaccounted != 0 {
				st.Unaccounted++
			}
		}
		for _, z := range r.Res.Sizes {
			name := z.FrameSize.String()
			if !slices.Contains(st.Sizes, name) {
				st.Sizes = append(st.Sizes, name)
			}
			ss := st.By[r.Algorithm][name]
			if ss == nil {
				ss = &sizeStats{Lat: map[float64]*latStats{}}
				st.By[r.Algorithm][name] = ss
			}
			ss.add(z)
		}
	}
	return st
}

func (ss *sizeStats) add(z ndr.SizeResult) {
	ss.NDR, ss.PDR = append(ss.NDR, z.NDR.Mpps), append(ss.PDR, z.PDR.Mpps)
	if z.NDR.AtLeast {
		ss.AtLeast++
	}
	if z.GeneratorLimitedPPS > 0 {
		ss.GenLimited++
	}
	layer := z.LimitingLayer
	if layer == "" {
		layer = "none"
	}
	if !slices.Contains(ss.Layers, layer) {
		ss.Layers = append(ss.Layers, layer)
	}
	ss.Trials = append(ss.Trials, float64(z.Trials))
	ss.SearchSecs, ss.TrialSec = append(ss.SearchSecs, z.SearchSeconds), append(ss.TrialSec, z.TrialSeconds)
	if c := z.Confirm; c != nil && len(c.Trials) > 0 {
		ss.Repeated++
		if c.Held() {
			ss.Held++
		}
	}
	ss.Rejected = append(ss.Rejected, float64(len(z.Rejected)))
	for _, c := range z.Rejected {
		ss.LossyRepeats += c.Lossy
	}
	for _, p := range z.Latency {
		ls := ss.Lat[p.Load]
		if ls == nil {
			ls = &latStats{}
			ss.Lat[p.Load] = ls
		}
		l := p.Latency
		if l == nil || !l.Valid {
			ls.Invalid++
			continue
		}
		us := func(ns uint64) float64 { return float64(ns) / 1e3 }
		ls.P50, ls.P90, ls.P99 = append(ls.P50, us(l.P50Ns)), append(ls.P90, us(l.P90Ns)), append(ls.P99, us(l.P99Ns))
		ls.P999, ls.Max = append(ls.P999, us(l.P999Ns)), append(ls.Max, us(l.MaxNs))
		ls.Reordered += l.Reordered
		ls.Gaps += l.SeqGaps
	}
}

// agree reports whether a set of NDRs (Mpps) lies within the search's
// precision: max − min ≤ the width the search had to reach below max.
func (st stats) agree(xs []float64) (bool, float64) {
	sp := benchkit.SpreadOf(xs)
	if sp.Max <= 0 {
		return false, 0
	}
	width := math.Inf(1)
	if st.Precision > 0 {
		width = st.Precision * sp.Max
	}
	if st.PrecisionPPS > 0 {
		width = math.Min(width, st.PrecisionPPS/1e6)
	}
	return sp.Max-sp.Min <= width*(1+1e-9), (sp.Max - sp.Min) / sp.Max
}

func (st stats) summary() string {
	var parts []string
	for _, name := range st.Sizes {
		if ss := st.By[ndr.MLR][name]; ss != nil {
			parts = append(parts, fmt.Sprintf("%s NDR (mlr) %s Mpps", name, benchkit.SpreadOf(ss.NDR).Format("%.4f")))
		}
	}
	return "median (min–max): " + strings.Join(parts, "; ")
}

// markdown renders the block for bench/RESULTS.md.
func markdown(s settings, h benchkit.Host, g *benchkit.Gate, runs []search, st stats, args []string) string {
	var b strings.Builder
	b.WriteString(benchkit.Heading("benchndr", h, g, "", args))
	fmt.Fprintf(&b, "- scenario `%s`: %d rounds, each an MLR search (with `--latency`: %v) and a binary search, MLR first in odd rounds; precision %.3g %%, NDR repeated %d× at full duration; output in %s\n\n",
		s.Scenario, s.Rounds, s.Latency, 100*st.Precision, st.Confirm, filepath.Dir(runs[0].Dir))
	b.WriteString("| round | search | frame | NDR Mpps | PDR Mpps | limiting layer | trials (short/full) | search s | NDR repeats | rejected NDRs | wall s | load1 |\n")
	b.WriteString("|---:|---|---|---:|---:|---|---|---:|---|---|---:|---:|\n")
	for _, r := range runs {
		for _, z := range r.Res.Sizes {
			layer := z.LimitingLayer
			if z.GeneratorLimitedPPS > 0 && z.NDR.AtLeast {
				layer = fmt.Sprintf("generator (%.4f Mpps)", z.GeneratorLimitedPPS/1e6)
			} else if layer == "" {
				layer = "none"
			}
			rej := make([]string, len(z.Rejected))
			for i, c := range z.Rejected {
				rej[i] = fmt.Sprintf("%.4f", c.RatePPS/1e6)
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s%.4f | %s%.4f | %s | %d (%d/%d) | %.1f | %s | %s | %.1f | %.2f |\n", r.Round, r.Algorithm, z.FrameSize,
				atLeast(z.NDR), z.NDR.Mpps, atLeast(z.PDR), z.PDR.Mpps, layer, z.Trials, z.ShortTrials, z.FullTrials, z.SearchSeconds,
				z.Confirm.String(), orDash(strings.Join(rej, ", ")), r.Wall.Seconds(), r.Load1)
		}
	}
	fmt.Fprintf(&b, "\n| search | frame | NDR Mpps, median (min–max) | spread | PDR Mpps | NDR lower bounds | trials | search s | trial s | final NDR held its repeats | rejected NDRs per search |\n")
	b.WriteString("|---|---|---|---:|---|---:|---|---|---|---:|---|\n")
	var goals []string
	met := 0
	goal := func(what string, ok bool, figure string) {
		goals = append(goals, g.Goal(what, ok, figure))
		if ok {
			met++
		}
	}
	for _, alg := range algorithms {
		for _, name := range st.Sizes {
			ss := st.By[alg][name]
			if ss == nil {
				continue
			}
			ok, spread := st.agree(ss.NDR)
			fmt.Fprintf(&b, "| %s | %s | %s | %.2f %% | %s | %d of %d | %s | %s | %s | %d of %d | %s |\n", alg, name,
				benchkit.SpreadOf(ss.NDR).Format("%.4f"), 100*spread, benchkit.SpreadOf(ss.PDR).Format("%.4f"), ss.AtLeast, len(ss.NDR),
				benchkit.SpreadOf(ss.Trials).Format("%.0f"), benchkit.SpreadOf(ss.SearchSecs).Format("%.1f"), benchkit.SpreadOf(ss.TrialSec).Format("%.0f"),
				ss.Held, ss.Repeated, benchkit.SpreadOf(ss.Rejected).Format("%.0f"))
			what := "NDR"
			if ss.AtLeast == len(ss.NDR) {
				what = "NDR lower bound (generator-limited)"
			}
			goal(fmt.Sprintf("%d %s searches of %s agree on the %s within the precision (%.3g %%)", len(ss.NDR), alg, name, what, 100*st.Precision),
				ok, fmt.Sprintf("spread %.2f %%", 100*spread))
			if st.Confirm > 0 {
				goal(fmt.Sprintf("every %s NDR of %s found holds %d repeats at full duration", alg, name, st.Confirm),
					ss.Held == len(ss.NDR), fmt.Sprintf("%d of %d held; on the way %d candidate NDRs were rejected by a lossy repeat", ss.Held, len(ss.NDR), ss.LossyRepeats))
			}
		}
	}
	mw, bw := benchkit.SpreadOf(st.Wall[ndr.MLR]), benchkit.SpreadOf(st.Wall[ndr.Binary])
	fmt.Fprintf(&b, "\nWall time per `bench ndr` run (whole scenario, NDR repeats and latency phase included): mlr %s s, binary %s s.\n",
		mw.Format("%.1f"), bw.Format("%.1f"))
	goal("a quick scenario run (mlr, median wall time) under 2 minutes", mw.Median < 120, fmt.Sprintf("%.1f s", mw.Median))
	goal("every trial's counts add up (received + ledger before the loop = sent)", st.Unaccounted == 0,
		fmt.Sprintf("%d of %d trials unaccounted", st.Unaccounted, st.Trials))
	writeLatency(&b, st)
	b.WriteString("\n")
	for _, gl := range goals {
		fmt.Fprintf(&b, "- %s\n", gl)
	}
	b.WriteString("\n")
	b.WriteString(benchkit.Verdict(g, fmt.Sprintf("%d of %d goals met; %s", met, len(goals), st.summary())))
	return b.String()
}

// writeLatency renders the MLR searches' latency at 10/50/90 % of the PDR.
func writeLatency(b *strings.Builder, st stats) {
	var rows []string
	for _, name := range st.Sizes {
		ss := st.By[ndr.MLR][name]
		if ss == nil || len(ss.Lat) == 0 {
			continue
		}
		loads := make([]float64, 0, len(ss.Lat))
		for l := range ss.Lat {
			loads = append(loads, l)
		}
		slices.Sort(loads)
		for _, l := range loads {
			ls := ss.Lat[l]
			rows = append(rows, fmt.Sprintf("| %s | %.0f %% | %s | %s | %s | %s | %s | %d | %d | %d |", name, 100*l,
				benchkit.SpreadOf(ls.P50).Format("%.1f"), benchkit.SpreadOf(ls.P90).Format("%.1f"), benchkit.SpreadOf(ls.P99).Format("%.1f"),
				benchkit.SpreadOf(ls.P999).Format("%.1f"), benchkit.SpreadOf(ls.Max).Format("%.1f"), ls.Gaps, ls.Reordered, ls.Invalid))
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("\nOne-way latency (µs, median (min–max) over the MLR searches) at fractions of each search's PDR:\n\n")
	b.WriteString("| frame | load | p50 | p90 | p99 | p99.9 | max | seq gaps | reordered | invalid |\n|---|---:|---|---|---|---|---|---:|---:|---:|\n")
	b.WriteString(strings.Join(rows, "\n") + "\n")
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
