// Command benchjitter compares the tail of rxprobe's RX loop gaps with
// oslat (rt-tests), the reference OS-latency busy loop, on the same CPU
// for the same duration, alternating the two round by round. Optionally
// a third run per round repeats rxprobe with its observers busy (stats
// thread at 100 ms, exporter scraped at 10 Hz). See bench/README.md.
//
// Exit status: 0 a result (and, with -require, every row within it), 1 a
// result but a row's rxprobe/oslat ratio is above -require, 2 could not
// measure, 3 measured but not a result (LOADED machine or fewer than 5
// rounds: the block is printed marked NOT A RESULT, -markdown not written).
package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// settings is one benchmark's parameters.
type settings struct {
	benchkit.Common
	Seconds          int
	Oslat            string
	OslatBuckets     int
	RTPrio           int
	Observe          bool
	ObservedInterval time.Duration
	ScrapeHz         float64
	Require          float64
}

// thresholds are the gap lengths whose rate (per second) the bench
// reports: rxprobe's bucket bounds near 1 µs, 16 µs, 128 µs and 1 ms.
// oslat's own grid rounds them down to 1, 16, 131 and 1023 µs (its
// overflow bucket with 1024 buckets).
var thresholds = []uint64{1024, 16384, 131072, 1048576}

func parseFlags(args []string, stderr io.Writer) (settings, error) {
	var s settings
	fs := benchkit.NewFlags("benchjitter", stderr, &s.Common, 5)
	fs.IntVar(&s.Seconds, "seconds", fs.Env.Int("BENCH_SECONDS", 30), "seconds per run, both tools (env BENCH_SECONDS)")
	fs.StringVar(&s.Oslat, "oslat", fs.Env.String("OSLAT", "oslat"), "oslat binary (env OSLAT)")
	fs.IntVar(&s.OslatBuckets, "oslat-buckets", 1024, "oslat --bucket-size: 1 µs buckets, the last one open-ended (4..1024)")
	fs.IntVar(&s.RTPrio, "rtprio", 0, "oslat --rtprio (SCHED_FIFO); 0: SCHED_OTHER like rxprobe's loop. Applies to oslat only")
	fs.BoolVar(&s.Observe, "observed", true, "also run rxprobe with stats every -observed-interval and its exporter scraped")
	fs.DurationVar(&s.ObservedInterval, "observed-interval", 100*time.Millisecond, "stats interval of the observed run")
	fs.Float64Var(&s.ScrapeHz, "scrape-hz", 10, "scrapes per second of the observed run's exporter")
	fs.Float64Var(&s.Require, "require", 0, "exit 1 when any verdict row's rxprobe/oslat ratio (worst gap, common-grid p99/p99.9, gap rates) is above this (0: report only)")
	if err := fs.Parse(args, &s.Common); err != nil {
		return s, err
	}
	switch {
	case s.Seconds < 1:
		return s, fmt.Errorf("-seconds %d: want at least 1", s.Seconds)
	case s.OslatBuckets < 4 || s.OslatBuckets > 1024:
		return s, fmt.Errorf("-oslat-buckets %d: oslat takes 4..1024", s.OslatBuckets)
	case s.RTPrio < 0 || s.RTPrio > 99:
		return s, fmt.Errorf("-rtprio %d: want 0..99", s.RTPrio)
	case s.ObservedInterval <= 0 || s.ScrapeHz <= 0 || s.ScrapeHz > 1000:
		return s, fmt.Errorf("-observed-interval %s, -scrape-hz %g: want positive (scrapes ≤ 1000/s)", s.ObservedInterval, s.ScrapeHz)
	}
	return s, nil
}

// runRec is one tool's run in a round, reduced to what the tables show.
type runRec struct {
	Tool     string
	D        dist
	Seconds  float64
	Load1    float64 // 1-minute load average just before the run
	CPUShare float64 // on-CPU share of the busy-loop thread
	Polls    uint64  // rxprobe only
	Mpps     float64 // rxprobe only
	Obs      observed
}

