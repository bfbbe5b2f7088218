// Command benchrx compares rxprobe's RX poll loop with DPDK's own
// `dpdk-testpmd --forward-mode=rxonly` on the same net_null device, CPU,
// burst, ring and mempool, alternating the two tools round by round.
// See bench/README.md for the method.
//
// Exit status: 0 measured (and, with -require, the target was met),
// 1 measured but the ratio is below -require, 2 could not measure.
package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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

// settings is one benchmark's parameters, shared by both tools.
type settings struct {
	Burst        int
	Rounds       int
	Seconds      float64
	Warmup       time.Duration
	CPU          int
	Housekeeping int
	Ring         int
	MbufCache    int
	Mbufs        int
	DataRoom     int
	Device       string
	Config       string
	Rxprobe      string
	Testpmd      string
	Markdown     string
	Require      float64
}

// env.Errs collects environment variables that are set but do not parse:
// a typo there must not silently measure the default.
// env gives flags their defaults from BENCH_* variables.
var env benchkit.Env

func parseFlags(args []string, stderr io.Writer) (settings, error) {
	var s settings
	env = benchkit.Env{}
	fs := flag.NewFlagSet("benchrx", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&s.Burst, "burst", env.Int("BENCH_BURST", 32), "packets per rx_burst (env BENCH_BURST)")
	fs.IntVar(&s.Rounds, "rounds", env.Int("BENCH_ROUNDS", 3), "rounds; each runs testpmd then rxprobe (env BENCH_ROUNDS)")
	fs.Float64Var(&s.Seconds, "seconds", env.Float("BENCH_SECONDS", 5), "measured seconds per run (env BENCH_SECONDS)")
	fs.DurationVar(&s.Warmup, "warmup", 1*time.Second, "testpmd: forwarding time before its window opens")
	fs.IntVar(&s.CPU, "cpu", env.Int("BENCH_RX_CPU", 1), "CPU of the RX loop / forwarding lcore (env BENCH_RX_CPU)")
	fs.IntVar(&s.Housekeeping, "housekeeping", env.Int("BENCH_HK_CPU", 0), "CPU of EAL's main lcore (env BENCH_HK_CPU)")
	fs.IntVar(&s.Ring, "ring", 1024, "RX descriptors")
	fs.IntVar(&s.MbufCache, "mbuf-cache", 256, "per-lcore mempool cache")
	fs.IntVar(&s.Mbufs, "mbufs", 4095, "mempool size (rxprobe's computed size for ring 1024, burst 32, cache 256)")
	fs.IntVar(&s.DataRoom, "mbuf-size", 2176, "mbuf data room, headroom included")
	fs.StringVar(&s.Device, "device", "net_null0", "DPDK vdev both tools poll")
	fs.StringVar(&s.Config, "config", "configs/null.yaml", "rxprobe config the run config is derived from")
	fs.StringVar(&s.Rxprobe, "rxprobe", env.String("RXPROBE", "bin/rxprobe"), "rxprobe binary (env RXPROBE)")
	fs.StringVar(&s.Testpmd, "testpmd", env.String("TESTPMD", "dpdk-testpmd"), "testpmd binary (env TESTPMD)")
	fs.StringVar(&s.Markdown, "markdown", "", "also write the Markdown result block to this file")
	fs.Float64Var(&s.Require, "require", 0, "exit 1 when rxprobe/testpmd (medians) is below this (0: report only)")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	switch {
	case len(env.Errs) > 0:
		return s, errors.Join(env.Errs...)
	case fs.NArg() > 0:
		return s, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case s.Burst < 1 || s.Burst > 512:
		return s, fmt.Errorf("-burst %d: want 1..512", s.Burst)
	case s.Rounds < 1:
		return s, fmt.Errorf("-rounds %d: want at least 1", s.Rounds)
	case s.Seconds < 1:
		return s, fmt.Errorf("-seconds %g: want at least 1", s.Seconds)
	case s.CPU < 0 || s.Housekeeping < 0 || s.CPU == s.Housekeeping:
		return s, fmt.Errorf("-cpu %d, -housekeeping %d: want two different CPUs", s.CPU, s.Housekeeping)
	case s.Mbufs < s.Ring+s.Burst:
		return s, fmt.Errorf("-mbufs %d cannot fill a ring of %d", s.Mbufs, s.Ring)
	}
	return s, nil
}

