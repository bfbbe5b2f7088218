package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rxprobe/rxprobe/configs"
	"github.com/rxprobe/rxprobe/internal/run/report"
)

// captureConfig is configs/capture.yaml with the run's prefix, the test's
// directory and filter, on no_huge memory.
func captureConfig(t *testing.T, prefix, dir, filter string) string {
	t.Helper()
	b, err := configs.Files.ReadFile("capture.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for old, repl := range map[string]string{
		"dir: /tmp/rxprobe-capture": "dir: " + dir,
		`filter: "not ip"`:          "filter: " + strconv.Quote(filter),
		"hugepage_size: 2M":         "file_prefix: " + prefix + "\n  no_huge: true",
		"log_level: notice":         "log_level: error",
		`rx_cpus: "1"`:              `rx_cpus: "` + strconv.Itoa(rxCPU()) + `"`,
		"max_files: 8 ":             "max_files: 0 ",
	} {
		if !strings.Contains(s, old) {
			t.Fatalf("configs/capture.yaml lacks %q", old)
		}
		s = strings.Replace(s, old, repl, 1)
	}
	return writeConfig(t, s)
}

// runCapture runs the capture config for 2 s with the writer slowed (so
// the files stay small) and returns the report's one queue.
func runCapture(t *testing.T, filter string) (report.Queue, string) {
	t.Helper()
	prefix := uniquePrefix(t)
	dir := t.TempDir()
	cfg := captureConfig(t, prefix, dir, filter)
	rep := filepath.Join(t.TempDir(), "r.json")
	res := runRxprobe(t, "run", "--config", cfg, "--duration", "2s", "--report", rep, "--no-exporter",
		"--debug-capture-slow-writer", "2ms")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	assertNoLeftovers(t, prefix)
	r := readReport(t, rep)
	if len(r.Ports) != 1 || len(r.Ports[0].Queues) != 1 {
		t.Fatalf("report has %d ports", len(r.Ports))
	}
	q := r.Ports[0].Queues[0]
	c := q.Capture
	if c == nil {
		t.Fatal("report has no capture block")
	}
	if q.RXPackets == 0 || q.RXPackets != c.Written+c.FilteredOut+c.RingDropped+c.DiskDropped || !c.Equation {
		t.Fatalf("capture equation: rx %d, written %d + filtered %d + ring %d + disk %d (holds: %v)",
			q.RXPackets, c.Written, c.FilteredOut, c.RingDropped, c.DiskDropped, c.Equation)
	}
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
	var n uint64
	for _, f := range files {
		out, err := exec.Command("capinfos", "-M", "-c", "-T", "-r", f).CombinedOutput()
		if err != nil {
			t.Fatalf("capinfos %s: %v: %s", f, err, out)
		}
		fields := strings.Fields(string(out))
		if len(fields) != 2 {
			t.Fatalf("capinfos %s: %q", f, out)
		}
		k, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil {
			t.Fatalf("capinfos %s: %q", f, out)
		}
		n += k
	}
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
