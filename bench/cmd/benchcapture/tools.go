package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/rxprobe/rxprobe/internal/run/report"
)

// feed is what every tool of a trial shares: the veth pair, the
// generator config and where the harness keeps its files.
type feed struct {
	s       settings
	v       vethPair
	work    string // configs, reports, logs
	genCfg  string
	preload string  // LD_PRELOAD for dumpcap (see dumpcapPreload)
	secs    float64 // traffic seconds of the current phase's trials
	seq     int
	trials  int // capture trials run (rxcost runs not counted)
}

// genConfig is the generator's config: the pair with the generator on B
// (no hugepages: the generator is a source, not measured).
func genConfig(s settings, v vethPair, rx, hk int) string {
	dev, args := "net_af_packet0", fmt.Sprintf("iface=%s,qpairs=1", v.B)
	if s.GenPMD == "af_xdp" {
		dev, args = "net_af_xdp0", fmt.Sprintf("iface=%s,start_queue=0,queue_count=1", v.B)
	}
	// The port section is required by the config; gen never opens it.
	return fmt.Sprintf(`eal:
  log_level: error
  no_huge: true
ports:
  - name: unused
    device: net_null0
    rx_cpus: "%d"
generator:
  device: %s
  devargs: "%s"
  cpu: %d
  size: 64
run:
  allow_unisolated: true
`, rx, dev, args, hk)
}

// pollPort is the device and devargs of the one-queue port rxprobe and
// testpmd poll on iface: AF_XDP (busy_budget=0: veth has no IRQ to defer)
// or AF_PACKET (its ring as deep as the AF_XDP port's).
func pollPort(s settings, iface string) (dev, args string) {
	if s.PMD == "af_packet" {
		return "net_af_packet0", fmt.Sprintf("iface=%s,qpairs=1,framecnt=%d", iface, s.Ring)
	}
	return "net_af_xdp0", fmt.Sprintf("iface=%s,start_queue=0,queue_count=1,busy_budget=0", iface)
}

// rxprobeVethConfig is rxprobe's config for a trial: the polled port on
// A, the loop on the RX CPU, every packet captured to dir.
func rxprobeVethConfig(s settings, v vethPair, dir string) string {
	dev, args := pollPort(s, v.A)
	return fmt.Sprintf(`eal:
  hugepage_size: 2M
  log_level: error
housekeeping_cpus: "%d"
ports:
  - name: veth
    device: %s
    devargs: "%s"
    rx_cpus: "%d"
    rx_ring: %d
    burst: 32
stats:
  interval: 1s
capture:
  enabled: true
  mode: continuous
  snaplen: %d
  dir: %s
  rotate_mb: 1024
  max_files: 0
  min_free_mb: 256
run:
  allow_unisolated: true
`, s.Housekeeping, dev, args, s.CPU, s.Ring, s.Snaplen, dir)
}

func (f *feed) path(name string) string {
	f.seq++
	return filepath.Join(f.work, fmt.Sprintf("%03d-%s", f.seq, name))
}

// generate sends size-byte frames at pps for the trial's seconds from
// the namespace and returns the generator's report.
func (f *feed) generate(ctx context.Context, pps float64, size int) (genReport, error) {
	f.trials++
	rep := f.path("gen.json")
	args := []string{"netns", "exec", f.v.NS, f.s.Rxprobe, "gen", "--config", f.genCfg, "--rate", fmt.Sprintf("%.0f", pps),
		"--size", fmt.Sprint(size), "--duration", fmt.Sprintf("%gs", f.secs), "--report", rep}
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return genReport{}, fmt.Errorf("rxprobe gen: %w: %s", err, tail(string(out)))
	}
	b, err := os.ReadFile(rep)
	if err != nil {
		return genReport{}, err
	}
	return parseGenReport(b)
}

// settle is how long a tool runs after the generator stopped, so that the
// last frames cross the pair and reach the file.
const settle = 300 * time.Millisecond

// tcpdumpSettle is settle for tcpdump: libpcap's TPACKET_V3 ring hands a
// partly filled block to tcpdump only after its 1 s block timeout (without
// --immediate-mode), and packets still in the ring at SIGINT are counted
// "received by filter" but never written.
const tcpdumpSettle = 1500 * time.Millisecond

