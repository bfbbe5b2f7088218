// Command benchjitter compares the tail of rxprobe's RX loop gaps with
// oslat (rt-tests), the reference OS-latency busy loop, on the same CPU
// for the same duration, alternating the two round by round. Optionally
// a third run per round repeats rxprobe with its observers busy (stats
// thread at 100 ms, exporter scraped at 10 Hz). See bench/README.md.
//
// Exit status: 0 measured (and, with -require, the target was met),
// 1 measured but the worst-gap ratio is above -require, 2 could not measure.
package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// settings is one benchmark's parameters.
type settings struct {
	Rounds           int
	Seconds          int
	CPU              int
	Housekeeping     int
	Config           string
	Rxprobe          string
	Oslat            string
	OslatBuckets     int
	RTPrio           int
	Observe          bool
	ObservedInterval time.Duration
	ScrapeHz         float64
	Markdown         string
	Require          float64
}

// thresholds are the gap lengths whose rate (per second) the bench
// reports: rxprobe's bucket bounds near 1 µs, 16 µs, 128 µs and 1 ms.
// oslat's own grid rounds them down to 1, 16, 131 and 1023 µs (its
// overflow bucket with 1024 buckets).
var thresholds = []uint64{1024, 16384, 131072, 1048576}

// env gives flags their defaults from BENCH_* variables.
var env benchkit.Env

