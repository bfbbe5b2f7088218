package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/internal/run/report"
	"github.com/rxprobe/rxprobe/internal/vethpair"
	"github.com/rxprobe/rxprobe/internal/vethpair/vethpairtest"
	"github.com/rxprobe/rxprobe/rx"
)

// vethPair is a veth pair with its B end in a network namespace of its own.
type vethPair struct {
	ns, a, b string
}

// newVethPair creates the pair (and a bpffs mount when none exists, which
// libxdp needs to attach AF_XDP programs reliably) and removes everything
// in t.Cleanup. It skips when the host does not let us create a namespace.
func newVethPair(t *testing.T) vethPair { return newNamedVethPair(t, "rxpt") }

// newNamedVethPair is newVethPair with names starting with tag (at most 4
// characters), so that tests of other packages or helpers running at the
// same time never meet the same names (vethpair adds the pid and a
// sequence number).
func newNamedVethPair(t *testing.T, tag string) vethPair {
	t.Helper()
	p := vethpairtest.New(t, vethpair.Options{Netns: true, Prefix: tag})
	v := vethPair{ns: p.NS, a: p.A, b: p.B}
	var st syscall.Statfs_t
	if err := syscall.Statfs("/sys/fs/bpf", &st); err == nil && st.Type != 0xcafe4a11 {
		if err := syscall.Mount("bpf", "/sys/fs/bpf", "bpf", 0, ""); err == nil {
			t.Cleanup(func() { _ = syscall.Unmount("/sys/fs/bpf", 0) })
		}
	}
	return v
}

func vethConfig(v vethPair, rxDev, rxArgs string, ring int) string {
	return fmt.Sprintf(`eal:
  log_level: error
  no_huge: true
ports:
  - name: veth
    device: %s
    devargs: "%s"
    rx_cpus: "%d"
    rx_ring: %d
generator:
  device: net_af_packet0
  devargs: "iface=%s,qpairs=1"
  cpu: 0
  size: 64
run:
  allow_unisolated: true
`, rxDev, rxArgs, rxCPU(), ring, v.b)
}

// startRun starts `rxprobe run` and waits until its loops run.
func startRun(t *testing.T, cfg, report string, extra ...string) (*exec.Cmd, chan error) {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	t.Cleanup(cancel)
	args := append([]string{"run", "--config", cfg, "--report", report, "--ready-file", ready}, extra...)
	cmd := rxprobeCmd(ctx, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			return cmd, done
		}
		select {
		case err := <-done:
			t.Fatalf("rxprobe run exited early: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("rxprobe run did not start")
		}
	}
}

