// Command benchobserver measures rxprobe's observer effect on the RX CPU:
// how many TLB shootdowns (and function-call, rescheduling, timer
// interrupts) the stats thread and the exporter add to a C poll loop on
// net_null, against a run without them, and against two deliberately bad
// observers that must show an effect: stdio-style reads (a page mapped and
// unmapped per kernel file read) and the exporter served from inside the
// RX process with the garbage collector on. See bench/README.md.
//
// Exit status: 0 a result (and, with -require, rxprobe added nothing and
// both bad observers showed their effect), 1 a result but -require
// failed, 2 could not measure, 3 measured but not a result (LOADED machine
// or fewer than 5 rounds: the block is printed marked NOT A RESULT and
// -markdown is not written).
package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
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
	benchkit.Common
	Duration      time.Duration
	Warmup        time.Duration
	Tail          time.Duration
	StatsInterval time.Duration
	ScrapeHz      float64
	MetricsAddr   string
	Scenarios     []scenario
	Trace         bool
	GapThreshold  time.Duration
	Require       bool
}

func parseFlags(args []string, stderr io.Writer) (settings, error) {
	var s settings
	var names string
	fs := benchkit.NewFlags("benchobserver", stderr, &s.Common, 5)
	fs.DurationVar(&s.Duration, "duration", fs.Env.Duration("BENCH_DURATION", 60*time.Second), "length of each rxprobe run (env BENCH_DURATION)")
	fs.DurationVar(&s.Warmup, "warmup", 5*time.Second, "the window opens this long after the run's ready file appears")
	fs.DurationVar(&s.Tail, "tail", 2*time.Second, "the window closes this long before the run's end")
	fs.DurationVar(&s.StatsInterval, "stats-interval", 100*time.Millisecond, "rxprobe --stats-interval")
	fs.Float64Var(&s.ScrapeHz, "scrape-hz", 10, "GETs of /metrics per second")
	fs.StringVar(&s.MetricsAddr, "metrics-addr", "127.0.0.1:9470", "rxprobe --metrics-addr; must be free before each run")
	fs.StringVar(&names, "scenarios", "baseline,rxprobe,stdio,inprocess", "scenarios to run (baseline is required)")
	fs.BoolVar(&s.Trace, "trace", true, "also attribute TLB shootdowns with tlb:tlb_flush in a tracefs instance of the bench's own")
	fs.DurationVar(&s.GapThreshold, "gap-threshold", 10*time.Microsecond, "count loop gaps above the first histogram bound at or above this")
	fs.BoolVar(&s.Require, "require", false, "exit 1 unless rxprobe adds no TLB shootdowns and stdio and inprocess both show an effect")
	if err := fs.Parse(args, &s.Common); err != nil {
		return s, err
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
	}
	return s, nil
}

func main() {
	os.Exit(benchkit.Main("benchobserver", os.Args[1:], os.Stdout, os.Stderr, parseFlags, measure))
}

// outcome renders the runs; -require needs every check to pass.
func outcome(s settings, h hostInfo, g *benchkit.Gate, res []result) benchkit.Outcome {
	sum := summarize(s, res)
	o := benchkit.Outcome{Markdown: markdown(s, h, g, res, sum, os.Args[1:]), Gate: g, MarkdownFile: s.Markdown}
	if s.Require && !sum.Pass {
		o.RequireFailed = sum.Failure
	}
	return o
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
