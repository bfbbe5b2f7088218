package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rxprobe/rxprobe/rx/capture/pcapng"
)

// timestampsEdit is the captureConfig edit that sets capture.timestamps.
func timestampsEdit(v string) []string {
	return []string{`# cpus: "0"`, "timestamps: " + v + "\n  # cpus: \"0\""}
}

// TestCaptureTimestampsNICRefused: net_null offers no RX timestamps, so
// capture.timestamps nic is one line naming the setting, the port and the
// fix; nothing of the run is left (no DPDK runtime directory or hugepage
// files, no shared-memory segment, no capture file).
func TestCaptureTimestampsNICRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (DPDK)")
	}
	prefix := uniquePrefix(t)
	dir := t.TempDir()
	cfg := captureConfig(t, prefix, dir, "not ip", timestampsEdit("nic")...)
	res := runRxprobe(t, "run", "--config", cfg, "--duration", "1s", "--no-exporter")
	if res.code == 0 {
		t.Fatal("timestamps nic on net_null ran")
	}
	lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "capture.timestamps") || !strings.Contains(lines[0], "net_null0") ||
		!strings.Contains(lines[0], "auto or tsc") {
		t.Errorf("want one line naming capture.timestamps, the port and the fix, got:\n%s", res.stderr)
	}
	assertNoLeftovers(t, prefix)
	if shm, _ := filepath.Glob("/dev/shm/*" + prefix + "*"); len(shm) != 0 {
		t.Errorf("shared-memory segment left: %v", shm)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("capture files left: %v", ents)
	}
}

// TestCaptureTimestampsAutoIsTSCOnNetNull: with timestamps auto, a port
// without RX timestamps stamps with the TSC, and says so: in every file's
// interface block (read back strictly) and in the report.
func TestCaptureTimestampsAutoIsTSCOnNetNull(t *testing.T) {
	needCaptureDisk(t)
	dir := t.TempDir()
	_, _, q := runCaptureIn(t, dir, "not ip", "1s", "5ms", timestampsEdit("auto")...)
	c := q.Capture
	if c.Clock != "tsc" || c.NICStamped != 0 {
		t.Errorf("report: clock %q, %d NIC-stamped; want tsc, 0", c.Clock, c.NICStamped)
	}
	done, _ := dirFiles(t, dir)
	if len(done) == 0 {
		t.Fatal("no capture file")
	}
	for _, p := range done {
		f, err := pcapng.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Interfaces) != 1 {
			t.Fatalf("%s: %d interfaces", p, len(f.Interfaces))
		}
		d := f.Interfaces[0].Options.String(pcapng.OptIfDescription)
		if !strings.Contains(d, "clock: TSC of the RX core, UTC-anchored") || strings.Contains(d, "NIC") {
			t.Errorf("%s: if_description %q, want the TSC clock", p, d)
		}
	}
}
