// Command benchobserver measures rxprobe's observer effect on the RX CPU:
// how many TLB shootdowns (and function-call, rescheduling, timer
// interrupts) the stats thread and the exporter add to a C poll loop on
// net_null, against a run without them, and against two deliberately bad
// observers that must show an effect: stdio-style reads (a page mapped and
// unmapped per kernel file read) and the exporter served from inside the
// RX process with the garbage collector on. See bench/README.md.
//
// Exit status: 0 measured (and, with -require, rxprobe added nothing and
// both bad observers showed their effect), 1 measured but -require failed,
// 2 could not measure.
package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// scenario is one way of running rxprobe.
type scenario struct {
	Name  string
	Flags []string // extra `rxprobe run` flags
	// Exporter: the run serves /metrics at settings.MetricsAddr; otherwise
	// the scraper talks to the bench's dummy server.
	Exporter bool
	What     string
}

var allScenarios = []scenario{
	{Name: "baseline", Flags: []string{"--debug-no-stats"}, What: "no stats thread, no exporter (scraper hits a dummy server in the bench)"},
	{Name: "rxprobe", Exporter: true, What: "default: stats thread every interval + exporter child process"},
	{Name: "stdio", Flags: []string{"--debug-stdio-reads"}, Exporter: true, What: "as rxprobe, plus mmap+munmap of a page per kernel file read (glibc FILE)"},
	{Name: "inprocess", Flags: []string{"--metrics-inprocess"}, Exporter: true, What: "stats thread + /metrics served inside the RX process, GC on"},
}

type settings struct {
	Duration      time.Duration
	Rounds        int
	Warmup        time.Duration
	Tail          time.Duration
	StatsInterval time.Duration
	ScrapeHz      float64
	CPU           int
	Housekeeping  int
	MetricsAddr   string
	Config        string
	Rxprobe       string
	Markdown      string
	Scenarios     []scenario
	Trace         bool
	GapThreshold  time.Duration
	Require       bool
}

// env gives flags their defaults from BENCH_* variables.
var env benchkit.Env

