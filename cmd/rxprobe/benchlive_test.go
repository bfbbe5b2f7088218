package main

import (
	"bufio"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/bench/ndr"
)

// scenariosDir is bench/scenarios, relative to this package.
const scenariosDir = "../../bench/scenarios"

// writeScenario writes a scenario next to a veth DUT config and returns
// its path.
func writeScenario(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	dut, err := os.ReadFile(filepath.Join(scenariosDir, "veth-dut.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dutText := strings.Replace(string(dut), `rx_cpus: "1"`, `rx_cpus: "`+strconv.Itoa(rxCPU())+`"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "dut.yaml"), []byte(dutText), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "scenario.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBenchScenarioErrors(t *testing.T) {
	out := t.TempDir()
	base := "config: dut.yaml\nsetup: veth\nframe_sizes: \"64\"\nmax_rate: 1Mpps\n"
	noIface := writeConfig(t, `eal:
  no_huge: true
ports:
  - name: veth
    device: net_af_xdp0
    devargs: "start_queue=0,queue_count=1"
    rx_cpus: "`+strconv.Itoa(rxCPU())+`"
generator:
  device: net_af_packet0
  devargs: "iface=x,qpairs=1"
  cpu: 0
run:
  allow_unisolated: true
`)
	for _, tc := range []struct{ name, body, want string }{
		{"unknown key", base + "trials: 3s\n", `field trials not found`},
		{"bad setup", strings.Replace(base, "setup: veth", "setup: wifi", 1), `setup "wifi": want veth or cabled`},
		{"bad generator", base + "generator: moongen\n", `generator "moongen": want rxprobe or external`},
		{"unknown placeholder", base + "generator: external\nexternal:\n  start: \"send --pps {pps}\"\n", "unknown placeholder {pps}"},
		{"sender ignores the rate", base + "generator: external\nexternal:\n  start: \"send --size {size}\"\n", "uses neither {rate} nor {count}"},
		{"start without external", base + "external:\n  start: \"send {rate}\"\n", "set generator: external"},
		{"imix with rxprobe gen", strings.Replace(base, `"64"`, `"64,imix"`, 1), "cannot send a mix"},
		{"no maximum rate", strings.Replace(base, "max_rate: 1Mpps\n", "", 1), "no maximum rate: set max_rate"},
		{"missing config", "setup: veth\nmax_rate: 1Mpps\n", "config is missing"},
		{"devargs without iface", strings.Replace(base, "dut.yaml", noIface, 1), "no iface= item"},
		{"bad precision", base + "precision: fine\n", "precision"},
		{"bad drain", base + "drain: 3s\nmax_drain: 1s\n", "want 0 ≤ drain ≤ max_drain"},
		{"bad confirm", base + "confirm: -1\n", "confirm -1: want 0 to 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runRxprobe(t, "bench", "ndr", "--scenario", writeScenario(t, tc.body), "--out", out)
			msg := strings.TrimSpace(res.stderr)
			if res.code != exitUsage || strings.Contains(msg, "\n") || !strings.Contains(msg, tc.want) {
				t.Errorf("exit %d, stderr %q: want exit 2 and one line with %q", res.code, msg, tc.want)
			}
		})
	}
	res := runRxprobe(t, "bench", "ndr", "--scenario", writeScenario(t, base), "--config", "x.yaml", "--out", out)
	if res.code != exitUsage || !strings.Contains(res.stderr, "--scenario and --config") {
		t.Errorf("--scenario with --config: exit %d, %q", res.code, res.stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a rejected scenario wrote %d files to --out", len(entries))
	}
}

func TestBenchShippedScenariosDryRun(t *testing.T) {
	for _, name := range []string{"veth-quick.yaml", "cx5-b2b.yaml"} {
		res := runRxprobe(t, "bench", "ndr", "--scenario", filepath.Join(scenariosDir, name), "--dry-run")
		if res.code != 0 || !strings.HasPrefix(res.stdout, "scenario valid") {
			t.Errorf("%s: exit %d: %s%s", name, res.code, res.stdout, res.stderr)
		}
	}
	res := runRxprobe(t, "bench", "ndr", "--scenario", filepath.Join(scenariosDir, "cx5-b2b.yaml"), "--dry-run")
	for _, want := range []string{"0000:3b:00.0", "setup cabled", "64B,128B,256B,512B,1024B,1280B,1518B", "trials 30s"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("cx5-b2b dry run %q lacks %q", res.stdout, want)
		}
	}
}

// checkBenchOut checks a live bench's output: every file written and
// parsed, every trial exact (received + ledger before the loop = sent) or
// flagged, and an NDR above 0 for every size.
func checkBenchOut(t *testing.T, out string, sizes int) *ndr.Results {
	t.Helper()
	r, err := ndr.ReadJSON(filepath.Join(out, ndr.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Complete || len(r.Sizes) != sizes || len(r.Trials) == 0 {
		t.Fatalf("complete %v, %d sizes, %d trials (error %q)", r.Complete, len(r.Sizes), len(r.Trials), r.Error)
	}
	if r.Machine.CPUModel == "" || r.Machine.Kernel == "" || r.Machine.DPDKVersion == "" || r.Machine.Driver != "net_af_xdp" || r.Machine.RxprobeVersion == "" {
		t.Errorf("machine facts %+v", r.Machine)
	}
	for _, tr := range r.Trials {
		if tr.Sent == 0 || tr.Received+tr.LostBeforeLoop() != tr.Sent && tr.Unaccounted == 0 {
			t.Errorf("trial %d: sent %d, received %d + ledger %d, unaccounted %d", tr.Index, tr.Sent, tr.Received, tr.LostBeforeLoop(), tr.Unaccounted)
		}
		if tr.Unaccounted != 0 {
			t.Logf("trial %d: %d unaccounted", tr.Index, tr.Unaccounted)
		}
	}
	for _, s := range r.Sizes {
		if !s.NDR.Found || s.NDR.PPS <= 0 {
			t.Errorf("%s: NDR %v", s.FrameSize, s.NDR.PPS)
		}
	}
	for _, f := range []string{ndr.ReportFile, ndr.IndexFile} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", f, err, len(b))
		}
	}
	svgs, _ := filepath.Glob(filepath.Join(out, "*.svg"))
	if len(svgs) < 2*sizes {
		t.Errorf("%d SVG files for %d sizes", len(svgs), sizes)
	}
	for _, p := range svgs {
		if err := parseXML(p); err != nil {
			t.Error(err)
		}
	}
	return r
}

func TestIntegrationBenchVethQuick(t *testing.T) {
	needRoot(t)
	out := t.TempDir()
	res := runRxprobe(t, "bench", "ndr", "--scenario", writeScenarioFrom(t, "veth-quick.yaml"), "--out", out)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	r := checkBenchOut(t, out, 2)
	for _, s := range r.Sizes {
		t.Logf("%s: NDR %.4f Mpps, PDR %.4f Mpps", s.FrameSize, s.NDR.PPS/1e6, s.PDR.PPS/1e6)
		// the scenario's confirm: 5, at the NDR and full duration
		c := s.Confirm
		if c == nil || len(c.Trials) != 5 {
			t.Errorf("%s: NDR repeats %+v, want 5", s.FrameSize, c)
			continue
		}
		for _, i := range c.Trials {
			if tr := r.Trials[i]; tr.Phase != ndr.PhaseConfirm || tr.RatePPS != s.NDR.PPS || tr.Duration != r.Settings.TrialDuration {
				t.Errorf("%s: repeat %d: phase %s at %.0f pps for %v", s.FrameSize, i, tr.Phase, tr.RatePPS, tr.Duration)
			}
		}
		t.Logf("%s: NDR repeats: %d of 5 lost packets", s.FrameSize, c.Lossy)
	}
	if left, _ := filepath.Glob("/run/netns/rxb-*"); len(left) != 0 {
		t.Errorf("namespaces left behind: %v", left)
	}
}

func TestIntegrationBenchExternalSender(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "sender.sh")
	// The external sender: one `rxprobe gen` per trial; its last stdout
	// line is the number of packets it sent.
	if err := os.WriteFile(script, []byte(`#!/bin/sh
set -e
out=$("$1" gen --config "$2" --count "$3" --rate "$4" --size $(($5 - 4)))
echo "$out" | sed -n 's/^rxprobe gen: sent \([0-9]*\) .*/\1/p'
`), 0o755); err != nil {
		t.Fatal(err)
	}
	sc := writeScenario(t, `config: dut.yaml
setup: veth
generator: external
external:
  start: "sh `+script+` {rxprobe} {gen_config} {count} {rate} {size}"
frame_sizes: "64"
search: binary
trial: 1s
precision: 25%
max_rate: 400kpps
min_rate: 50kpps
max_repeats: 0
gen_tolerance: 2%
`)
	out := t.TempDir()
	res := runRxprobe(t, "bench", "ndr", "--scenario", sc, "--out", out)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	t.Log(res.stderr)
	r := checkBenchOut(t, out, 1)
	exact := 0
	for _, tr := range r.Trials {
		if tr.Unaccounted == 0 {
			exact++
		}
	}
	if exact == 0 {
		t.Errorf("no trial of the external sender is exact: %+v", r.Trials)
	}
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// writeScenarioFrom copies a shipped scenario next to a veth DUT config
// on this host's RX CPU.
func writeScenarioFrom(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(scenariosDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return writeScenario(t, strings.Replace(string(b), "config: veth-dut.yaml", "config: dut.yaml", 1))
}

// parseXML reads the file at path as XML to its end.
func parseXML(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := xml.NewDecoder(f)
	for {
		if _, err := dec.Token(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}

func TestIntegrationBenchInterruptCleansUp(t *testing.T) {
	needRoot(t)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	// Ctrl-C after the first trial.
	cmd, sc := startBench(ctx, t, out)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
		t.Log(sc.Text())
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailure {
		t.Errorf("exit %v: want 1 (interrupted, results written)", err)
	}
	r, err := ndr.ReadJSON(filepath.Join(out, ndr.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete || len(r.Trials) == 0 {
		t.Errorf("complete %v with %d trials: want incomplete, the first trial kept", r.Complete, len(r.Trials))
	}
	if left, _ := filepath.Glob(fmt.Sprintf("/run/netns/rxb-%d-*", cmd.Process.Pid)); len(left) != 0 {
		t.Errorf("namespaces left behind: %v", left)
	}
	// The run stopped on SIGTERM and wrote its report.
	if _, err := os.Stat(filepath.Join(out, "run.json")); err != nil {
		t.Errorf("the run's report: %v", err)
	}
	for _, c := range processesWith(out) {
		t.Errorf("a process still runs with the bench's files: %q", c)
	}
}

// startBench starts `bench ndr` on the quick scenario, writing to out,
// and returns it once its first progress line came (the first trial is
// done: the run and the generator are up), with the rest of its stderr.
func startBench(ctx context.Context, t *testing.T, out string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := rxprobeCmd(ctx, "bench", "ndr", "--scenario", writeScenarioFrom(t, "veth-quick.yaml"), "--out", out)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	if !sc.Scan() {
		t.Fatalf("no progress line: %v", cmd.Wait())
	}
	return cmd, sc
}

// processesWith lists the command lines that name path (a bench's
// output directory: its run, generator and sender).
func processesWith(path string) []string {
	var found []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), path) {
			found = append(found, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return found
}

// TestIntegrationBenchKilledTakesItsChildren: a bench killed outright
// (SIGKILL: no Close runs) takes its DUT run and generator with it —
// before, the run stayed behind polling the RX CPU. (Its namespace is
// left: only Close removes that.)
func TestIntegrationBenchKilledTakesItsChildren(t *testing.T) {
	needRoot(t)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd, _ := startBench(ctx, t, out)
	children := func() []string { return processesWith(out) }
	if n := len(children()); n < 2 {
		t.Fatalf("%d processes with the bench's files: want the run and the generator (the detector sees nothing)", n)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for len(children()) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range children() {
		t.Errorf("still running 30 s after the bench was killed: %q", c)
	}
	// what only Close would have removed
	left, _ := filepath.Glob(fmt.Sprintf("/run/netns/rxb-%d-*", cmd.Process.Pid))
	for _, ns := range left {
		_ = exec.Command("ip", "netns", "del", filepath.Base(ns)).Run()
	}
}

// TestIntegrationBenchVethLatency: with `latency: true` every trial is a
// latency trial: the DUT runs --latency, the generator stamps its frames
// and hands its clock to the trial API's stop, so each trial carries
// valid same-host percentiles (ordered, non-zero), the latency plot is
// written, and the search is followed by the latency phase at 10/50/90 %
// of the PDR.
func TestIntegrationBenchVethLatency(t *testing.T) {
	needRoot(t)
	out := t.TempDir()
	sc := writeScenarioFrom(t, "veth-quick.yaml")
	b, err := os.ReadFile(sc)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(b), `frame_sizes: "64,1518"`, `frame_sizes: "64"`, 1) + "latency: true\n"
	body = strings.Replace(body, "confirm: 5", "confirm: 0", 1)
	if err := os.WriteFile(sc, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runRxprobe(t, "bench", "ndr", "--scenario", sc, "--out", out)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	r := checkBenchOut(t, out, 1)
	for _, tr := range r.Trials {
		l := tr.Latency
		if l == nil || !l.Valid {
			t.Errorf("trial %d: latency %+v, want valid same-host figures", tr.Index, l)
			continue
		}
		if l.P50Ns == 0 || l.P50Ns > l.P99Ns || l.P99Ns > l.MaxNs || l.MaxNs > uint64(time.Second) {
			t.Errorf("trial %d: p50 %d, p99 %d, max %d ns", tr.Index, l.P50Ns, l.P99Ns, l.MaxNs)
		}
		// one queue, one generator: nothing arrives out of order
		if l.Reordered != 0 {
			t.Errorf("trial %d: %d reordered on a single veth queue", tr.Index, l.Reordered)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "latency-64.svg")); err != nil {
		t.Errorf("latency plot: %v", err)
	}
	// and the latency phase: one trial at 10, 50 and 90 % of the PDR
	if pts := r.Sizes[0].Latency; len(pts) != 3 || pts[0].Load != 0.1 || pts[2].Load != 0.9 || pts[1].Latency == nil || !pts[1].Latency.Valid {
		t.Errorf("latency points %+v", pts)
	}
}

// TestIntegrationBenchRunFailsAtStartup: a DUT config that passes
// validation but that DPDK refuses (AF_XDP with a 256-descriptor ring) is
// one line naming the run's log, exit 2, and no namespace or link left.
func TestIntegrationBenchRunFailsAtStartup(t *testing.T) {
	needRoot(t)
	sc := writeScenarioFrom(t, "veth-quick.yaml")
	dut := filepath.Join(filepath.Dir(sc), "dut.yaml")
	b, err := os.ReadFile(dut)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dut, []byte(strings.Replace(string(b), "rx_ring: 4096", "rx_ring: 256", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := filepath.Glob("/sys/class/net/rxb*")
	out := t.TempDir()
	res := runRxprobe(t, "bench", "ndr", "--scenario", sc, "--out", out)
	msg := strings.TrimSpace(res.stderr)
	if res.code != exitUsage || strings.Contains(msg, "\n") || !strings.Contains(msg, "rxprobe run exited during start-up") {
		t.Errorf("exit %d, stderr %q: want exit 2 and one line", res.code, msg)
	}
	if log, err := os.ReadFile(filepath.Join(out, "run.log")); err != nil || !strings.Contains(string(log), "rx queue 0 setup (256 descriptors)") {
		t.Errorf("run.log %q, %v: want DPDK's refusal", log, err)
	}
	if after, _ := filepath.Glob("/sys/class/net/rxb*"); len(after) > len(before) {
		t.Errorf("links left behind: %v (before: %v)", after, before)
	}
}
