package benchkit

import (
	"fmt"
	"strings"
)

// MinRounds is the fewest rounds whose figures count as a result.
const MinRounds = 5

// MinOnCPU is the smallest share of its run a measured busy loop (an EAL
// worker, oslat's worker) must have been on its CPU. Below it another
// task ran on the measured CPU, and the figures measure that task.
const MinOnCPU = 0.99

// Gate decides whether a benchmark's figures are a result. A run is
// LOADED when
//
//   - the 1-minute load average before the first run is above a quarter
//     of the CPU count (LoadLimit): other work was running;
//   - before any later run, or after the last, it is above LoadLimit + 1:
//     the bench's own busy loop counts 1 in the 1-minute average, anything
//     above that is other work;
//   - a measured loop was on its CPU less than MinOnCPU of its run (or
//     the harness could not tell): another task ran on the measured CPU.
//
// Fewer than MinRounds rounds are not a result either. The zero Gate is
// not usable: use NewGate.
type Gate struct {
	cpus    int
	own     int // busy loops the bench itself runs (0: 1)
	loaded  []string
	short   string
	unknown bool
}

// NewGate starts a gate for a machine with cpus CPUs.
func NewGate(cpus int) *Gate { return &Gate{cpus: cpus} }

// OwnLoops declares how many busy loops the bench itself runs during its
// runs (default 1): each counts 1 in the 1-minute load, so During allows
// LoadLimit + n. A capture bench runs three (the RX poll loop, the
// generator and the capture consumer) and measures other processes'
// CPU time directly (Foreign); the other measures of the gate (the load
// before the first run, the measured loop's on-CPU share) are unchanged.
func (g *Gate) OwnLoops(n int) *Gate {
	g.own = n
	return g
}

// DuringLimit is the 1-minute load above which a moment during the runs
// is LOADED: LoadLimit plus the bench's own busy loops.
func (g *Gate) DuringLimit() float64 { return g.LoadLimit() + float64(max(g.own, 1)) }

// LoadLimit is the 1-minute load above which the machine was busy before
// the bench started: a quarter of the CPUs.
func (g *Gate) LoadLimit() float64 { return 0.25 * float64(g.cpus) }

// Before records the 1-minute load before the first run.
func (g *Gate) Before(load1 float64) {
	if load1 < 0 {
		g.loaded = append(g.loaded, "load average unreadable")
	} else if load1 > g.LoadLimit() {
		g.loaded = append(g.loaded, fmt.Sprintf("1-min load %.2f before the first run, above %.2f (a quarter of %d CPUs)", load1, g.LoadLimit(), g.cpus))
	}
}

// Run records one run: the 1-minute load just before it and the share of
// the run its busy loop was on its CPU (0: unknown).
func (g *Gate) Run(label string, load1, onCPU float64) {
	g.During(label, load1)
	switch {
	case onCPU <= 0:
		g.loaded = append(g.loaded, label+": the loop's on-CPU share is unknown")
	case onCPU < MinOnCPU:
		g.loaded = append(g.loaded, fmt.Sprintf("%s: loop on its CPU %.1f %% of the run (< %.0f %%): another task ran there", label, 100*onCPU, 100*MinOnCPU))
	}
}

// During records the 1-minute load at a moment after the bench's own
// busy loop may have run (before a later run, after the last).
func (g *Gate) During(label string, load1 float64) {
	own := max(g.own, 1)
	if lim := g.DuringLimit(); load1 > lim {
		what := "the bench's own loop"
		if own > 1 {
			what = fmt.Sprintf("the bench's own %d busy loops", own)
		}
		g.loaded = append(g.loaded, fmt.Sprintf("%s: 1-min load %.2f, above %.2f (a quarter of %d CPUs + %s)", label, load1, lim, g.cpus, what))
	}
}

// Rounds records how many rounds ran.
func (g *Gate) Rounds(n int) {
	g.short = ""
	if n < MinRounds {
		g.short = fmt.Sprintf("%d round(s): a result needs at least %d", n, MinRounds)
	}
}

// Loaded reports whether the machine was busy.
func (g *Gate) Loaded() bool { return len(g.loaded) > 0 }

// Result reports whether the figures are a result: not LOADED, enough
// rounds.
func (g *Gate) Result() bool { return !g.Loaded() && g.short == "" }

// Refusal is the one-line reason the figures are not a result ("" for a
// result): "LOADED: rerun (…)" and/or "TOO FEW ROUNDS: rerun (…)".
func (g *Gate) Refusal() string {
	var parts []string
	if g.Loaded() {
		r := g.loaded
		more := ""
		if len(r) > 3 {
			r, more = r[:3], fmt.Sprintf("; and %d more", len(g.loaded)-3)
		}
		parts = append(parts, "LOADED: rerun on a quiet machine ("+strings.Join(r, "; ")+more+")")
	}
	if g.short != "" {
		parts = append(parts, fmt.Sprintf("TOO FEW ROUNDS: rerun with -rounds %d or more (%s)", MinRounds, g.short))
	}
	return strings.Join(parts, "; ")
}

// Tag is the refusal in a few words ("" for a result): "LOADED: rerun",
// "TOO FEW ROUNDS: rerun with -rounds 5 or more", or both.
func (g *Gate) Tag() string {
	var parts []string
	if g.Loaded() {
		parts = append(parts, "LOADED: rerun")
	}
	if g.short != "" {
		parts = append(parts, fmt.Sprintf("TOO FEW ROUNDS: rerun with -rounds %d or more", MinRounds))
	}
	return strings.Join(parts, "; ")
}

// Goal states a target plainly: "goal ≥1.00×: met (1.22×)" or
// "goal ≥1.00×: NOT MET (0.91×)".
func Goal(goal string, met bool, figure string) string {
	if met {
		return fmt.Sprintf("goal %s: met (%s)", goal, figure)
	}
	return fmt.Sprintf("goal %s: NOT MET (%s)", goal, figure)
}

// Goal is Goal for a result; for figures that are not one it says the goal
// was not judged, so that no met / NOT MET of a LOADED run reads as a
// finding.
func (g *Gate) Goal(goal string, met bool, figure string) string {
	if !g.Result() {
		return fmt.Sprintf("goal %s: not judged (NOT A RESULT)", goal)
	}
	return Goal(goal, met, figure)
}