// offered fills the trial's offered figures from the generator.
func offered(t *trial, g genReport) {
	t.Offered, t.Seconds = g.Sent, g.DurationS
	t.OfferedPS = float64(g.Sent) / g.DurationS
}

// runRxprobe is one rxprobe trial.
func (f *feed) runRxprobe(ctx context.Context, pps float64, size int, target, dir string) (trial, error) {
	t := trial{Tool: "rxprobe", Size: size, Target: target, AskedPPS: pps}
	cfg := f.path("rxprobe.yaml")
	if err := os.WriteFile(cfg, []byte(rxprobeVethConfig(f.s, f.v, dir)), 0o644); err != nil {
		return t, err
	}
	rep, ready := f.path("rxprobe.json"), f.path("rxprobe.ready")
	p, err := start(ctx, syscall.SIGTERM, nil, f.s.Rxprobe, "run", "--config", cfg, "--report", rep, "--ready-file", ready, "--no-exporter")
	if err != nil {
		return t, err
	}
	if err := p.waitFor(ctx, 60*time.Second, func() bool { _, err := os.Stat(ready); return err == nil }); err != nil {
		_ = p.stop(syscall.SIGTERM)
		return t, err
	}
	g, gerr := f.generate(ctx, pps, size)
	time.Sleep(settle)
	if err := p.stop(syscall.SIGTERM); err != nil {
		return t, fmt.Errorf("rxprobe run: %w: %s", err, tail(p.out.String()))
	}
	if gerr != nil {
		return t, gerr
	}
	offered(&t, g)
	r, c, err := readCaptureReport(rep)
	if err != nil {
		return t, err
	}
	t.Written, t.ToolDrops, t.Bytes = c.Written, c.RingDropped+c.DiskDropped, c.BytesWritten
	var notes []string
	for _, l := range r.Ledger {
		if l.Drops > 0 {
			notes = append(notes, fmt.Sprintf("%s %d", l.Layer, l.Drops))
		}
	}
	if !c.Direct {
		notes = append(notes, "buffered (no O_DIRECT)")
	}
	t.Note = strings.Join(notes, ", ")
	return t, nil
}

// runTcpdump is one tcpdump trial: `tcpdump -w` over AF_PACKET on A, on
// the housekeeping CPU, with its default buffer.
func (f *feed) runTcpdump(ctx context.Context, pps float64, size int, target, dir string) (trial, error) {
	t := trial{Tool: "tcpdump", Size: size, Target: target, AskedPPS: pps}
	file := filepath.Join(dir, "tcpdump.pcap")
	p, err := start(ctx, syscall.SIGINT, nil, "taskset", "-c", fmt.Sprint(f.s.Housekeeping),
		"tcpdump", "-i", f.v.A, "-Q", "in", "-n", "-s", fmt.Sprint(f.s.Snaplen), "-w", file)
	if err != nil {
		return t, err
	}
	if err := p.waitOutput(ctx, 20*time.Second, "listening on"); err != nil {
		_ = p.stop(syscall.SIGINT)
		return t, err
	}
	g, gerr := f.generate(ctx, pps, size)
	time.Sleep(tcpdumpSettle)
	_ = p.stop(syscall.SIGINT) // exits 0 on SIGINT; its statistics say the rest
	if gerr != nil {
		return t, gerr
	}
	offered(&t, g)
	st, err := parseTcpdump(p.out.String())
	if err != nil {
		return t, err
	}
	t.Written, t.ToolDrops = st.Captured, st.KernelDropped
	if fi, err := os.Stat(file); err == nil {
		t.Bytes = uint64(fi.Size())
	}
	t.Note = fmt.Sprintf("received by filter %d, dropped by kernel %d", st.Received, st.KernelDropped)
	return t, nil
}