// round is one testpmd run followed by one rxprobe run.
type round struct {
	Testpmd     testpmdResult
	Rxprobe     rxprobeResult
	LoadTestpmd float64 // 1-minute load average just before each run
	LoadRxprobe float64
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
		fmt.Fprintln(stderr, "benchrx:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rounds, env, err := measure(ctx, s, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "benchrx:", err)
		return 2
	}
	tp, rp := medians(rounds)
	ratio := rp / tp
	md := markdown(s, env, rounds, args)
	fmt.Fprintf(stdout, "\nmedian: testpmd %.3f Mpps, rxprobe %.3f Mpps, ratio rxprobe/testpmd %.3f×\n\n", tp, rp, ratio)
	fmt.Fprint(stdout, md)
	if s.Markdown != "" {
		if err := os.WriteFile(s.Markdown, []byte(md), 0o644); err != nil {
			fmt.Fprintln(stderr, "benchrx:", err)
			return 2
		}
	}
	if s.Require > 0 && ratio < s.Require {
		fmt.Fprintf(stderr, "benchrx: ratio %.3f× is below the required %.2f×\n", ratio, s.Require)
		return 1
	}
	return 0
}

// measure runs the rounds and prints one line per run as it goes.
func measure(ctx context.Context, s settings, log io.Writer) ([]round, hostInfo, error) {
	if n := runtime.NumCPU(); s.CPU >= n || s.Housekeeping >= n {
		return nil, hostInfo{}, fmt.Errorf("-cpu %d, -housekeeping %d: this machine has CPUs 0..%d", s.CPU, s.Housekeeping, n-1)
	}
	for _, bin := range []string{s.Rxprobe, s.Testpmd} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, hostInfo{}, fmt.Errorf("%s: %w (build rxprobe with `go build -o bin/rxprobe ./cmd/rxprobe`)", bin, err)
		}
	}
	src, err := os.ReadFile(s.Config)
	if err != nil {
		return nil, hostInfo{}, err
	}
	cfg, err := benchConfig(src, s)
	if err != nil {
		return nil, hostInfo{}, err
	}
	dir, err := os.MkdirTemp("", "benchrx-")
	if err != nil {
		return nil, hostInfo{}, err
	}
	cfgPath := filepath.Join(dir, "rxprobe.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		return nil, hostInfo{}, err
	}
	env := gatherHost()
	fmt.Fprintf(log, "benchrx: %s; load average %s; logs and reports in %s\n", env.Model, env.LoadBefore, dir)
	if l1 := benchkit.Load1(); l1 > 0.25*float64(runtime.NumCPU()) {
		fmt.Fprintf(log, "benchrx: WARNING: 1-min load %.2f on %d CPUs: other work competes for the RX CPU; figures are not representative\n", l1, runtime.NumCPU())
	}
	fmt.Fprintf(log, "%-5s  %-7s  %9s  %12s  %8s  %s\n", "ROUND", "TOOL", "MPPS", "PACKETS", "LOAD1", "NOTE")
	var rounds []round
	for i := 1; i <= s.Rounds; i++ {
		var r round
		prefix := fmt.Sprintf("benchrx-tp-%d-%d", os.Getpid(), i)
		r.LoadTestpmd = benchkit.Load1()
		r.Testpmd, err = runTestpmd(ctx, s, prefix, filepath.Join(dir, fmt.Sprintf("testpmd-%d.log", i)))
		if err != nil {
			return nil, env, fmt.Errorf("round %d: %w", i, err)
		}
		note := fmt.Sprintf("window %.3f s, packets/window %.3f Mpps, RX thread on CPU %.1f%%", r.Testpmd.Window.Seconds(), r.Testpmd.CheckMpps, 100*r.Testpmd.CPUShare)
		if r.Testpmd.Drops > 0 {
			note += fmt.Sprintf(", %d missed+nombuf", r.Testpmd.Drops)
		}
		fmt.Fprintf(log, "%-5d  %-7s  %9.3f  %12d  %8.2f  %s\n", i, "testpmd", r.Testpmd.Mpps, r.Testpmd.Packets, r.LoadTestpmd, note)

		r.LoadRxprobe = benchkit.Load1()
		r.Rxprobe, err = runRxprobe(ctx, s, cfgPath, filepath.Join(dir, fmt.Sprintf("rxprobe-%d.json", i)), filepath.Join(dir, fmt.Sprintf("rxprobe-%d.log", i)))
		if err != nil {
			return nil, env, fmt.Errorf("round %d: %w", i, err)
		}
		note = fmt.Sprintf("loop %.3f s, after 1 s %.3f Mpps, max gap %s, RX thread on CPU %.1f%%", r.Rxprobe.DurationS, r.Rxprobe.Steady, r.Rxprobe.MaxGap, 100*r.Rxprobe.CPUShare)
		if r.Rxprobe.Drops > 0 {
			note += fmt.Sprintf(", %d missed+nombuf", r.Rxprobe.Drops)
		}
		fmt.Fprintf(log, "%-5d  %-7s  %9.3f  %12d  %8.2f  %s\n", i, "rxprobe", r.Rxprobe.Mpps, r.Rxprobe.Packets, r.LoadRxprobe, note)
		rounds = append(rounds, r)
	}
	env.LoadAfter = benchkit.Loadavg()
	return rounds, env, nil
}