func (r runRec) p99() uint64  { return r.D.quantile(0.99) }
func (r runRec) p999() uint64 { return r.D.quantile(0.999) }

// rate is the number of samples per second at or above t (rounded down
// to the tool's grid, see dist.over) and that effective threshold.
func (r runRec) rate(t uint64) (float64, uint64) {
	n, eff := r.D.over(t)
	if r.Seconds <= 0 {
		return 0, eff
	}
	return float64(n) / r.Seconds, eff
}

type round struct {
	First          string // the tool that ran first
	Oslat, Rxprobe runRec
	Observed       *runRec
}

func main() {
	os.Exit(benchkit.Main("benchjitter", os.Args[1:], os.Stdout, os.Stderr, parseFlags, measure))
}

// outcome renders the rounds; -require applies to every verdict row.
func outcome(s settings, h hostInfo, g *benchkit.Gate, rounds []round) benchkit.Outcome {
	sum := summarize(rounds)
	o := benchkit.Outcome{Markdown: markdown(s, h, g, rounds, sum, os.Args[1:]), Gate: g, MarkdownFile: s.Markdown}
	if s.Require > 0 {
		var over []string
		for _, c := range sum.Checks {
			if c.Ratio > s.Require {
				over = append(over, fmt.Sprintf("%s %s", c.Name, c.Figure))
			}
		}
		if len(over) > 0 {
			o.RequireFailed = fmt.Sprintf("rxprobe/oslat above %.2f×: %s", s.Require, strings.Join(over, "; "))
		}
	}
	return o
}

// measure runs the rounds, printing one line per run as it goes.
func measure(ctx context.Context, s settings, log io.Writer) (benchkit.Outcome, error) {
	var none benchkit.Outcome
	if err := benchkit.Preflight(s.CPU, s.Housekeeping, "rxprobe: `make build`; oslat, taskset: Debian rt-tests, util-linux", s.Rxprobe, s.Oslat, "taskset"); err != nil {
		return none, err
	}
	if _, err := os.Stat(s.Config); err != nil {
		return none, err
	}
	env, err := gatherHost(s.Rxprobe, s.Oslat)
	if err != nil {
		return none, err
	}
	allCPUs, err := pinSelf(s.Housekeeping)
	if err != nil {
		return none, err
	}
	dir, err := os.MkdirTemp("", "benchjitter-")
	if err != nil {
		return none, err
	}
	g := benchkit.Begin("benchjitter", env.Host, dir, log)
	fmt.Fprintf(log, "%-5s  %-9s  %6s  %7s  %10s  %9s  %9s  %9s  %s\n", "ROUND", "TOOL", "LOAD1", "ON-CPU", "SAMPLES", "MAX", "P99≤", "P99.9≤", "PER SECOND ≥1µs/16µs/128µs/1ms")
	line := func(i int, r runRec) {
		var rates []string
		for _, t := range thresholds {
			v, _ := r.rate(t)
			rates = append(rates, strconv.FormatFloat(v, 'f', 1, 64))
		}
		note := ""
		if r.Obs.Scrapes+r.Obs.Failed > 0 {
			note = fmt.Sprintf("  (%d scrapes, %d failed, slowest %s)", r.Obs.Scrapes, r.Obs.Failed, r.Obs.Slowest.Round(time.Microsecond))
		}
		fmt.Fprintf(log, "%-5d  %-9s  %6.2f  %6.1f%%  %10d  %9s  %9s  %9s  %s%s\n", i, r.Tool, r.Load1, 100*r.CPUShare, r.D.Samples,
			fmtNs(r.D.MaxHi), fmtNs(r.p99()), fmtNs(r.p999()), strings.Join(rates, " / "), note)
	}
	tools := []string{"oslat", "rxprobe"}
	if s.Observe {
		tools = append(tools, "observed")
	}
	var rounds []round
	for i := 1; i <= s.Rounds; i++ {
		var r round
		for k, t := range benchkit.Order(i, len(tools)) {
			tool := tools[t]
			if k == 0 {
				r.First = tool
			}
			rec, err := runTool(ctx, s, tool, i, dir, allCPUs)
			if err != nil {
				return none, fmt.Errorf("round %d: %w", i, err)
			}
			g.Run(fmt.Sprintf("round %d %s", i, tool), rec.Load1, rec.CPUShare)
			line(i, rec)
			switch tool {
			case "oslat":
				r.Oslat = rec
			case "rxprobe":
				r.Rxprobe = rec
			default:
				r.Observed = &rec
			}
		}
		rounds = append(rounds, r)
	}
	g.Finish(&env.Host, len(rounds))
	return outcome(s, env, g, rounds), nil
}