func genInNS(t *testing.T, v vethPair, cfg, report string, args ...string) rx.GenReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	full := append([]string{"netns", "exec", v.ns, os.Args[0], "gen", "--config", cfg, "--report", report}, args...)
	cmd := exec.CommandContext(ctx, "ip", full...)
	cmd.Env = append(os.Environ(), "RXPROBE_AS_MAIN=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rxprobe gen: %v\n%s", err, out)
	}
	var g rx.GenReport
	if err := readJSON(report, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func stopRun(t *testing.T, cmd *exec.Cmd, done chan error) {
	t.Helper()
	time.Sleep(500 * time.Millisecond) // the last frames cross the veth
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := <-done; err != nil {
		t.Fatalf("rxprobe run: %v", err)
	}
}

// afXDPArgs are the devargs of a one-queue AF_XDP port on interface %s.
const afXDPArgs = "iface=%s,start_queue=0,queue_count=1,busy_budget=0"

// runVeth runs rxprobe on one end of a fresh veth pair (port rxDev with
// the devargs rxArgs, %s standing for the interface, and ring
// descriptors) while the generator sends with genArgs from the peer's
// namespace; during, if not nil, runs once the probe is up and before the
// generator starts. It returns the generator's and the run's reports.
func runVeth(t *testing.T, rxDev, rxArgs string, ring int, during func(), genArgs ...string) (rx.GenReport, report.Report) {
	t.Helper()
	v := newVethPair(t)
	cfg := writeConfig(t, vethConfig(v, rxDev, fmt.Sprintf(rxArgs, v.a), ring))
	dir := t.TempDir()
	runRep, genRep := filepath.Join(dir, "run.json"), filepath.Join(dir, "gen.json")
	cmd, done := startRun(t, cfg, runRep)
	if during != nil {
		during()
	}
	g := genInNS(t, v, cfg, genRep, genArgs...)
	stopRun(t, cmd, done)
	return g, readReport(t, runRep)
}

func TestIntegrationVethAFXDPExactCount(t *testing.T) {
	const n = 20000
	// A deep ring absorbs scheduling hiccups of a loaded test machine:
	// at 10 kpps, 4096 descriptors last 400 ms.
	g, r := runVeth(t, "net_af_xdp0", afXDPArgs, 4096, nil, "--count", fmt.Sprint(n), "--rate", "10000")
	if g.Sent != n || g.TXDropped != 0 {
		t.Fatalf("gen sent %d (dropped %d), want %d", g.Sent, g.TXDropped, n)
	}
	if r.RXPackets != n {
		t.Errorf("received %d of %d sent (run drops %d: %+v)", r.RXPackets, n, r.RXDropped, r.Ports[0].Kernel)
	}
	for _, l := range r.Ledger {
		if l.Drops != 0 {
			t.Errorf("ledger %s: %d drops in a lossless run", l.Layer, l.Drops)
		}
	}
	if r.Ports[0].Driver != "net_af_xdp" || r.RXBytes != n*64 {
		t.Errorf("driver %s, %d bytes (want %d)", r.Ports[0].Driver, r.RXBytes, n*64)
	}
}

func TestIntegrationVethOverloadShowsDrops(t *testing.T) {
	// Overload: the generator sends as fast as it can while a busy
	// process shares the RX CPU, so the 1024-entry ring overflows.
	hogRXCPU := func() {
		hog := exec.Command("taskset", "-c", fmt.Sprint(rxCPU()), "sh", "-c", "while :; do :; done")
		if err := hog.Start(); err != nil {
			t.Fatalf("starting the CPU hog: %v", err)
		}
		t.Cleanup(func() { _ = hog.Process.Kill(); _ = hog.Wait() })
	}
	g, r := runVeth(t, "net_af_xdp0", afXDPArgs, 1024, hogRXCPU, "--count", "1000000", "--rate", "0")
	t.Logf("sent %d, received %d, dropped %d (imissed %d, kernel %+v)", g.Sent, r.RXPackets, r.RXDropped, r.Ports[0].IMissed, r.Ports[0].Kernel)
	if r.RXDropped == 0 {
		t.Errorf("overload shows no drops: sent %d, received %d", g.Sent, r.RXPackets)
	}
	if g.Sent < r.RXPackets {
		t.Errorf("received %d > sent %d", r.RXPackets, g.Sent)
	}
	// The ledger closes the gap: every frame sent was received or counted
	// as dropped in exactly one layer (here: the veth's rx_dropped, where
	// the kernel drops what the AF_XDP socket had no room for).
	for _, l := range r.Ledger {
		t.Logf("ledger %s: %d (after the loop: %v)", l.Layer, l.Drops, l.AfterLoop)
	}
	if ledger := r.LostBeforeLoop(); r.RXPackets+ledger != g.Sent {
		t.Errorf("sent %d != received %d + ledger %d (difference %d)", g.Sent, r.RXPackets, ledger, int64(g.Sent)-int64(r.RXPackets+ledger))
	}
	if r.RXPackets == 0 {
		t.Error("nothing received at all: the port did not work")
	}
}

func TestIntegrationVethAFPacket(t *testing.T) {
	// framecnt=8192: the socket's kernel ring holds 0.8 s at 10 kpps.
	// With the default ring a loop kept off its CPU for ~50 ms by a
	// loaded machine loses frames, and DPDK 22.11's af_packet driver
	// counts those drops nowhere (not in imissed): the count would miss
	// frames without any ledger layer saying so.
	g, r := runVeth(t, "net_af_packet0", "iface=%s,qpairs=1,framecnt=8192", 1024, nil, "--count", "5000", "--rate", "10000")
	if g.Sent != 5000 || r.RXPackets != 5000 {
		t.Errorf("sent %d, received %d over AF_PACKET, want 5000 both", g.Sent, r.RXPackets)
	}
}
