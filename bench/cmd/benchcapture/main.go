// Command benchcapture measures rxprobe's packet capture (issue 10)
// against the physical limit of the target and two anchors on the same
// feed: the O_DIRECT write bandwidth of a tmpfs and a disk directory;
// for rxprobe, dpdk-dumpcap (with dpdk-testpmd as its primary) and
// tcpdump -w, the highest offered rate captured with zero drops and the
// drop share at a fixed overload, for 64- and 1518-byte frames, to tmpfs
// and to disk; and the capture's cost on the RX loop (net_null). See
// bench/README.md for the method.
//
// Exit status: 0 a result, 2 could not measure, 3 measured but not a
// result (LOADED machine or fewer than 5 rounds).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/rxprobe/rxprobe/bench/internal/benchkit"
)

// settings are the harness's parameters.
type settings struct {
	benchkit.Common
	Quick         bool
	Seconds       float64 // generator seconds per trial of the rounds
	SearchSeconds float64 // and of the search
	CostSeconds   float64 // per RX-cost run
	Steps         int     // bisections of the zero-drop search
	Lo, Hi        float64 // search bracket, pps
	Overload      float64 // asked pps of the overload trials
	Snaplen       int
	PMD           string // af_xdp or af_packet: rxprobe's and testpmd's port on the veth
	GenPMD        string // af_xdp or af_packet: the generator's port on the veth's other end
	Ring          int
	DiskDir       string
	TmpfsMB       int
	BandwidthMB   int
	Testpmd       string
	Dumpcap       string
	JSON          string
	Sizes         []int
	Targets       []string
}

func parseFlags(args []string, stderr io.Writer) (settings, error) {
	var s settings
	fs := benchkit.NewFlags("benchcapture", stderr, &s.Common, 5)
	fs.BoolVar(&s.Quick, "quick", false, "a ~4 min smoke run: 1 round, 1 s trials, no bisection (never a result)")
	fs.Float64Var(&s.Seconds, "seconds", fs.Env.Float("BENCH_SECONDS", 2), "traffic seconds per capture trial of the rounds (env BENCH_SECONDS)")
	fs.Float64Var(&s.SearchSeconds, "search-seconds", 1, "traffic seconds per trial of the zero-drop search")
	fs.Float64Var(&s.CostSeconds, "cost-seconds", 2, "seconds per RX-cost run on net_null")
	fs.IntVar(&s.Steps, "steps", 3, "bisection steps of the zero-drop search")
	fs.Float64Var(&s.Lo, "lo", 10000, "lowest rate of the veth search, pps")
	fs.Float64Var(&s.Hi, "hi", 1e6, "highest rate of the search, pps")
	fs.Float64Var(&s.Overload, "overload", 2e6, "asked rate of the overload trials, pps (above what the veth carries: the generator sends what it can)")
	fs.IntVar(&s.Snaplen, "snaplen", 1518, "snaplen of every tool")
	fs.StringVar(&s.PMD, "pmd", "af_xdp", "af_xdp or af_packet: the PMD rxprobe and testpmd poll the veth with")
	fs.StringVar(&s.GenPMD, "gen-pmd", "af_xdp", "af_xdp or af_packet: the PMD the generator sends with (AF_XDP feeds the veth faster: ~0.84 against ~0.54 Mpps of 64 B frames here)")
	fs.IntVar(&s.Ring, "ring", 4096, "RX descriptors (AF_XDP) or ring frames (AF_PACKET) of rxprobe's and testpmd's port")
	fs.StringVar(&s.DiskDir, "disk-dir", "/var/tmp", "the disk target: a directory is made (and removed) under it")
	fs.IntVar(&s.TmpfsMB, "tmpfs-mb", 6144, "size of the tmpfs target the harness mounts")
	fs.IntVar(&s.BandwidthMB, "bandwidth-mb", 2048, "MB written per bandwidth measurement")
	fs.StringVar(&s.Testpmd, "testpmd", fs.Env.String("TESTPMD", "dpdk-testpmd"), "testpmd binary, dumpcap's primary (env TESTPMD)")
	fs.StringVar(&s.Dumpcap, "dumpcap", "dpdk-dumpcap", "dumpcap binary")
	fs.StringVar(&s.JSON, "json", "bin/benchcapture.json", "write every trial's raw figures (search and rounds) to this JSON file")
	if err := fs.Parse(args, &s.Common); err != nil {
		return s, err
	}
	if s.Quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, apply := range map[string]func(){
			"rounds": func() { s.Rounds = 1 }, "seconds": func() { s.Seconds = 1 }, "steps": func() { s.Steps = 0 },
			"cost-seconds": func() { s.CostSeconds = 1 }, "bandwidth-mb": func() { s.BandwidthMB = 512 },
		} {
			if !set[name] {
				apply()
			}
		}
	}
	s.Sizes, s.Targets = []int{60, 1514}, []string{"tmpfs", "disk"}
	switch {
	case s.Seconds < 0.5 || s.SearchSeconds < 0.5:
		return s, fmt.Errorf("-seconds %g, -search-seconds %g: want at least 0.5", s.Seconds, s.SearchSeconds)
	case s.Lo <= 0 || s.Hi < s.Lo:
		return s, fmt.Errorf("-lo %g, -hi %g: want 0 < lo ≤ hi", s.Lo, s.Hi)
	case s.Steps < 0 || s.Steps > 10:
		return s, fmt.Errorf("-steps %d: want 0..10", s.Steps)
	case s.Snaplen < 64 || s.Snaplen > 9216:
		return s, fmt.Errorf("-snaplen %d: want 64..9216", s.Snaplen)
	case s.PMD != "af_xdp" && s.PMD != "af_packet":
		return s, fmt.Errorf("-pmd %q: want af_xdp or af_packet", s.PMD)
	case s.GenPMD != "af_xdp" && s.GenPMD != "af_packet":
		return s, fmt.Errorf("-gen-pmd %q: want af_xdp or af_packet", s.GenPMD)
	case s.BandwidthMB < 64:
		return s, fmt.Errorf("-bandwidth-mb %d: want at least 64", s.BandwidthMB)
	}
	return s, nil
}

