// Command benchrx compares rxprobe's RX poll loop with DPDK's own
// `dpdk-testpmd --forward-mode=rxonly` on the same net_null device, CPU,
// burst, ring and mempool, alternating the two tools round by round.
// See bench/README.md for the method.
//
// Exit status: 0 a result (and, with -require, the ratio was met), 1 a
// result but the ratio is below -require, 2 could not measure, 3 measured
// but not a result (LOADED machine or fewer than 5 rounds: the block is
// printed marked NOT A RESULT and -markdown is not written).
package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// settings is one benchmark's parameters, shared by both tools.
type settings struct {
	benchkit.Common
	Burst     int
	Seconds   float64
	Warmup    time.Duration
	Ring      int
	MbufCache int
	Mbufs     int
	DataRoom  int
	Device    string
	Testpmd   string
	Require   float64
}

func parseFlags(args []string, stderr io.Writer) (settings, error) {
	var s settings
	fs := benchkit.NewFlags("benchrx", stderr, &s.Common, 7)
	fs.IntVar(&s.Burst, "burst", fs.Env.Int("BENCH_BURST", 32), "packets per rx_burst (env BENCH_BURST)")
	fs.Float64Var(&s.Seconds, "seconds", fs.Env.Float("BENCH_SECONDS", 5), "measured seconds per run (env BENCH_SECONDS)")
	fs.DurationVar(&s.Warmup, "warmup", 1*time.Second, "testpmd: forwarding time before its window opens")
	fs.IntVar(&s.Ring, "ring", 1024, "RX descriptors")
	fs.IntVar(&s.MbufCache, "mbuf-cache", 256, "per-lcore mempool cache")
	fs.IntVar(&s.Mbufs, "mbufs", 4095, "mempool size (rxprobe's computed size for ring 1024, burst 32, cache 256)")
	fs.IntVar(&s.DataRoom, "mbuf-size", 2176, "mbuf data room, headroom included")
	fs.StringVar(&s.Device, "device", "net_null0", "DPDK vdev both tools poll")
	fs.StringVar(&s.Testpmd, "testpmd", fs.Env.String("TESTPMD", "dpdk-testpmd"), "testpmd binary (env TESTPMD)")
	fs.Float64Var(&s.Require, "require", 0, "exit 1 when rxprobe/testpmd (medians) is below this (0: report only)")
	if err := fs.Parse(args, &s.Common); err != nil {
		return s, err
	}
	switch {
	case s.Burst < 1 || s.Burst > 512:
		return s, fmt.Errorf("-burst %d: want 1..512", s.Burst)
	case s.Seconds < 1:
		return s, fmt.Errorf("-seconds %g: want at least 1", s.Seconds)
	case s.Mbufs < s.Ring+s.Burst:
		return s, fmt.Errorf("-mbufs %d cannot fill a ring of %d", s.Mbufs, s.Ring)
	}
	return s, nil
}

// tools in the order of odd rounds; even rounds run them reversed.
var tools = []string{"testpmd", "rxprobe"}

// round is one testpmd run and one rxprobe run, in either order.
type round struct {
	First       string // the tool that ran first
	Testpmd     testpmdResult
	Rxprobe     rxprobeResult
	LoadTestpmd float64 // 1-minute load average just before each run
	LoadRxprobe float64
}

func main() {
	os.Exit(benchkit.Main("benchrx", os.Args[1:], os.Stdout, os.Stderr, parseFlags, measure))
}

// outcome renders the rounds.
func outcome(s settings, h hostInfo, g *benchkit.Gate, rounds []round) benchkit.Outcome {
	st := summarize(rounds)
	o := benchkit.Outcome{Markdown: markdown(s, h, g, rounds, os.Args[1:]), Gate: g, MarkdownFile: s.Markdown,
		Summary: fmt.Sprintf("median: testpmd %.3f Mpps, rxprobe %.3f Mpps, ratio of medians rxprobe/testpmd %.3f×", st.Testpmd.Median, st.Rxprobe.Median, st.Ratio)}
	if s.Require > 0 && st.Ratio < s.Require {
		o.RequireFailed = fmt.Sprintf("ratio %.3f× is below the required %.2f×", st.Ratio, s.Require)
	}
	return o
}