// runDumpcap is one dumpcap trial: dpdk-testpmd rxonly on A (the same
// PMD, CPU and ring as rxprobe) as the primary, dpdk-dumpcap as its
// secondary on the housekeeping CPU.
func (f *feed) runDumpcap(ctx context.Context, pps float64, size int, target, dir string) (trial, error) {
	t := trial{Tool: "dumpcap", Size: size, Target: target, AskedPPS: pps}
	prefix := fmt.Sprintf("bcap-tp-%d-%d", os.Getpid(), f.seq)
	defer func() {
		_ = os.RemoveAll("/var/run/dpdk/" + prefix)
		maps, _ := filepath.Glob("/dev/hugepages/" + prefix + "map_*")
		for _, m := range maps {
			_ = os.Remove(m)
		}
	}()
	// stdbuf: testpmd's printf output is block-buffered on a pipe, and
	// its "Press enter to exit" is what says forwarding has started.
	dev, args := pollPort(f.s, f.v.A)
	tp := exec.CommandContext(ctx, "stdbuf", "-oL", f.s.Testpmd, "-l", fmt.Sprintf("%d,%d", f.s.Housekeeping, f.s.CPU), "--main-lcore", fmt.Sprint(f.s.Housekeeping),
		"--file-prefix", prefix, "-m", "512", "--no-pci", "--log-level", "error",
		"--vdev", dev+","+args,
		"--", "--forward-mode=rxonly", "--auto-start", fmt.Sprintf("--rxd=%d", f.s.Ring), "--txd=512")
	stdin, err := tp.StdinPipe()
	if err != nil {
		return t, err
	}
	var tpOut syncBuffer
	tp.Stdout, tp.Stderr = &tpOut, &tpOut
	tp.Cancel = func() error { return tp.Process.Signal(syscall.SIGTERM) }
	tp.WaitDelay = 10 * time.Second
	if err := tp.Start(); err != nil {
		return t, fmt.Errorf("testpmd: %w", err)
	}
	tpDone := make(chan error, 1)
	go func() { tpDone <- tp.Wait() }()
	stopTestpmd := func() {
		_ = stdin.Close() // "Press enter to exit": EOF does too
		select {
		case <-tpDone:
		case <-time.After(15 * time.Second):
			_ = tp.Process.Kill()
			<-tpDone
		}
	}
	defer stopTestpmd()
	tpp := &proc{name: "testpmd", cmd: tp, done: tpDone}
	if err := tpp.waitFor(ctx, 60*time.Second, func() bool { return strings.Contains(tpOut.String(), "Press enter to exit") }); err != nil {
		return t, fmt.Errorf("%w: %s", err, tail(tpOut.String()))
	}
	file := filepath.Join(dir, "dumpcap.pcapng")
	var env []string
	if f.preload != "" {
		env = []string{"LD_PRELOAD=" + f.preload}
	}
	dc, err := start(ctx, syscall.SIGINT, env, "taskset", "-c", fmt.Sprint(f.s.Housekeeping),
		f.s.Dumpcap, "--file-prefix", prefix, "-i", dev, "-s", fmt.Sprint(f.s.Snaplen), "-q", "-w", file)
	if err != nil {
		return t, err
	}
	// "File:" is printed before pdump is enabled; give the request to
	// the primary time to be served.
	if err := dc.waitOutput(ctx, 30*time.Second, "File:"); err != nil {
		_ = dc.stop(syscall.SIGINT)
		return t, err
	}
	time.Sleep(500 * time.Millisecond)
	g, gerr := f.generate(ctx, pps, size)
	time.Sleep(settle)
	_ = dc.stop(syscall.SIGINT)
	if gerr != nil {
		return t, gerr
	}
	offered(&t, g)
	st, err := parseDumpcap(dc.out.String())
	if err != nil {
		return t, fmt.Errorf("%w: %s", err, tail(dc.out.String()))
	}
	n, err := capinfosCount(file)
	if err != nil {
		return t, err
	}
	t.Written, t.ToolDrops = n, st.Dropped
	if fi, err := os.Stat(file); err == nil {
		t.Bytes = uint64(fi.Size())
	}
	t.Note = fmt.Sprintf("pdump received %d, dropped %d (nombuf + ringfull)", st.Received, st.Dropped)
	return t, nil
}

// capinfosCount counts the packets in file.
func capinfosCount(file string) (uint64, error) {
	out, err := exec.Command("capinfos", "-c", "-M", "-T", "-r", file).Output()
	if err != nil {
		return 0, fmt.Errorf("capinfos %s: %w", file, err)
	}
	return parseCapinfosCount(string(out))
}

