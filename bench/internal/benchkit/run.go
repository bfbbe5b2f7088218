package benchkit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
)

// Exit statuses of every harness.
const (
	ExitResult    = 0 // a result (and, with -require, the goal was met)
	ExitRequire   = 1 // a result, but -require failed
	ExitNoMeasure = 2 // could not measure
	ExitNotResult = 3 // measured, but not a result: LOADED or too few rounds
)

// Outcome is what a harness measured, rendered.
type Outcome struct {
	// Summary is printed to stdout before the block (may be empty).
	Summary string
	// Markdown is the block for bench/RESULTS.md; when Gate fails it is
	// marked NOT A RESULT (see Block).
	Markdown string
	Gate     *Gate
	// MarkdownFile, when set, receives Markdown, but only for a result.
	MarkdownFile string
	// RequireFailed, when set, is why -require failed.
	RequireFailed string
}

// Main is a harness's main: it parses the flags, measures until done or
// interrupted, prints the outcome and returns the exit status.
func Main[S any](name string, args []string, stdout, stderr io.Writer,
	parse func([]string, io.Writer) (S, error),
	bench func(context.Context, S, io.Writer) (Outcome, error)) int {
	s, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitResult
		}
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitNoMeasure
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := bench(ctx, s, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitNoMeasure
	}
	return o.finish(name, stdout, stderr)
}

func (o Outcome) finish(name string, stdout, stderr io.Writer) int {
	if o.Summary != "" && o.Gate.Result() {
		fmt.Fprintf(stdout, "\n%s\n", o.Summary)
	}
	fmt.Fprintf(stdout, "\n%s", o.Markdown)
	if !o.Gate.Result() {
		msg := fmt.Sprintf("%s: NOT A RESULT: %s", name, o.Gate.Refusal())
		if o.MarkdownFile != "" {
			msg += fmt.Sprintf("; %s not written", o.MarkdownFile)
		}
		fmt.Fprintln(stderr, msg)
		return ExitNotResult
	}
	if o.MarkdownFile != "" {
		if err := os.WriteFile(o.MarkdownFile, []byte(o.Markdown), 0o644); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return ExitNoMeasure
		}
	}
	if o.RequireFailed != "" {
		fmt.Fprintf(stderr, "%s: -require: %s\n", name, o.RequireFailed)
		return ExitRequire
	}
	return ExitResult
}

// Heading is the block's first lines: the heading (date and the measured
// binary's version; NOT A RESULT first when the gate failed), then
// machine, binary, load and command. machineExtra is appended to the
// machine line (", DPDK 22.11.11").
func Heading(name string, h Host, g *Gate, machineExtra string, args []string) string {
	var b strings.Builder
	if !g.Result() {
		fmt.Fprintf(&b, "### NOT A RESULT (%s) — %s — %s\n\n", g.Tag(), h.Date, h.Version)
		fmt.Fprintf(&b, "**%s. The figures below are not a result: do not quote them.**\n\n", g.Refusal())
	} else {
		fmt.Fprintf(&b, "### %s — %s\n\n", h.Date, h.Version)
	}
	fmt.Fprintf(&b, "- machine: %s, %d CPUs, kernel %s%s\n", h.Model, h.CPUs, h.Kernel, machineExtra)
	fmt.Fprintf(&b, "- binary: `%s`: `%s`\n", h.Binary, h.Version)
	state := "quiet"
	if g.Loaded() {
		state = "LOADED"
	}
	fmt.Fprintf(&b, "- load average (1/5/15 min) before: %s, after: %s (%s; limit %.2f before, %.2f during)\n", h.LoadBefore, h.LoadAfter, state, g.LoadLimit(), g.DuringLimit())
	cmd := name
	if len(args) > 0 {
		cmd += " " + strings.Join(args, " ")
	}
	fmt.Fprintf(&b, "- command: `%s`\n", cmd)
	return b.String()
}

// Verdict is the block's closing line: the verdict for a result, or for a
// gate that failed "No verdict" and the refusal, so that no figure of a
// LOADED run reads as one.
func Verdict(g *Gate, verdict string) string {
	if !g.Result() {
		return fmt.Sprintf("**No verdict: NOT A RESULT (%s; the reasons are at the top of the block).**\n", g.Tag())
	}
	return fmt.Sprintf("**Verdict: %s.**\n", verdict)
}

// Preflight checks, before anything runs, that the measured CPU and the
// housekeeping CPU exist and that every binary is found; hint says how to
// get a missing one.
func Preflight(cpu, housekeeping int, hint string, bins ...string) error {
	if n := runtime.NumCPU(); cpu >= n || housekeeping >= n {
		return fmt.Errorf("-cpu %d, -housekeeping %d: this machine has CPUs 0..%d", cpu, housekeeping, n-1)
	}
	for _, bin := range bins {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s: %w (%s)", bin, err, hint)
		}
	}
	return nil
}

// Begin starts the gate before the first run (the load now) and prints
// the harness's first line, and a LOADED line when the machine is busy
// already.
func Begin(name string, h Host, dir string, log io.Writer) *Gate {
	g := NewGate(h.CPUs)
	g.Before(Load1())
	fmt.Fprintf(log, "%s: %s; %s; load average %s; logs and reports in %s\n", name, h.Model, h.Version, h.LoadBefore, dir)
	if g.Loaded() {
		fmt.Fprintf(log, "%s: %s; measuring anyway, the figures will not be a result\n", name, g.Refusal())
	}
	return g
}

// Finish records the load after the last run into h and the gate, and
// the number of rounds run.
func (g *Gate) Finish(h *Host, rounds int) {
	h.LoadAfter = Loadavg()
	g.During("after the last run", Load1())
	g.Rounds(rounds)
}
