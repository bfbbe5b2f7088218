// Command benchndr runs `rxprobe bench ndr` on a scenario (default:
// bench/scenarios/veth-quick.yaml) round after round, MLR search and plain
// binary search in each round, their order reversed every other round,
// and reports what issue 11 asks of the harness: whether the searches
// agree on the NDR within their precision, whether the NDR's repeats at
// full duration lost nothing, the trials and time each algorithm needed,
// the latency at 10/50/90 % of the PDR, and whether every trial's counts
// add up (received + the ledger before the loop = sent).
//
// Exit status: 0 a result, 2 could not measure, 3 measured but not a
// result (LOADED machine or fewer than 5 rounds: the block is printed
// marked NOT A RESULT and -markdown is not written).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rxprobe/rxprobe/bench/internal/benchkit"
	"github.com/rxprobe/rxprobe/bench/ndr"
)

// settings are the harness's parameters.
type settings struct {
	benchkit.Common
	Scenario string
	// Latency adds --latency to the MLR searches (the binary searches
	// run without it: their figure is the search itself).
	Latency bool
	// Keep keeps the rounds' output directories (their path is printed).
	Keep bool
}

func parseFlags(args []string, stderr io.Writer) (settings, error) {
	var s settings
	fs := benchkit.NewFlags("benchndr", stderr, &s.Common, benchkit.MinRounds)
	fs.StringVar(&s.Scenario, "scenario", "bench/scenarios/veth-quick.yaml", "bench scenario every search runs")
	fs.BoolVar(&s.Latency, "latency", true, "MLR searches with --latency (the latency phase at 10/50/90 % of the PDR)")
	fs.BoolVar(&s.Keep, "keep", true, "keep every search's output directory (results.json, report.md, plots)")
	if err := fs.Parse(args, &s.Common); err != nil {
		return s, err
	}
	if _, err := os.Stat(s.Scenario); err != nil {
		return s, fmt.Errorf("-scenario: %w", err)
	}
	return s, nil
}

// algorithms in the order of odd rounds; even rounds run them reversed.
var algorithms = []string{ndr.MLR, ndr.Binary}

// search is one `rxprobe bench ndr` run.
type search struct {
	Round     int
	Algorithm string
	Dir       string
	Wall      time.Duration
	Load1     float64
	Res       *ndr.Results
}

func main() {
	os.Exit(benchkit.Main("benchndr", os.Args[1:], os.Stdout, os.Stderr, parseFlags, measure))
}

func measure(ctx context.Context, s settings, log io.Writer) (benchkit.Outcome, error) {
	var none benchkit.Outcome
	if os.Geteuid() != 0 {
		return none, fmt.Errorf("needs root: bench ndr creates a veth pair and runs DPDK")
	}
	if err := benchkit.Preflight(s.CPU, s.Housekeeping, "rxprobe: `make build`", s.Rxprobe); err != nil {
		return none, err
	}
	host, err := benchkit.GatherHost(s.Rxprobe)
	if err != nil {
		return none, err
	}
	dir, err := os.MkdirTemp("", "benchndr-")
	if err != nil {
		return none, err
	}
	// Two busy loops of the bench's own: the RX loop and the generator.
	g := benchkit.Begin("benchndr", host, dir, log).OwnLoops(2)
	var runs []search
	for i := 1; i <= s.Rounds; i++ {
		for _, a := range benchkit.Order(i, len(algorithms)) {
			r, err := runSearch(ctx, s, i, algorithms[a], dir, g, log)
			if err != nil {
				return none, fmt.Errorf("round %d %s: %w", i, algorithms[a], err)
			}
			runs = append(runs, r)
		}
	}
	g.Finish(&host, s.Rounds)
	if !s.Keep {
		os.RemoveAll(dir)
	}
	st := summarize(runs)
	return benchkit.Outcome{Markdown: markdown(s, host, g, runs, st, os.Args[1:]), Gate: g, MarkdownFile: s.Markdown,
		Summary: st.summary()}, nil
}

// runSearch runs one search of round i and reads its results.
func runSearch(ctx context.Context, s settings, i int, alg, dir string, g *benchkit.Gate, log io.Writer) (search, error) {
	r := search{Round: i, Algorithm: alg, Dir: filepath.Join(dir, fmt.Sprintf("round%d-%s", i, alg)), Load1: benchkit.Load1()}
	label := fmt.Sprintf("round %d %s", i, alg)
	g.During(label, r.Load1)
	args := []string{"bench", "ndr", "--scenario", s.Scenario, "--search", alg, "--out", r.Dir}
	if s.Latency && alg == ndr.MLR {
		args = append(args, "--latency")
	}
	logf, err := os.Create(r.Dir + ".log")
	if err != nil {
		return r, err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, s.Rxprobe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	foreign := &benchkit.Foreign{}
	foreign.Start()
	start := time.Now()
	err = cmd.Run()
	r.Wall = time.Since(start)
	share, top := foreign.Stop()
	g.Foreign(label, share, top)
	if err != nil {
		return r, fmt.Errorf("%s %s: %w (log: %s.log)", s.Rxprobe, strings.Join(args, " "), err, r.Dir)
	}
	if r.Res, err = ndr.ReadJSON(filepath.Join(r.Dir, ndr.ResultsFile)); err != nil {
		return r, err
	}
	fmt.Fprintf(log, "round %d %-6s %6.1f s  %s  (load1 %.2f, others %.1f %% of a CPU)\n", i, alg, r.Wall.Seconds(), r.line(), r.Load1, 100*share)
	return r, nil
}

// line is one search's figures in a log line.
func (r search) line() string {
	var parts []string
	for _, z := range r.Res.Sizes {
		parts = append(parts, fmt.Sprintf("%s NDR %s%.4f Mpps in %d trials, %s", z.FrameSize, atLeast(z.NDR), z.NDR.Mpps, z.Trials, z.Confirm.String()))
	}
	return strings.Join(parts, "; ")
}

func atLeast(r ndr.Rate) string {
	if r.AtLeast {
		return "≥ "
	}
	return ""
}