// tools in the order of odd rounds; even rounds run them reversed.
var tools = []string{"rxprobe", "dumpcap", "tcpdump"}

// combo is one frame size to one target.
type combo struct {
	Size   int
	Target string
}

// results is everything measured.
type results struct {
	Bandwidth map[string]bandwidth    `json:"bandwidth"`
	Search    map[string]searchResult `json:"-"`
	Rounds    []trial                 `json:"rounds"` // the rounds' trials, "at" rate and overload
	Calib     map[string][]trial      `json:"search_trials"`
	Cost      []costRun               `json:"rx_cost"`
	Versions  map[string]string       `json:"versions"`
}

func key(tool string, c combo) string { return fmt.Sprintf("%s/%d/%s", tool, c.Size, c.Target) }

func main() {
	os.Exit(benchkit.Main("benchcapture", os.Args[1:], os.Stdout, os.Stderr, parseFlags, measure))
}

// measure runs everything, cleaning up whatever it set up on every path
// (an interrupt included: benchkit.Main cancels ctx).
func measure(ctx context.Context, s settings, logw io.Writer) (benchkit.Outcome, error) {
	var none benchkit.Outcome
	if os.Geteuid() != 0 {
		return none, errors.New("needs root (veth, netns, mount, DPDK)")
	}
	if err := benchkit.Preflight(s.CPU, s.Housekeeping, "make build; apt-get install dpdk dpdk-dev tcpdump wireshark-common iproute2 util-linux (make bench-capture installs tcpdump and fio)",
		s.Rxprobe, s.Testpmd, s.Dumpcap, "tcpdump", "capinfos", "ip", "taskset", "sysctl", "stdbuf"); err != nil {
		return none, err
	}
	base, err := os.ReadFile(s.Config)
	if err != nil {
		return none, err
	}
	host, err := benchkit.GatherHost(s.Rxprobe)
	if err != nil {
		return none, err
	}
	log := func(format string, a ...any) { fmt.Fprintf(logw, format+"\n", a...) }
	cl := &cleanup{log: logw}
	defer cl.run()
	work, err := makeDir(cl, os.TempDir(), "benchcapture-")
	if err != nil {
		return none, err
	}
	tmpfs, err := mountTmpfs(cl, os.TempDir(), s.TmpfsMB)
	if err != nil {
		return none, err
	}
	disk, err := makeDir(cl, s.DiskDir, "benchcapture-disk-")
	if err != nil {
		return none, err
	}
	dirs := map[string]string{"tmpfs": tmpfs, "disk": disk}
	v, err := newVeth(cl)
	if err != nil {
		return none, err
	}
	f := &feed{s: s, v: v, work: work, genCfg: work + "/gen.yaml"}
	if err := os.WriteFile(f.genCfg, []byte(genConfig(s, v, s.CPU, s.Housekeeping)), 0o644); err != nil {
		return none, err
	}
	if out, err := exec.Command("ldd", lookPath(s.Testpmd)).Output(); err == nil {
		f.preload = dumpcapPreload(string(out))
	}
	res := results{Bandwidth: map[string]bandwidth{}, Search: map[string]searchResult{}, Calib: map[string][]trial{}, Versions: versions(s, host)}
	began := time.Now()
	// Three busy loops of its own in a trial: the RX poll loop (rxprobe's
	// or testpmd's), the generator, and the capture consumer (rxprobe's
	// writer, dpdk-dumpcap's ring loop with its 10 µs sleeps, tcpdump), so
	// the load average alone cannot tell other work: the CPU time of every
	// process outside the harness's tree is measured too (Foreign).
	g := benchkit.Begin("benchcapture", host, work, logw).OwnLoops(3)
	foreign := &benchkit.Foreign{}
	foreign.Start()
	log("benchcapture: veth %s (netns %s), tmpfs %s, disk %s; dumpcap LD_PRELOAD=%q; about %s", v.A, v.NS, tmpfs, disk, f.preload, estimate(s).Round(time.Minute))

	// 1. the physical limit, right before the capture trials
	for _, target := range s.Targets {
		b, err := measureBandwidth(ctx, target, dirs[target], s.BandwidthMB)
		if err != nil {
			return none, err
		}
		res.Bandwidth[target] = b
		log("bandwidth %-5s %8.0f MB/s  direct=%v  (%s)", target, b.MBps, b.Direct, b.Tool)
	}
	run := func(tool string, c combo) func(context.Context, float64) (trial, error) {
		return func(ctx context.Context, pps float64) (trial, error) {
			dir := dirs[c.Target]
			defer func() { _ = emptyDir(dir) }()
			var t trial
			var err error
			switch tool {
			case "rxprobe":
				t, err = f.runRxprobe(ctx, pps, c.Size, c.Target, dir)
			case "dumpcap":
				t, err = f.runDumpcap(ctx, pps, c.Size, c.Target, dir)
			default:
				t, err = f.runTcpdump(ctx, pps, c.Size, c.Target, dir)
			}
			if err == nil {
				log("  %-7s %4d B %-5s asked %8.0f pps  offered %8.0f pps  written %9d/%-9d  drop %6.2f %%  tool drops %d  %6.1f MB/s  %s",
					tool, c.Size, c.Target, pps, t.OfferedPS, t.Written, t.Offered, t.DropPct(), t.ToolDrops, t.MBps(), t.Note)
			}
			return t, err
		}
	}
	runPaced := func(c combo, pps float64) (trial, error) {
		dir := dirs[c.Target]
		defer func() { _ = emptyDir(dir) }()
		t, err := f.runPaced(ctx, base, pps, c.Size, c.Target, dir)
		if err == nil {
			log("  %-13s %4d B %-5s asked %8.0f pps  received %8.0f pps  written %9d/%-9d  drop %6.2f %%  tool drops %d  %6.1f MB/s  %s",
				t.Tool, c.Size, c.Target, pps, t.OfferedPS, t.Written, t.Offered, t.DropPct(), t.ToolDrops, t.MBps(), t.Note)
		}
		return t, err
	}
	var combos []combo
	for _, size := range s.Sizes {
		for _, target := range s.Targets {
			combos = append(combos, combo{size, target})
		}
	}
	// 2. the zero-drop search, once per tool × size × target
	log("search: the highest rate in %.0f..%.0f pps with zero drops, %d steps, %g s per trial", s.Lo, s.Hi, s.Steps, s.SearchSeconds)
	f.secs = s.SearchSeconds
	for ci, c := range combos {
		for _, ti := range benchkit.Order(ci+1, len(tools)) {
			r, err := search(ctx, s.Lo, s.Hi, s.Steps, run(tools[ti], c))
			if err != nil {
				return none, fmt.Errorf("%s search: %w", key(tools[ti], c), err)
			}
			res.Search[key(tools[ti], c)] = r
			res.Calib[key(tools[ti], c)] = r.Trials
			log("%s: zero drops up to %s pps", key(tools[ti], c), r.Figure())
		}
	}
	// 3. rounds: each tool at its zero-drop rate and at the overload
	f.secs = s.Seconds
	for round := 1; round <= s.Rounds; round++ {
		g.During(fmt.Sprintf("round %d", round), benchkit.Load1())
		log("round %d", round)
		for _, c := range combos {
			for _, ti := range benchkit.Order(round, len(tools)) {
				k := key(tools[ti], c)
				at := res.Search[k].Rate
				if at == 0 {
					at = s.Lo
				}
				for i, pps := range []float64{at, s.Overload} {
					t, err := run(tools[ti], c)(ctx, pps)
					if err != nil {
						return none, fmt.Errorf("round %d %s: %w", round, k, err)
					}
					t.Kind = [2]string{"zero-drop", "overload"}[i]
					res.Rounds = append(res.Rounds, t)
				}
			}
		}
	}
	// 4. the disk-bandwidth goal: rxprobe on net_null paced (veth cannot
	// carry 1518 B frames at a disk's bandwidth here), searched up to the
	// rate that fills the measured bandwidth; rounds at the zero-drop rate
	// and at 1.5× that rate, and at the goal's share of the bandwidth
	f.secs = s.SearchSeconds
	for _, target := range s.Targets {
		c := combo{s.Sizes[1], target}
		full := fillRate(res.Bandwidth[target].MBps, c.Size)
		r, err := search(ctx, full/30, full, s.Steps, func(ctx context.Context, pps float64) (trial, error) { return runPaced(c, pps) })
		if err != nil {
			return none, fmt.Errorf("%s search: %w", key("rxprobe-paced", c), err)
		}
		res.Search[key("rxprobe-paced", c)], res.Calib[key("rxprobe-paced", c)] = r, r.Trials
		log("%s: zero drops up to %s pps (%.0f pps fill %.0f MB/s)", key("rxprobe-paced", c), r.Figure(), full, res.Bandwidth[target].MBps)
	}
	f.secs = s.Seconds
	for round := 1; round <= s.Rounds; round++ {
		for _, ti := range benchkit.Order(round, len(s.Targets)) {
			c := combo{s.Sizes[1], s.Targets[ti]}
			at := res.Search[key("rxprobe-paced", c)].Rate
			full := fillRate(res.Bandwidth[c.Target].MBps, c.Size)
			if at == 0 {
				at = full / 30
			}
			// the goal's own trials: exactly goalDiskShare of the
			// bandwidth, judged on every round
			for i, pps := range []float64{at, goalDiskShare * full, 1.5 * full} {
				t, err := runPaced(c, pps)
				if err != nil {
					return none, fmt.Errorf("round %d %s: %w", round, key("rxprobe-paced", c), err)
				}
				t.Kind = [3]string{"zero-drop", "goal", "overload"}[i]
				res.Rounds = append(res.Rounds, t)
			}
		}
	}
	// 5. the RX loop's cost on net_null
	cost, err := runCost(ctx, s, f, base, dirs["tmpfs"], g, log)
	if err != nil {
		return none, err
	}
	res.Cost = cost
	share, top := foreign.Stop()
	g.Foreign("the whole run", share, top)
	log("benchcapture: processes outside the bench used %.1f %% of a CPU (busiest: %s)", 100*share, top)
	g.Finish(&host, s.Rounds)
	log("benchcapture: %d trials in %s (estimated %s)", f.trials, time.Since(began).Round(time.Second), estimate(s).Round(time.Second))
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := os.WriteFile(s.JSON, append(b, '\n'), 0o644); err != nil {
		return none, err
	}
	return benchkit.Outcome{Markdown: markdown(s, host, g, res, os.Args[1:]), Gate: g, MarkdownFile: s.Markdown}, nil
}

