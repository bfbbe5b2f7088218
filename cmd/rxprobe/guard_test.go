package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/internal/run/report"
)

// guardConfig is net_null on the RX CPU with the drift check every second.
func guardConfig(t *testing.T, prefix string) string {
	return writeConfig(t, nullConfig(prefix, true, "")+"guard:\n  drift_interval: 1s\n")
}

// haveTracefs reports whether the flight recorder can run here, and why not.
func haveTracefs() (bool, string) {
	if os.Geteuid() != 0 {
		return false, "needs root: tracefs instances"
	}
	if _, err := os.Stat("/sys/kernel/tracing/instances"); err != nil {
		return false, "no tracefs at /sys/kernel/tracing (mount -t tracefs nodev /sys/kernel/tracing)"
	}
	return true, ""
}

func eventsOf(r report.Report, kind string) (n int, details []string) {
	for _, e := range r.Events {
		if e.Kind == kind {
			n++
			if e.Detail != "" {
				details = append(details, e.Detail)
			}
		}
	}
	return
}

// Planted fault 1: a thread of the RX process maps and unmaps pages; the
// guard sees TLB shootdowns on the RX CPU and the flight recorder names
// that thread.
func TestIntegrationGuardPlantedMunmapThread(t *testing.T) {
	prefix := uniquePrefix(t)
	rep := filepath.Join(t.TempDir(), "r.json")
	res := runRxprobe(t, "run", "--config", guardConfig(t, prefix), "--duration", "4s", "--no-exporter",
		"--debug-munmap-hz", "200", "--report", rep)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	r := readReport(t, rep)
	n, details := eventsOf(r, "TLB")
	if n == 0 {
		t.Fatalf("no TLB events with a munmap thread running; events: %+v", r.Events)
	}
	ok, why := haveTracefs()
	if !ok {
		t.Logf("%d TLB events seen; who sent them is not checked", n)
		t.Skip(why)
	}
	named := false
	for _, d := range details {
		if munmapThread.MatchString(d) && strings.Contains(d, "flush_tlb") {
			named = true
		}
	}
	if !named {
		t.Errorf("no TLB event attributed to the rxp-munmap thread; details: %q", details)
	}
	t.Logf("%d TLB events; e.g. %s", n, details[0])
}

// munmapThread matches the planted thread of the RX process.
var munmapThread = regexp.MustCompile(`sent by tid \d+ \(` + regexp.QuoteMeta(rxProcessComm()) + `, rxp-munmap\)`)

// rxProcessComm is the process name the flight recorder gives the RX
// process: the test binary plays rxprobe, so its file name (rxprobe.test
// under go test), cut to the kernel's 15-character comm.
func rxProcessComm() string {
	name := filepath.Base(os.Args[0])
	if len(name) > 15 {
		name = name[:15]
	}
	return name
}

// Planted fault 3: a busy process pinned onto the RX CPU makes loop gaps,
// and the drift check names it.
func TestIntegrationGuardPinnedHog(t *testing.T) {
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("needs taskset (util-linux)")
	}
	prefix := uniquePrefix(t)
	rep := filepath.Join(t.TempDir(), "r.json")
	cmd, done := startRun(t, guardConfig(t, prefix), rep, "--no-exporter")
	time.Sleep(1500 * time.Millisecond) // the watcher's baseline is taken
	hog := exec.Command("taskset", "-c", strconv.Itoa(rxCPU()), "sh", "-c", "while :; do :; done")
	if err := hog.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	_ = hog.Process.Kill()
	_ = hog.Wait()
	stopRun(t, cmd, done)
	r := readReport(t, rep)
	if gaps, _ := eventsOf(r, "gap"); gaps == 0 {
		t.Errorf("a CPU hog on the RX CPU made no loop-gap event; events %+v", r.Events)
	}
	_, drift := eventsOf(r, "drift")
	want := fmt.Sprintf("pid %d (sh) is now pinned toward RX CPU %d", hog.Process.Pid, rxCPU())
	found := false
	for _, d := range drift {
		found = found || strings.Contains(d, want)
	}
	if !found {
		t.Errorf("drift does not name the hog (%q); drift events: %q", want, drift)
	}
}