// runTool runs one tool of round i: oslat, rxprobe, or rxprobe observed.
func runTool(ctx context.Context, s settings, tool string, i int, dir, allCPUs string) (runRec, error) {
	rec := runRec{Tool: tool, Load1: benchkit.Load1()}
	name := fmt.Sprintf("%s-%d", tool, i)
	if tool == "oslat" {
		o, sh, err := runOslat(ctx, s, filepath.Join(dir, name+".json"), filepath.Join(dir, name+".log"))
		if err != nil {
			return rec, err
		}
		rec.D, rec.Seconds, rec.CPUShare = o.Dist, o.Seconds, sh
		return rec, nil
	}
	observe := tool == "observed"
	res, sh, obs, err := runRxprobe(ctx, s, allCPUs, filepath.Join(dir, name+".json"), filepath.Join(dir, name+".log"), observe)
	if err != nil {
		return rec, err
	}
	if observe && obs.Scrapes == 0 {
		return rec, fmt.Errorf("the observed run's exporter was never scraped successfully (%d failures)", obs.Failed)
	}
	rec.D, rec.Seconds, rec.CPUShare, rec.Polls, rec.Mpps, rec.Obs = res.Dist, res.Seconds, sh, res.Polls, res.Mpps, obs
	return rec, nil
}

// toolSummary is one tool's medians over the rounds.
type toolSummary struct {
	Max, P99, P999 uint64    // ns: median of the max (lower bound for oslat), of the percentile bounds
	MaxHi          uint64    // oslat: median of the max's upper bound
	GridP99        int       // median common-grid bucket of p99
	GridP999       int       // … of p99.9
	Rates          []float64 // median rate per threshold
	Eff            []uint64  // effective thresholds (the tool's grid)
	Share          float64
}

type summary struct {
	Oslat, Rxprobe toolSummary
	Observed       *toolSummary
	MaxRatio       float64 // rxprobe max / oslat max lower bound (medians)
	// Checks are the verdict's rows: every row the method names.
	Checks []check
	// PerRound are rxprobe/oslat per round: the worst gap, then the gap
	// rate at each threshold.
	PerRound [][]float64
}

// check is one row of the verdict: rxprobe against oslat.
type check struct {
	Name   string
	Ratio  float64 // rxprobe / oslat (grid rows: 2^buckets)
	Figure string  // the ratio as stated
	Met    bool
}

// medianU and medianI are benchkit.Median for ns and bucket indexes:
// rounded to the ns, and up to the higher bucket (an even count with the
// middle two in different buckets takes the higher).
func medianU(xs []uint64) uint64 { return uint64(math.Round(benchkit.Median(xs))) }
func medianI(xs []int) int       { return int(math.Ceil(benchkit.Median(xs))) }

func summarizeTool(rs []runRec) toolSummary {
	var mx, mxHi, p99, p999 []uint64
	var g99, g999 []int
	var share []float64
	rates := make([][]float64, len(thresholds))
	t := toolSummary{Eff: make([]uint64, len(thresholds)), Rates: make([]float64, len(thresholds))}
	for _, r := range rs {
		mx, mxHi = append(mx, r.D.MaxLo), append(mxHi, r.D.MaxHi)
		p99, p999 = append(p99, r.p99()), append(p999, r.p999())
		g99, g999 = append(g99, gridBucket(r.p99())), append(g999, gridBucket(r.p999()))
		share = append(share, r.CPUShare)
		for k, th := range thresholds {
			v, eff := r.rate(th)
			rates[k] = append(rates[k], v)
			t.Eff[k] = eff
		}
	}
	t.Max, t.MaxHi, t.P99, t.P999 = medianU(mx), medianU(mxHi), medianU(p99), medianU(p999)
	t.GridP99, t.GridP999, t.Share = medianI(g99), medianI(g999), benchkit.Median(share)
	for k := range thresholds {
		t.Rates[k] = benchkit.Median(rates[k])
	}
	return t
}