// measure runs the rounds, printing one line per run as it goes.
func measure(ctx context.Context, s settings, log io.Writer) (benchkit.Outcome, error) {
	var none benchkit.Outcome
	if err := benchkit.Preflight(s.CPU, s.Housekeeping, "rxprobe: `make build`; dpdk-testpmd: Debian dpdk", s.Rxprobe, s.Testpmd); err != nil {
		return none, err
	}
	src, err := os.ReadFile(s.Config)
	if err != nil {
		return none, err
	}
	cfg, err := benchConfig(src, s)
	if err != nil {
		return none, err
	}
	env, err := gatherHost(s.Rxprobe)
	if err != nil {
		return none, err
	}
	dir, err := os.MkdirTemp("", "benchrx-")
	if err != nil {
		return none, err
	}
	cfgPath := filepath.Join(dir, "rxprobe.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		return none, err
	}
	g := benchkit.Begin("benchrx", env.Host, dir, log)
	fmt.Fprintf(log, "%-5s  %-7s  %9s  %12s  %8s  %s\n", "ROUND", "TOOL", "MPPS", "PACKETS", "LOAD1", "NOTE")
	var rounds []round
	for i := 1; i <= s.Rounds; i++ {
		var r round
		for k, t := range benchkit.Order(i, len(tools)) {
			if k == 0 {
				r.First = tools[t]
			}
			if err := runTool(ctx, s, tools[t], i, dir, cfgPath, &r, g, log); err != nil {
				return none, fmt.Errorf("round %d: %w", i, err)
			}
		}
		rounds = append(rounds, r)
	}
	g.Finish(&env.Host, len(rounds))
	return outcome(s, env, g, rounds), nil
}

// runTool runs one tool of round i, records it in r and the gate, and
// prints its line.
func runTool(ctx context.Context, s settings, tool string, i int, dir, cfgPath string, r *round, g *benchkit.Gate, log io.Writer) error {
	var err error
	load := benchkit.Load1()
	label := fmt.Sprintf("round %d %s", i, tool)
	if tool == "testpmd" {
		r.LoadTestpmd = load
		prefix := fmt.Sprintf("benchrx-tp-%d-%d", os.Getpid(), i)
		if r.Testpmd, err = runTestpmd(ctx, s, prefix, filepath.Join(dir, fmt.Sprintf("testpmd-%d.log", i))); err != nil {
			return err
		}
		g.Run(label, load, r.Testpmd.CPUShare)
		note := fmt.Sprintf("window %.3f s, packets/window %.3f Mpps, RX thread on CPU %.1f%%", r.Testpmd.Window.Seconds(), r.Testpmd.CheckMpps, 100*r.Testpmd.CPUShare)
		if r.Testpmd.Drops > 0 {
			note += fmt.Sprintf(", %d missed+nombuf", r.Testpmd.Drops)
		}
		fmt.Fprintf(log, "%-5d  %-7s  %9.3f  %12d  %8.2f  %s\n", i, tool, r.Testpmd.Mpps, r.Testpmd.Packets, load, note)
		return nil
	}
	r.LoadRxprobe = load
	if r.Rxprobe, err = runRxprobe(ctx, s, cfgPath, filepath.Join(dir, fmt.Sprintf("rxprobe-%d.json", i)), filepath.Join(dir, fmt.Sprintf("rxprobe-%d.log", i))); err != nil {
		return err
	}
	g.Run(label, load, r.Rxprobe.CPUShare)
	note := fmt.Sprintf("loop %.3f s, after 1 s %.3f Mpps, max gap %s, RX thread on CPU %.1f%%", r.Rxprobe.DurationS, r.Rxprobe.Steady, r.Rxprobe.MaxGap, 100*r.Rxprobe.CPUShare)
	if r.Rxprobe.Drops > 0 {
		note += fmt.Sprintf(", %d missed+nombuf", r.Rxprobe.Drops)
	}
	fmt.Fprintf(log, "%-5d  %-7s  %9.3f  %12d  %8.2f  %s\n", i, tool, r.Rxprobe.Mpps, r.Rxprobe.Packets, load, note)
	return nil
}

// stats are the figures over the rounds.
type stats struct {
	Testpmd, Rxprobe benchkit.Spread // Mpps
	// Ratios are rxprobe/testpmd per round; Ratio is the ratio of the
	// medians, the figure the goal applies to.
	Ratios      []float64
	RatioSpread benchkit.Spread
	Ratio       float64
	// OnCPU: the same for Mpps per on-CPU second.
	OnCPUTestpmd, OnCPURxprobe benchkit.Spread
	OnCPURatio                 float64
}

func summarize(rs []round) stats {
	var tp, rp, ot, or []float64
	for _, r := range rs {
		tp, rp = append(tp, r.Testpmd.Mpps), append(rp, r.Rxprobe.Mpps)
		ot, or = append(ot, perOnCPU(r.Testpmd.Mpps, r.Testpmd.CPUShare)), append(or, perOnCPU(r.Rxprobe.Mpps, r.Rxprobe.CPUShare))
	}
	st := stats{Testpmd: benchkit.SpreadOf(tp), Rxprobe: benchkit.SpreadOf(rp), Ratios: benchkit.Ratios(rp, tp),
		OnCPUTestpmd: benchkit.SpreadOf(ot), OnCPURxprobe: benchkit.SpreadOf(or)}
	st.RatioSpread = benchkit.SpreadOf(st.Ratios)
	st.Ratio = benchkit.Ratio(st.Rxprobe.Median, st.Testpmd.Median)
	st.OnCPURatio = benchkit.Ratio(st.OnCPURxprobe.Median, st.OnCPUTestpmd.Median)
	return st
}