// median of xs (xs is not modified); 0 for none.

func medians(rs []round) (testpmd, rxprobe float64) {
	var a, b []float64
	for _, r := range rs {
		a = append(a, r.Testpmd.Mpps)
		b = append(b, r.Rxprobe.Mpps)
	}
	return benchkit.Median(a), benchkit.Median(b)
}

// hostInfo identifies the machine, the code and the DPDK measured.
type hostInfo struct {
	benchkit.Host
	DPDK string
}

func gatherHost() hostInfo {
	h := hostInfo{Host: benchkit.GatherHost()}
	if out, err := exec.Command("pkg-config", "--modversion", "libdpdk").Output(); err == nil {
		h.DPDK = strings.TrimSpace(string(out))
	}
	return h
}

// markdown renders the result block for bench/RESULTS.md.
func markdown(s settings, h hostInfo, rs []round, args []string) string {
	var b strings.Builder
	tp, rp := medians(rs)
	fmt.Fprintf(&b, "### %s — commit %s\n\n", h.Date, h.Commit)
	fmt.Fprintf(&b, "- machine: %s, %d CPUs, kernel %s, DPDK %s\n", h.Model, h.CPUs, h.Kernel, h.DPDK)
	loaded := "quiet"
	if l := firstFloat(h.LoadBefore); l > 0.25*float64(h.CPUs) {
		loaded = "LOADED: other work shared the CPUs, figures are not representative"
	}
	fmt.Fprintf(&b, "- load average (1/5/15 min) before: %s, after: %s (%s)\n", h.LoadBefore, h.LoadAfter, loaded)
	cmd := "benchrx"
	if len(args) > 0 {
		cmd += " " + strings.Join(args, " ")
	}
	fmt.Fprintf(&b, "- command: `%s`\n", cmd)
	fmt.Fprintf(&b, "- both tools: %s, RX CPU %d, housekeeping CPU %d, burst %d, %d RX descriptors, %d mbufs of %d B, cache %d; %d rounds × %g s (testpmd after %s warm-up)\n\n",
		s.Device, s.CPU, s.Housekeeping, s.Burst, s.Ring, s.Mbufs, s.DataRoom, s.MbufCache, len(rs), s.Seconds, s.Warmup)
	fmt.Fprintf(&b, "| round | testpmd Mpps | rxprobe Mpps | ratio | RX thread on CPU (testpmd / rxprobe) | Mpps per on-CPU second (testpmd / rxprobe) | rxprobe after 1 s | rxprobe max loop gap | load1 (testpmd / rxprobe) |\n")
	fmt.Fprintf(&b, "|------:|-------------:|-------------:|------:|------:|------:|------:|------:|------:|\n")
	var perT, perR []float64
	for i, r := range rs {
		pt, pr := ratioOf(r.Testpmd.Mpps, r.Testpmd.CPUShare), ratioOf(r.Rxprobe.Mpps, r.Rxprobe.CPUShare)
		perT, perR = append(perT, pt), append(perR, pr)
		fmt.Fprintf(&b, "| %d | %.3f | %.3f | %.3f | %.1f %% / %.1f %% | %.3f / %.3f | %.3f | %s | %.2f / %.2f |\n", i+1, r.Testpmd.Mpps, r.Rxprobe.Mpps,
			ratioOf(r.Rxprobe.Mpps, r.Testpmd.Mpps), 100*r.Testpmd.CPUShare, 100*r.Rxprobe.CPUShare, pt, pr,
			r.Rxprobe.Steady, r.Rxprobe.MaxGap.Round(time.Microsecond), r.LoadTestpmd, r.LoadRxprobe)
	}
	fmt.Fprintf(&b, "| **median** | **%.3f** | **%.3f** | **%.3f** | | %.3f / %.3f (ratio %.3f) | | | |\n\n", tp, rp, ratioOf(rp, tp),
		benchkit.Median(perT), benchkit.Median(perR), ratioOf(benchkit.Median(perR), benchkit.Median(perT)))
	verdict := "met"
	if ratioOf(rp, tp) < 1 {
		verdict = "NOT met"
	}
	fmt.Fprintf(&b, "Ratio of medians rxprobe/testpmd: %.3f× (target ≥ 1.00×: %s).\n", ratioOf(rp, tp), verdict)
	return b.String()
}

func ratioOf(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func firstFloat(s string) float64 {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