// epbOverhead is what pcapng adds to a captured frame in rxprobe's files
// (enhanced packet block header and trailer, padding, options), near
// enough to place the search's bracket.
const epbOverhead = 40

// fillRate is the frame rate whose pcapng blocks fill mbps.
func fillRate(mbps float64, size int) float64 { return mbps * 1e6 / float64(size+epbOverhead) }

// estimate is the run's expected length: every trial takes its traffic
// seconds plus trialOverhead (tools starting and stopping, settling).
func estimate(s settings) time.Duration {
	sec := func(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
	searches := 4*len(tools) + len(s.Targets) // veth combos, and the paced source per target
	search := time.Duration(searches*(s.Steps+2)) * (sec(s.SearchSeconds) + trialOverhead)
	rounds := time.Duration(s.Rounds*(searches*2+len(s.Targets))) * (sec(s.Seconds) + trialOverhead)
	// tcpdump's trials wait for its ring's block timeout
	tcpdump := time.Duration(4*(s.Steps+2)+4*s.Rounds*2) * (tcpdumpSettle - settle)
	cost := time.Duration(s.Rounds*len(costVariants)) * (sec(s.CostSeconds) + 1500*time.Millisecond)
	return search + rounds + tcpdump + cost + 20*time.Second
}

// trialOverhead is a trial's time beyond its traffic, as measured in a
// -quick run on the 2-CPU development VM (55 trials of 1 s in 2m21s).
const trialOverhead = 1600 * time.Millisecond

func lookPath(bin string) string {
	if p, err := exec.LookPath(bin); err == nil {
		return p
	}
	return bin
}

// versions are each measured binary's own version line.
func versions(s settings, h benchkit.Host) map[string]string {
	v := map[string]string{"rxprobe": h.Version}
	first := func(name string, args ...string) string {
		out, _ := exec.Command(name, args...).CombinedOutput()
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return line
	}
	v["tcpdump"] = first("tcpdump", "--version")
	v["dumpcap"] = first(s.Dumpcap, "-v")
	v["testpmd"] = "Debian dpdk-dev " + first("dpkg-query", "-W", "-f", "${Version}", "dpdk-dev")
	if _, err := exec.LookPath("fio"); err == nil {
		v["fio"] = first("fio", "--version")
	} else {
		v["dd"] = first("dd", "--version")
	}
	return v
}