// perOnCPU is Mpps per second the loop was on its CPU (0: share unknown).
func perOnCPU(mpps, share float64) float64 {
	if share <= 0 {
		return 0
	}
	return mpps / share
}

// hostInfo identifies the machine, the binary and the DPDK measured.
type hostInfo struct {
	benchkit.Host
	DPDK string
}

func gatherHost(rxprobe string) (hostInfo, error) {
	host, err := benchkit.GatherHost(rxprobe)
	h := hostInfo{Host: host}
	if out, err := exec.Command("pkg-config", "--modversion", "libdpdk").Output(); err == nil {
		h.DPDK = strings.TrimSpace(string(out))
	}
	return h, err
}

// goal is the target: rxprobe at least as fast as testpmd.
const goal = 1.0

// markdown renders the result block for bench/RESULTS.md.
func markdown(s settings, h hostInfo, g *benchkit.Gate, rs []round, args []string) string {
	var b strings.Builder
	st := summarize(rs)
	b.WriteString(benchkit.Heading("benchrx", h.Host, g, ", DPDK "+h.DPDK, args))
	fmt.Fprintf(&b, "- both tools: %s, RX CPU %d, housekeeping CPU %d, burst %d, %d RX descriptors, %d mbufs of %d B, cache %d; %d rounds × %g s (testpmd after %s warm-up), testpmd first in odd rounds, rxprobe first in even ones\n\n",
		s.Device, s.CPU, s.Housekeeping, s.Burst, s.Ring, s.Mbufs, s.DataRoom, s.MbufCache, len(rs), s.Seconds, s.Warmup)
	b.WriteString("| round | first | testpmd Mpps | rxprobe Mpps | ratio | RX thread on CPU (testpmd / rxprobe) | Mpps per on-CPU second (testpmd / rxprobe) | rxprobe after 1 s | rxprobe max loop gap | load1 (testpmd / rxprobe) |\n")
	b.WriteString("|------:|---|-------------:|-------------:|------:|------:|------:|------:|------:|------:|\n")
	for i, r := range rs {
		fmt.Fprintf(&b, "| %d | %s | %.3f | %.3f | %.3f | %.1f %% / %.1f %% | %.3f / %.3f | %.3f | %s | %.2f / %.2f |\n", i+1, r.First, r.Testpmd.Mpps, r.Rxprobe.Mpps,
			st.Ratios[i], 100*r.Testpmd.CPUShare, 100*r.Rxprobe.CPUShare, perOnCPU(r.Testpmd.Mpps, r.Testpmd.CPUShare), perOnCPU(r.Rxprobe.Mpps, r.Rxprobe.CPUShare),
			r.Rxprobe.Steady, r.Rxprobe.MaxGap.Round(time.Microsecond), r.LoadTestpmd, r.LoadRxprobe)
	}
	fmt.Fprintf(&b, "\n| over %d rounds | min | median | max |\n|---|---:|---:|---:|\n", len(rs))
	for _, row := range []struct {
		name string
		sp   benchkit.Spread
	}{
		{"testpmd Mpps", st.Testpmd}, {"rxprobe Mpps", st.Rxprobe}, {"per-round ratio rxprobe/testpmd", st.RatioSpread},
		{"testpmd Mpps per on-CPU second", st.OnCPUTestpmd}, {"rxprobe Mpps per on-CPU second", st.OnCPURxprobe},
	} {
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f |\n", row.name, row.sp.Min, row.sp.Median, row.sp.Max)
	}
	ratios := make([]string, len(st.Ratios))
	for i, r := range st.Ratios {
		ratios[i] = fmt.Sprintf("%.3f", r)
	}
	fig := fmt.Sprintf("%.3f×", st.Ratio)
	gl := g.Goal(fmt.Sprintf("rxprobe ≥%.2f× testpmd (ratio of medians)", goal), st.Ratio >= goal, fig)
	fmt.Fprintf(&b, "\nRatio of medians rxprobe/testpmd: %s; per round: %s; per on-CPU second: %.3f×.\n%s.\n\n", fig, strings.Join(ratios, ", "), st.OnCPURatio, gl)
	b.WriteString(benchkit.Verdict(g, fmt.Sprintf("rxprobe/testpmd %s over %d rounds (per round %.3f–%.3f×); %s", fig, len(rs), st.RatioSpread.Min, st.RatioSpread.Max, gl)))
	return b.String()
}
