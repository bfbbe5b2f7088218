package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/rx/capture/pcapng"
)

// readEventFile reads a trigger-mode file with the strict reader and with
// capinfos and tshark (same count, no warnings), checks its timestamps
// never go backwards, and returns how many packets are stamped before and
// at-or-after at.
func readEventFile(t *testing.T, path string, at time.Time) (before, after int) {
	t.Helper()
	f, err := pcapng.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := capinfosCount(t, []string{path}); n != uint64(len(f.Packets)) {
		t.Errorf("%s: capinfos reads %d packets, the strict reader %d", path, n, len(f.Packets))
	}
	cmd := exec.Command("tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.number")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if se := strings.TrimSpace(stderr.String()); err != nil || (se != "" && !strings.Contains(se, "Running as user \"root\"")) {
		t.Errorf("tshark %s: err %v, stderr %q", path, err, se)
	}
	if n := len(strings.Fields(string(out))); n != len(f.Packets) {
		t.Errorf("%s: tshark reads %d packets, the strict reader %d", path, n, len(f.Packets))
	}
	var prev uint64
	for i, p := range f.Packets {
		if p.Timestamp < prev {
			t.Fatalf("%s: packet %d goes back in time", path, i)
		}
		prev = p.Timestamp
		if p.Timestamp < uint64(at.UnixNano()) {
			before++
		} else {
			after++
		}
	}
	return before, after
}

func needTshark(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"capinfos", "tshark"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (apt-get install -y tshark)", tool)
		}
	}
}

// TestIntegrationVethTriggerOnSIGUSR1: `rxprobe gen` sends 3000 frames
// over a veth pair at 1 kpps; SIGUSR1 to the run halfway through produces
// exactly one event file, named after the signal, holding the packets of
// the history (before the signal) and those after it: every packet the
// run received, since the event lasts until the stop.
func TestIntegrationVethTriggerOnSIGUSR1(t *testing.T) {
	needTshark(t)
	v := newNamedVethPair(t, "rxtg")
	capDir := t.TempDir()
	body := vethConfig(v, "net_af_xdp0", fmt.Sprintf(afXDPArgs, v.a), 4096) + fmt.Sprintf(`capture:
  enabled: true
  mode: trigger
  dir: %s
  snaplen: 128
  history_mb: 4
  after: 60s
  triggers: [signal]
`, capDir)
	cfg := writeConfig(t, body)
	dir := t.TempDir()
	runRep, genRep := filepath.Join(dir, "run.json"), filepath.Join(dir, "gen.json")
	cmd, done := startRun(t, cfg, runRep)
	signalled := make(chan time.Time, 1)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		at := time.Now()
		_ = cmd.Process.Signal(syscall.SIGUSR1)
		signalled <- at
	}()
	g := genInNS(t, v, cfg, genRep, "--count", "3000", "--rate", "1000")
	at := <-signalled
	stopRun(t, cmd, done)
	r := readReport(t, runRep)
	q := r.Ports[0].Queues[0]
	checkEquation(t, q)
	c := q.Capture
	if g.Sent != 3000 || q.RXPackets < 3000 {
		t.Fatalf("gen sent %d, the run received %d: want 3000", g.Sent, q.RXPackets)
	}
	if c.Mode != "trigger" || c.Triggers != 1 || len(c.Events) != 1 || c.Events[0].Reason != "signal" || c.Files != 1 {
		t.Fatalf("capture block: mode %q, %d triggers, %d files, events %+v: want one signal event", c.Mode, c.Triggers, c.Files, c.Events)
	}
	paths, _ := filepath.Glob(filepath.Join(capDir, "*"))
	if len(paths) != 1 || filepath.Base(paths[0]) != c.Events[0].File || !strings.Contains(paths[0], "-signal-") {
		t.Fatalf("files %v, want exactly the event's %s", paths, c.Events[0].File)
	}
	before, after := readEventFile(t, paths[0], at)
	if before == 0 || after == 0 || uint64(before+after) != c.Written || c.Written != q.RXPackets || c.Expired != 0 {
		t.Errorf("file: %d packets before the signal, %d after; written %d, expired %d, rx %d: want both sides, all written",
			before, after, c.Written, c.Expired, q.RXPackets)
	}
}

// TestCaptureTriggerOnPlantedDrop: a writer slowed on purpose (hidden
// test option) with a 256-entry ring overflows at once; the ledger's
// capture_ring grows, the stats thread fires the drop trigger, and the
// file named after it holds packets from before and after the trigger.
func TestCaptureTriggerOnPlantedDrop(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (DPDK)")
	}
	needTshark(t)
	dir := t.TempDir()
	r, res, q := runCaptureIn(t, dir, "not ip", "3s", "2ms",
		"mode: continuous", "mode: trigger\n  history_mb: 4\n  after: 300ms\n  triggers: [drop]\n  ring_size: 256",
		"rotate_mb: 256 ", "rotate_mb: 0 ")
	c := q.Capture
	var ledger uint64
	for _, l := range r.Ledger {
		if l.Layer == "capture_ring" {
			ledger = l.Drops
		}
	}
	if c.RingDropped == 0 || ledger != c.RingDropped {
		t.Fatalf("ring dropped %d, ledger capture_ring %d: the planted drop did not happen", c.RingDropped, ledger)
	}
	if c.Mode != "trigger" || c.Triggers == 0 || len(c.Events) == 0 || uint64(len(c.Events)) != c.Triggers || c.Files != c.Triggers {
		t.Fatalf("capture block: mode %q, %d triggers, %d files, events %+v", c.Mode, c.Triggers, c.Files, c.Events)
	}
	if !strings.Contains(res.stdout, "trigger mode") {
		t.Errorf("summary does not mention trigger mode:\n%s", res.stdout)
	}
	var held uint64
	for i, e := range c.Events {
		if e.Reason != "drop" || !strings.Contains(e.File, "-drop-") {
			t.Errorf("event %d: %+v: want a drop event in a file named after it", i, e)
		}
		before, after := readEventFile(t, filepath.Join(dir, e.File), e.At)
		if i == 0 && (before == 0 || after == 0) {
			t.Errorf("first event file %s: %d packets before the trigger, %d after: want both", e.File, before, after)
		}
		held += uint64(before + after)
	}
	if held != c.Written || c.Expired == 0 {
		t.Errorf("event files hold %d packets, written %d, expired %d", held, c.Written, c.Expired)
	}
}
