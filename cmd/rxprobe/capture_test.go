package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rxprobe/rxprobe/configs"
	"github.com/rxprobe/rxprobe/internal/run/report"
	"github.com/rxprobe/rxprobe/rx/capture/pcapng"
)

// captureConfig is configs/capture.yaml with the run's prefix, the test's
// directory and filter, on no_huge memory; edits replace more of its
// text (old, new, old, new...), or a line set above.
func captureConfig(t *testing.T, prefix, dir, filter string, edits ...string) string {
	t.Helper()
	b, err := configs.Files.ReadFile("capture.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	repls := map[string]string{
		"dir: /tmp/rxprobe-capture": "dir: " + dir,
		`filter: "not ip"`:          "filter: " + strconv.Quote(filter),
		"hugepage_size: 2M":         "file_prefix: " + prefix + "\n  no_huge: true",
		"log_level: notice":         "log_level: error",
		`rx_cpus: "1"`:              `rx_cpus: "` + strconv.Itoa(rxCPU()) + `"`,
		"max_files: 8 ":             "max_files: 0 ",
	}
	for i := 0; i+1 < len(edits); i += 2 {
		repls[edits[i]] = edits[i+1]
	}
	for old, repl := range repls {
		if !strings.Contains(s, old) {
			t.Fatalf("configs/capture.yaml lacks %q", old)
		}
		s = strings.Replace(s, old, repl, 1)
	}
	return writeConfig(t, s)
}

// runCaptureIn runs the capture config (filter, edits as captureConfig's)
// into dir for duration with the writer slowed by slow per burst (which
// bounds the data rate), stopped cleanly; it checks the run left no DPDK
// files and the capture equation holds, and returns the report, the
// run's output and its one queue.
func runCaptureIn(t *testing.T, dir, filter, duration, slow string, edits ...string) (report.Report, result, report.Queue) {
	t.Helper()
	prefix := uniquePrefix(t)
	cfg := captureConfig(t, prefix, dir, filter, edits...)
	rep := filepath.Join(t.TempDir(), "r.json")
	res := runRxprobe(t, "run", "--config", cfg, "--duration", duration, "--report", rep, "--no-exporter",
		"--debug-capture-slow-writer", slow)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	assertNoLeftovers(t, prefix)
	r := readReport(t, rep)
	if len(r.Ports) != 1 || len(r.Ports[0].Queues) != 1 {
		t.Fatalf("report has %d ports", len(r.Ports))
	}
	q := r.Ports[0].Queues[0]
	checkEquation(t, q)
	return r, res, q
}

// checkEquation fails unless the queue's capture equation holds, in the
// report's figures and its own verdict.
func checkEquation(t *testing.T, q report.Queue) {
	t.Helper()
	c := q.Capture
	if c == nil {
		t.Fatal("report has no capture block")
	}
	if q.RXPackets == 0 || q.RXPackets != c.Written+c.FilteredOut+c.RingDropped+c.DiskDropped+c.Expired || !c.Equation {
		t.Fatalf("capture equation: rx %d, written %d + filtered %d + ring %d + disk %d + expired %d (holds: %v)",
			q.RXPackets, c.Written, c.FilteredOut, c.RingDropped, c.DiskDropped, c.Expired, c.Equation)
	}
}

// runCapture runs the capture config for 2 s with the writer slowed (so
// the files stay small) and returns the report's one queue.
func runCapture(t *testing.T, filter string) (report.Queue, string) {
	t.Helper()
	dir := t.TempDir()
	r, res, q := runCaptureIn(t, dir, filter, "2s", "2ms")
	c := q.Capture
	var ledger uint64
	for _, l := range r.Ledger {
		if l.Layer == "capture_ring" {
			ledger = l.Drops
		}
	}
	if ledger != c.RingDropped {
		t.Errorf("ledger capture_ring %d, the queue's ring dropped %d", ledger, c.RingDropped)
	}
	if !strings.Contains(res.stdout, "CAPTURE") || !strings.Contains(res.stdout, "holds") {
		t.Errorf("summary lacks the capture line:\n%s", res.stdout)
	}
	if part, _ := filepath.Glob(filepath.Join(dir, "*.part")); len(part) != 0 {
		t.Errorf("unfinished files left: %v", part)
	}
	return q, dir
}

// TestCaptureNetNull captures net_null's frames (zeros: not IP) and reads
// the files back with capinfos: as many packets as the report's written.
func TestCaptureNetNull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (DPDK)")
	}
	if _, err := exec.LookPath("capinfos"); err != nil {
		t.Skip("needs capinfos (wireshark-common)")
	}
	q, dir := runCapture(t, "not ip")
	c := q.Capture
	if c.Written == 0 || c.FilteredOut != 0 || c.Files == 0 {
		t.Fatalf("capture: %+v", *c)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	if uint64(len(files)) != c.Files {
		t.Errorf("%d files on disk, report says %d", len(files), c.Files)
	}
	n := capinfosCount(t, files)
	if n != c.Written {
		t.Errorf("files hold %d packets, the report says %d written", n, c.Written)
	}
}

// TestCaptureFilterMatchesNone: "ip" matches none of net_null's frames;
// every packet is filtered out, none written, the equation still holds.
func TestCaptureFilterMatchesNone(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (DPDK)")
	}
	q, _ := runCapture(t, "ip")
	if c := q.Capture; c.FilteredOut != q.RXPackets || c.Written != 0 || c.RingDropped != 0 {
		t.Errorf("filter ip on zeroed frames: rx %d, %+v", q.RXPackets, *c)
	}
}