func summarize(rounds []round) summary {
	var o, r, ob []runRec
	for _, x := range rounds {
		o, r = append(o, x.Oslat), append(r, x.Rxprobe)
		if x.Observed != nil {
			ob = append(ob, *x.Observed)
		}
	}
	s := summary{Oslat: summarizeTool(o), Rxprobe: summarizeTool(r)}
	if len(ob) > 0 {
		t := summarizeTool(ob)
		s.Observed = &t
	}
	s.MaxRatio = benchkit.Ratio(float64(s.Rxprobe.Max), float64(s.Oslat.Max))
	s.PerRound = perRound(rounds)
	s.Checks = checks(s)
	return s
}

// perRound is, per round, rxprobe/oslat of the worst gap (oslat's lower
// bound) and of the gap rate at each threshold.
func perRound(rounds []round) [][]float64 {
	var out [][]float64
	for _, x := range rounds {
		pr := []float64{benchkit.Ratio(float64(x.Rxprobe.D.MaxLo), float64(x.Oslat.D.MaxLo))}
		for _, th := range thresholds {
			a, _ := x.Rxprobe.rate(th)
			b, _ := x.Oslat.rate(th)
			pr = append(pr, benchkit.Ratio(a, b))
		}
		out = append(out, pr)
	}
	return out
}

// checks are the verdict's rows, every one the method names: the worst
// gap, p99 and p99.9 on the common grid, and the rate of gaps per second
// at each threshold, each rxprobe within target× of oslat (medians over
// the rounds). A rate both tools have at 0 is met.
func checks(s summary) []check {
	c := []check{{Name: "worst gap", Ratio: s.MaxRatio, Figure: fmtRatio(s.MaxRatio) + "×", Met: s.MaxRatio <= target}}
	for _, g := range []struct {
		name   string
		rx, os int
	}{{"p99 (common grid)", s.Rxprobe.GridP99, s.Oslat.GridP99}, {"p99.9 (common grid)", s.Rxprobe.GridP999, s.Oslat.GridP999}} {
		r := math.Pow(2, float64(g.rx-g.os))
		c = append(c, check{Name: g.name, Ratio: r, Figure: gridRatio(g.rx, g.os), Met: r <= target})
	}
	for k, th := range thresholds {
		r := benchkit.Ratio(s.Rxprobe.Rates[k], s.Oslat.Rates[k])
		c = append(c, check{Name: fmt.Sprintf("gaps ≥%s per s", fmtNs(th)), Ratio: r,
			Figure: fmt.Sprintf("%s× (%s vs %s)", fmtRatio(r), fmtRate(s.Rxprobe.Rates[k]), fmtRate(s.Oslat.Rates[k])), Met: r <= target})
	}
	return c
}

// hostInfo identifies the machine, the binary and the oslat measured.
type hostInfo struct {
	benchkit.Host
	Oslat string
}

func gatherHost(rxprobe, oslat string) (hostInfo, error) {
	host, err := benchkit.GatherHost(rxprobe)
	h := hostInfo{Host: host, Oslat: "unknown"}
	if out, err := exec.Command(oslat, "--version").CombinedOutput(); err == nil || len(out) > 0 {
		if v := oslatVersion(string(out)); v != "" {
			h.Oslat = v
		}
	}
	return h, err
}

// oslatVersion finds "oslat V 2.40" in oslat's --version output.
func oslatVersion(out string) string {
	for line := range strings.SplitSeq(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "oslat V "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