func parseFlags(args []string, stderr io.Writer) (settings, error) {
	var s settings
	env = benchkit.Env{}
	fs := flag.NewFlagSet("benchjitter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&s.Rounds, "rounds", env.Int("BENCH_ROUNDS", 3), "rounds; each runs oslat, then rxprobe (env BENCH_ROUNDS)")
	fs.IntVar(&s.Seconds, "seconds", env.Int("BENCH_SECONDS", 30), "seconds per run, both tools (env BENCH_SECONDS)")
	fs.IntVar(&s.CPU, "cpu", env.Int("BENCH_RX_CPU", 1), "measured CPU: oslat's worker, rxprobe's loop (must be the config's rx_cpus) (env BENCH_RX_CPU)")
	fs.IntVar(&s.Housekeeping, "housekeeping", env.Int("BENCH_HK_CPU", 0), "oslat's main thread, this harness (env BENCH_HK_CPU)")
	fs.StringVar(&s.Config, "config", "configs/null.yaml", "rxprobe config (one port, one queue)")
	fs.StringVar(&s.Rxprobe, "rxprobe", env.String("RXPROBE", "bin/rxprobe"), "rxprobe binary (env RXPROBE)")
	fs.StringVar(&s.Oslat, "oslat", env.String("OSLAT", "oslat"), "oslat binary (env OSLAT)")
	fs.IntVar(&s.OslatBuckets, "oslat-buckets", 1024, "oslat --bucket-size: 1 µs buckets, the last one open-ended (4..1024)")
	fs.IntVar(&s.RTPrio, "rtprio", 0, "oslat --rtprio (SCHED_FIFO); 0: SCHED_OTHER like rxprobe's loop. Applies to oslat only")
	fs.BoolVar(&s.Observe, "observed", true, "also run rxprobe with stats every -observed-interval and its exporter scraped")
	fs.DurationVar(&s.ObservedInterval, "observed-interval", 100*time.Millisecond, "stats interval of the observed run")
	fs.Float64Var(&s.ScrapeHz, "scrape-hz", 10, "scrapes per second of the observed run's exporter")
	fs.StringVar(&s.Markdown, "markdown", "", "also write the Markdown result block to this file")
	fs.Float64Var(&s.Require, "require", 0, "exit 1 when rxprobe/oslat worst gap (medians) is above this (0: report only)")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	switch {
	case len(env.Errs) > 0:
		return s, errors.Join(env.Errs...)
	case fs.NArg() > 0:
		return s, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case s.Rounds < 1:
		return s, fmt.Errorf("-rounds %d: want at least 1", s.Rounds)
	case s.Seconds < 1:
		return s, fmt.Errorf("-seconds %d: want at least 1", s.Seconds)
	case s.CPU < 0 || s.Housekeeping < 0 || s.CPU == s.Housekeeping:
		return s, fmt.Errorf("-cpu %d, -housekeeping %d: want two different CPUs", s.CPU, s.Housekeeping)
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
	Oslat, Rxprobe runRec
	Observed       *runRec
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	s, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "benchjitter:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rounds, env, err := measure(ctx, s, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "benchjitter:", err)
		return 2
	}
	sum := summarize(rounds)
	md := markdown(s, env, rounds, sum, args)
	fmt.Fprintf(stdout, "\n%s", md)
	if s.Markdown != "" {
		if err := os.WriteFile(s.Markdown, []byte(md), 0o644); err != nil {
			fmt.Fprintln(stderr, "benchjitter:", err)
			return 2
		}
	}
	if s.Require > 0 && sum.MaxRatio > s.Require {
		fmt.Fprintf(stderr, "benchjitter: worst-gap ratio %.2f× is above the allowed %.2f×\n", sum.MaxRatio, s.Require)
		return 1
	}
	return 0
}

// measure runs the rounds and prints one line per run as it goes.
func measure(ctx context.Context, s settings, log io.Writer) ([]round, hostInfo, error) {
	if n := runtime.NumCPU(); s.CPU >= n || s.Housekeeping >= n {
		return nil, hostInfo{}, fmt.Errorf("-cpu %d, -housekeeping %d: this machine has CPUs 0..%d", s.CPU, s.Housekeeping, n-1)
	}
	for _, bin := range []string{s.Rxprobe, s.Oslat, "taskset"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, hostInfo{}, fmt.Errorf("%s: %w (rxprobe: `go build -o bin/rxprobe ./cmd/rxprobe`; oslat, taskset: Debian rt-tests, util-linux)", bin, err)
		}
	}
	if _, err := os.Stat(s.Config); err != nil {
		return nil, hostInfo{}, err
	}
	allCPUs, err := pinSelf(s.Housekeeping)
	if err != nil {
		return nil, hostInfo{}, err
	}
	dir, err := os.MkdirTemp("", "benchjitter-")
	if err != nil {
		return nil, hostInfo{}, err
	}
	env := gatherHost(s.Oslat)
	fmt.Fprintf(log, "benchjitter: %s; load average %s; oslat JSON, rxprobe reports and logs in %s\n", env.Model, env.LoadBefore, dir)
	if l1 := benchkit.Load1(); l1 > 0.25*float64(runtime.NumCPU()) {
		fmt.Fprintf(log, "benchjitter: WARNING: 1-min load %.2f on %d CPUs: other work competes for CPU %d; the tails measure that work, not the tools\n", l1, runtime.NumCPU(), s.CPU)
	}
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
	var rounds []round
	for i := 1; i <= s.Rounds; i++ {
		var r round
		r.Oslat.Tool, r.Oslat.Load1 = "oslat", benchkit.Load1()
		o, sh, err := runOslat(ctx, s, filepath.Join(dir, fmt.Sprintf("oslat-%d.json", i)), filepath.Join(dir, fmt.Sprintf("oslat-%d.log", i)))
		if err != nil {
			return nil, env, fmt.Errorf("round %d: %w", i, err)
		}
		r.Oslat.D, r.Oslat.Seconds, r.Oslat.CPUShare = o.Dist, o.Seconds, sh
		line(i, r.Oslat)

		rx := func(tool string, observe bool) (runRec, error) {
			rec := runRec{Tool: tool, Load1: benchkit.Load1()}
			name := fmt.Sprintf("%s-%d", tool, i)
			res, sh, obs, err := runRxprobe(ctx, s, allCPUs, filepath.Join(dir, name+".json"), filepath.Join(dir, name+".log"), observe)
			if err != nil {
				return rec, fmt.Errorf("round %d: %w", i, err)
			}
			rec.D, rec.Seconds, rec.CPUShare, rec.Polls, rec.Mpps, rec.Obs = res.Dist, res.Seconds, sh, res.Polls, res.Mpps, obs
			line(i, rec)
			return rec, nil
		}
		if r.Rxprobe, err = rx("rxprobe", false); err != nil {
			return nil, env, err
		}
		if s.Observe {
			o, err := rx("observed", true)
			if err != nil {
				return nil, env, err
			}
			if o.Obs.Scrapes == 0 {
				return nil, env, fmt.Errorf("round %d: the observed run's exporter was never scraped successfully (%d failures)", i, o.Obs.Failed)
			}
			r.Observed = &o
		}
		rounds = append(rounds, r)
	}
	env.LoadAfter = benchkit.Loadavg()
	return rounds, env, nil
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
}

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
	t.GridP99, t.GridP999, t.Share = medianI(g99), medianI(g999), medianF(share)
	for k := range thresholds {
		t.Rates[k] = medianF(rates[k])
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
	s.MaxRatio = ratio(float64(s.Rxprobe.Max), float64(s.Oslat.Max))
	return s
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.Inf(1)
	}
	return a / b
}

// hostInfo identifies the machine, the code and the oslat measured.
type hostInfo struct {
	benchkit.Host
	Oslat string
}

func gatherHost(oslat string) hostInfo {
	h := hostInfo{Host: benchkit.GatherHost(), Oslat: "unknown"}
	if out, err := exec.Command(oslat, "--version").CombinedOutput(); err == nil || len(out) > 0 {
		if v := oslatVersion(string(out)); v != "" {
			h.Oslat = v
		}
	}
	return h
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