func parseFlags(args []string, stderr io.Writer) (settings, error) {
	var s settings
	env = benchkit.Env{}
	var names string
	fs := flag.NewFlagSet("benchobserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&s.Duration, "duration", env.Duration("BENCH_DURATION", 60*time.Second), "length of each rxprobe run (env BENCH_DURATION)")
	fs.IntVar(&s.Rounds, "rounds", env.Int("BENCH_ROUNDS", 2), "rounds; each runs every scenario once, order reversed every other round (env BENCH_ROUNDS)")
	fs.DurationVar(&s.Warmup, "warmup", 5*time.Second, "the window opens this long after the run's ready file appears")
	fs.DurationVar(&s.Tail, "tail", 2*time.Second, "the window closes this long before the run's end")
	fs.DurationVar(&s.StatsInterval, "stats-interval", 100*time.Millisecond, "rxprobe --stats-interval")
	fs.Float64Var(&s.ScrapeHz, "scrape-hz", 10, "GETs of /metrics per second")
	fs.IntVar(&s.CPU, "cpu", env.Int("BENCH_RX_CPU", 1), "the RX CPU of the config, where interrupts are counted (env BENCH_RX_CPU)")
	fs.IntVar(&s.Housekeeping, "housekeeping", env.Int("BENCH_HK_CPU", 0), "CPU the bench process pins itself to (env BENCH_HK_CPU)")
	fs.StringVar(&s.MetricsAddr, "metrics-addr", "127.0.0.1:9470", "rxprobe --metrics-addr; must be free before each run")
	fs.StringVar(&s.Config, "config", "configs/null.yaml", "rxprobe config (one net_null port on -cpu)")
	fs.StringVar(&s.Rxprobe, "rxprobe", env.String("RXPROBE", "bin/rxprobe"), "rxprobe binary (env RXPROBE)")
	fs.StringVar(&s.Markdown, "markdown", "", "also write the Markdown result block to this file")
	fs.StringVar(&names, "scenarios", "baseline,rxprobe,stdio,inprocess", "scenarios to run (baseline is required)")
	fs.BoolVar(&s.Trace, "trace", true, "also attribute TLB shootdowns with tlb:tlb_flush in a tracefs instance of the bench's own")
	fs.DurationVar(&s.GapThreshold, "gap-threshold", 10*time.Microsecond, "count loop gaps above the first histogram bound at or above this")
	fs.BoolVar(&s.Require, "require", false, "exit 1 unless rxprobe adds no TLB shootdowns and stdio and inprocess both show an effect")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if len(env.Errs) > 0 {
		return s, errors.Join(env.Errs...)
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	seen := map[string]bool{}
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, sc := range allScenarios {
			if sc.Name == n && !seen[n] {
				s.Scenarios, seen[n], found = append(s.Scenarios, sc), true, true
			}
		}
		if !found {
			return s, fmt.Errorf("-scenarios: %q is not one of baseline, rxprobe, stdio, inprocess (or given twice)", n)
		}
	}
	switch {
	case !seen["baseline"]:
		return s, errors.New("-scenarios: baseline is required (everything is compared with it)")
	case s.Rounds < 1:
		return s, fmt.Errorf("-rounds %d: want at least 1", s.Rounds)
	case s.Warmup < 3*time.Second:
		// rxprobe's steady-state heap window starts 2 s after launch.
		return s, fmt.Errorf("-warmup %s: want at least 3s (past rxprobe's own 2 s warm-up)", s.Warmup)
	case s.Tail < 0:
		return s, fmt.Errorf("-tail %s is negative", s.Tail)
	case s.Duration < s.Warmup+s.Tail+5*time.Second:
		return s, fmt.Errorf("-duration %s: want at least warm-up + tail + 5s = %s", s.Duration, s.Warmup+s.Tail+5*time.Second)
	case s.StatsInterval <= 0:
		return s, fmt.Errorf("-stats-interval %s: want > 0", s.StatsInterval)
	case s.ScrapeHz <= 0 || s.ScrapeHz > 1000:
		return s, fmt.Errorf("-scrape-hz %g: want 0 < Hz ≤ 1000", s.ScrapeHz)
	case s.CPU < 0 || s.Housekeeping < 0 || s.CPU == s.Housekeeping:
		return s, fmt.Errorf("-cpu %d, -housekeeping %d: want two different CPUs", s.CPU, s.Housekeeping)
	}
	return s, nil
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
		fmt.Fprintln(stderr, "benchobserver:", err)
		return 2
	}
	if err := pinProcess(s.Housekeeping); err != nil {
		fmt.Fprintln(stderr, "benchobserver:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, env, err := measure(ctx, s, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "benchobserver:", err)
		return 2
	}
	sum := summarize(s, res)
	md := markdown(s, env, res, sum, args)
	fmt.Fprintf(stdout, "\n%s", md)
	if s.Markdown != "" {
		if err := os.WriteFile(s.Markdown, []byte(md), 0o644); err != nil {
			fmt.Fprintln(stderr, "benchobserver:", err)
			return 2
		}
	}
	if s.Require && !sum.Pass {
		fmt.Fprintln(stderr, "benchobserver: -require: "+sum.Failure)
		return 1
	}
	return 0
}

// pinProcess confines every thread of the bench (the Go runtime's
// threads exist already; later ones inherit the mask) to CPU cpu, so the
// bench's own scraper, GC and munmaps never run on the RX CPU: its
// address space is then never loaded there, and its shootdowns never
// target it.
func pinProcess(cpu int) error {
	if cpu >= runtime.NumCPU() {
		return fmt.Errorf("-housekeeping %d: this machine has CPUs 0..%d", cpu, runtime.NumCPU()-1)
	}
	var set unix.CPUSet
	set.Set(cpu)
	// A thread created while the loop runs inherits the mask of its
	// creator, which may not be pinned yet: go over the list until every
	// thread has the mask.
	for pass := 0; pass < 5; pass++ {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		all := true
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			var cur unix.CPUSet
			if err := unix.SchedGetaffinity(tid, &cur); err == nil && cur == set {
				continue
			}
			all = false
			if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("pin thread %d to CPU %d: %w", tid, cpu, err)
			}
		}
		if all {
			return nil
		}
	}
	return fmt.Errorf("pin to CPU %d: threads kept appearing unpinned", cpu)
}