var lddMempoolRe = regexp.MustCompile(`(?m)^\s*(librte_mempool_\w+\.so[.\d]*) => (\S+)`)

// dumpcapPreload is the workaround for dumpcap capturing nothing: the
// mempool drivers the primary links directly (Debian's testpmd links
// librte_mempool_dpaa), to be preloaded into dumpcap so that both
// processes register their mempool ops in the same order. Without it the
// ops index dumpcap stores in its capture pool names another driver in
// the primary (dpaa2), every copy in the primary's RX callback fails to
// get an mbuf, and dumpcap reports everything as dropped (nombuf).
func dumpcapPreload(lddOut string) string {
	var libs []string
	for _, m := range lddMempoolRe.FindAllStringSubmatch(lddOut, -1) {
		libs = append(libs, m[2])
	}
	return strings.Join(libs, ":")
}

// pacedConfig is the -config file (one net_null port) handing out
// size-byte frames, captured to dir: the source of the disk-bandwidth
// trials, paced by rxprobe run --debug-rx-pace-pps.
func pacedConfig(base []byte, s settings, size int, dir string) (string, error) {
	cfg := string(base)
	if !strings.Contains(cfg, "device: net_null0") || !strings.Contains(cfg, `devargs: ""`) {
		return "", fmt.Errorf("%s: want a net_null0 port with devargs \"\" (configs/null.yaml)", s.Config)
	}
	cfg = strings.Replace(cfg, `devargs: ""`, fmt.Sprintf(`devargs: "size=%d"`, size), 1)
	return strings.TrimRight(cfg, "\n") + fmt.Sprintf("\ncapture:\n  enabled: true\n  snaplen: %d\n  dir: %s\n  rotate_mb: 1024\n  max_files: 0\n  min_free_mb: 256\n", s.Snaplen, dir), nil
}

// runPaced is one disk-bandwidth trial: rxprobe on net_null paced at pps,
// capturing every frame. Offered is what the paced loop received.
func (f *feed) runPaced(ctx context.Context, base []byte, pps float64, size int, target, dir string) (trial, error) {
	t := trial{Tool: "rxprobe-paced", Size: size, Target: target, AskedPPS: pps}
	body, err := pacedConfig(base, f.s, size, dir)
	if err != nil {
		return t, err
	}
	f.trials++
	cfg, rep := f.path("paced.yaml"), f.path("paced.json")
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		return t, err
	}
	out, err := exec.CommandContext(ctx, f.s.Rxprobe, "run", "--config", cfg, "--report", rep, "--no-exporter",
		"--duration", fmt.Sprintf("%gs", f.secs), "--debug-rx-pace-pps", fmt.Sprintf("%.0f", pps)).CombinedOutput()
	if err != nil {
		return t, fmt.Errorf("rxprobe run (paced): %w: %s", err, tail(string(out)))
	}
	r, c, err := readCaptureReport(rep)
	if err != nil {
		return t, err
	}
	t.Offered, t.Seconds = r.RXPackets, r.DurationS
	t.OfferedPS = float64(r.RXPackets) / r.DurationS
	t.Written, t.ToolDrops, t.Bytes = c.Written, c.RingDropped+c.DiskDropped, c.BytesWritten
	if !c.Direct {
		t.Note = "buffered (no O_DIRECT)"
	}
	return t, nil
}

// readCaptureReport reads a run report with one port, one queue and its
// capture block.
func readCaptureReport(path string) (report.Report, *report.Capture, error) {
	var r report.Report
	b, err := os.ReadFile(path)
	if err != nil {
		return r, nil, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, nil, fmt.Errorf("rxprobe report %s: %w", path, err)
	}
	if len(r.Ports) != 1 || len(r.Ports[0].Queues) != 1 || r.Ports[0].Queues[0].Capture == nil || r.DurationS <= 0 {
		return r, nil, fmt.Errorf("rxprobe report %s: want one port, one queue, a capture block, a duration", path)
	}
	return r, r.Ports[0].Queues[0].Capture, nil
}