// TestCaptureBadFilter: an invalid expression is one line naming
// capture.filter, before EAL starts (no DPDK files left).
func TestCaptureBadFilter(t *testing.T) {
	prefix := uniquePrefix(t)
	cfg := captureConfig(t, prefix, t.TempDir(), "not ip")
	res := runRxprobe(t, "run", "--config", cfg, "--duration", "1s", "--capture-filter", "udp port nope")
	if res.code == 0 {
		t.Fatal("a bad filter ran")
	}
	lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "capture.filter") {
		t.Errorf("want one line naming capture.filter, got:\n%s", res.stderr)
	}
	if strings.Contains(res.stdout+res.stderr, "EAL") {
		t.Errorf("EAL started:\n%s%s", res.stdout, res.stderr)
	}
	assertNoLeftovers(t, prefix)
}

// capinfosCount is the number of packets capinfos reads in the pcapng
// files at paths.
func capinfosCount(t *testing.T, paths []string) uint64 {
	t.Helper()
	var n uint64
	for _, f := range paths {
		out, err := exec.Command("capinfos", "-M", "-c", "-T", "-r", f).CombinedOutput()
		if err != nil {
			t.Fatalf("capinfos %s: %v: %s", f, err, out)
		}
		fields := strings.Fields(string(out))
		k, err := strconv.ParseUint(fields[len(fields)-1], 10, 64)
		if err != nil || len(fields) != 2 {
			t.Fatalf("capinfos %s: %q", f, out)
		}
		n += k
	}
	return n
}

// TestIntegrationVethCaptureFilterExact: the generator sends two flows
// (UDP source ports 1024 and 1025) over a veth pair; a capture filtered
// on one of them writes exactly half the packets, and capinfos reads
// exactly those back. 20,000 frames at 10 kpps: more than the port's
// pool holds, so the writer's frees cycle every mbuf of the pool through
// AF_XDP's fill ring. Before the pool was packed (dpdk.NewMempool), every
// frame after the first ~9,500 was dropped here (fill ring drained by
// mbufs outside the UMEM).
func TestIntegrationVethCaptureFilterExact(t *testing.T) {
	if _, err := exec.LookPath("capinfos"); err != nil {
		t.Skip("needs capinfos (wireshark-common)")
	}
	const n = 20000
	v := newVethPair(t)
	body := strings.Replace(vethConfig(v, "net_af_xdp0", fmt.Sprintf(afXDPArgs, v.a), 4096), "  size: 64\n", "  size: 64\n  flows: 2\n", 1)
	cfg := writeConfig(t, body)
	dir, capDir := t.TempDir(), t.TempDir()
	runRep, genRep := filepath.Join(dir, "run.json"), filepath.Join(dir, "gen.json")
	cmd, done := startRun(t, cfg, runRep, "--capture-dir", capDir, "--capture-filter", "udp src port 1024")
	g := genInNS(t, v, cfg, genRep, "--count", fmt.Sprint(n), "--rate", "10000")
	stopRun(t, cmd, done)
	r := readReport(t, runRep)
	if g.Sent != n {
		t.Fatalf("gen sent %d, want %d", g.Sent, n)
	}
	q := r.Ports[0].Queues[0]
	c := q.Capture
	if c == nil || !c.Equation {
		t.Fatalf("capture block %+v (rx %d)", c, q.RXPackets)
	}
	if r.RXPackets < n {
		t.Fatalf("received %d of %d sent (dropped %d, kernel %+v, ledger %+v): the filter's count cannot be exact", r.RXPackets, n, r.RXDropped, r.Ports[0].Kernel, r.Ledger)
	}
	if c.Written != n/2 || c.RingDropped != 0 || c.FilteredOut != q.RXPackets-n/2 {
		t.Errorf("written %d, ring dropped %d, filtered out %d of rx %d: want %d written", c.Written, c.RingDropped, c.FilteredOut, q.RXPackets, n/2)
	}
	paths, _ := filepath.Glob(filepath.Join(capDir, "*.pcapng"))
	if got := capinfosCount(t, paths); got != c.Written {
		t.Errorf("files hold %d packets, report says %d written", got, c.Written)
	}
	// The file's closing interface statistics block says what the report
	// says: received, NIC drops, accepted by the filter, ring drops,
	// delivered.
	if len(paths) != 1 {
		t.Fatalf("%d files, want 1 (no rotation)", len(paths))
	}
	f, err := pcapng.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Stats) == 0 {
		t.Fatal("no interface statistics block")
	}
	isb := f.Stats[len(f.Stats)-1].Options
	p := r.Ports[0]
	for _, w := range []struct {
		code uint16
		name string
		want uint64
	}{
		{pcapng.OptISBIfRecv, "isb_ifrecv", q.RXPackets},
		{pcapng.OptISBIfDrop, "isb_ifdrop", p.IMissed + p.RXNoMbuf},
		{pcapng.OptISBFilterAcc, "isb_filteraccept", c.Written + c.RingDropped},
		{pcapng.OptISBOSDrop, "isb_osdrop", c.RingDropped},
		{pcapng.OptISBUsrDeliv, "isb_usrdeliv", c.Written},
	} {
		if got, ok := isb.Uint64(w.code); !ok || got != w.want {
			t.Errorf("%s = %d (present %v), the report says %d", w.name, got, ok, w.want)
		}
	}
}