// Planted fault 2: a device IRQ's affinity moved onto the RX CPU.
func TestIntegrationGuardIRQMovedOntoRXCPU(t *testing.T) {
	irq, restore := movableIRQ(t)
	prefix := uniquePrefix(t)
	rep := filepath.Join(t.TempDir(), "r.json")
	cmd, done := startRun(t, guardConfig(t, prefix), rep, "--no-exporter")
	time.Sleep(1500 * time.Millisecond)
	if err := os.WriteFile("/proc/irq/"+irq+"/smp_affinity_list", []byte(strconv.Itoa(rxCPU())), 0o644); err != nil {
		t.Fatalf("moving irq %s: %v", irq, err)
	}
	time.Sleep(2500 * time.Millisecond)
	restore()
	stopRun(t, cmd, done)
	r := readReport(t, rep)
	_, drift := eventsOf(r, "drift")
	re := regexp.MustCompile(`^irq ` + irq + ` \(.*\) now may fire on RX CPU ` + strconv.Itoa(rxCPU()) + `: smp_affinity_list ` + strconv.Itoa(rxCPU()))
	found := false
	for _, d := range drift {
		found = found || re.MatchString(d)
	}
	if !found {
		t.Errorf("drift does not report irq %s moved onto CPU %d: %q", irq, rxCPU(), drift)
	}
}

// movableIRQ finds an IRQ whose affinity can be set to the RX CPU alone and
// returns it with a function that puts the old affinity back.
func movableIRQ(t *testing.T) (string, func()) {
	t.Helper()
	ents, err := os.ReadDir("/proc/irq")
	if err != nil {
		t.Skipf("no /proc/irq: %v", err)
	}
	target := strconv.Itoa(rxCPU())
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		p := "/proc/irq/" + e.Name() + "/smp_affinity_list"
		old, err := os.ReadFile(p)
		if err != nil || strings.TrimSpace(string(old)) == target {
			continue
		}
		if err := os.WriteFile(p, []byte(target), 0o644); err != nil {
			if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
				t.Skipf("needs root: writing %s: %v", p, err)
			}
			continue // managed or per-CPU: cannot be moved
		}
		// Movable: put it back for now; the test moves it while rxprobe runs.
		restore := func() { _ = os.WriteFile(p, old, 0o644) }
		restore()
		t.Cleanup(restore)
		return e.Name(), restore
	}
	t.Skip("no movable IRQ on this machine: every IRQ is managed, per-CPU or already on the RX CPU only")
	return "", nil
}

// A clean run: whatever the host does to the RX CPU, none of the
// interrupts come from the RX process's own threads (main thread, stats
// thread, Go runtime). The exporter and the watcher are other processes:
// the recorder names them "(pid N, ...)" and they cannot shoot down the
// RX CPU's TLB. First a control in the same test: the same detector, on a
// run with a planted munmap thread, must see that thread named, which
// proves the flight recorder was recording and the detector matches.
func TestIntegrationGuardCleanRunIsNotTheCause(t *testing.T) {
	ok, why := haveTracefs()
	if !ok {
		t.Skip(why)
	}
	run := func(args ...string) report.Report {
		t.Helper()
		prefix := uniquePrefix(t)
		rep := filepath.Join(t.TempDir(), "r.json")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := rxprobeCmd(ctx, append([]string{"run", "--config", guardConfig(t, prefix), "--stats-interval", "100ms",
			"--metrics-addr", "127.0.0.1:" + freePort(t), "--report", rep}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("run: %v\n%s", err, out)
		}
		return readReport(t, rep)
	}
	self := func(r report.Report) (hits []string) {
		for _, e := range r.Events {
			if e.Detail != "" && rxProcessThread.MatchString(e.Detail) {
				hits = append(hits, fmt.Sprintf("%s %d at %s: %s", e.Kind, e.Count, e.At.Format("15:04:05.000"), e.Detail))
			}
		}
		return hits
	}

	control := self(run("--duration", "4s", "--debug-munmap-hz", "200"))
	named := false
	for _, h := range control {
		named = named || munmapThread.MatchString(h)
	}
	if !named {
		t.Fatalf("control: the planted rxp-munmap thread was not named, so the recorder or the detector is not working; self-attributed events: %q", control)
	}
	t.Logf("control: %d events attributed to the RX process, e.g. %s", len(control), control[0])

	if hits := self(run("--duration", "6s")); len(hits) > 0 {
		t.Errorf("rxprobe disturbed its own RX CPU in a clean run:\n%s", strings.Join(hits, "\n"))
	}
}

// rxProcessThread matches the recorder's name of a thread of the RX
// process itself: "tid N (rxprobe.test)" or "tid N (rxprobe.test,
// thread)". Threads of other processes read "tid N (pid P, ...)".
var rxProcessThread = regexp.MustCompile(`sent by tid \d+ \(` + regexp.QuoteMeta(rxProcessComm()) + `[,)]`)

func freePort(t *testing.T) string {
	t.Helper()
	for p := 20000 + os.Getpid()%20000; p < 65000; p += 7 {
		if err := exec.Command("sh", "-c", "! (exec 3<>/dev/tcp/127.0.0.1/"+strconv.Itoa(p)+") 2>/dev/null").Run(); err == nil {
			return strconv.Itoa(p)
		}
	}
	t.Fatal("no free port")
	return ""
}
