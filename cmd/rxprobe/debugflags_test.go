package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An out-of-range hidden option is one line and exit 2 before EAL starts:
// no hugepage files, runtime directory or shm segment of the run exist.
func TestRunDebugMunmapHzOutOfRange(t *testing.T) {
	prefix := uniquePrefix(t)
	cfg := writeConfig(t, nullConfig(prefix, false, ""))
	res := runRxprobe(t, "run", "--config", cfg, "--duration", "2s", "--debug-munmap-hz", "2000000000")
	if res.code != 2 {
		t.Fatalf("exit %d, want 2; stderr: %s", res.code, res.stderr)
	}
	msg := strings.TrimSpace(res.stderr)
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "rxprobe: --debug-munmap-hz 2000000000: ") {
		t.Errorf("want one line naming the option, got %q", msg)
	}
	assertNoLeftovers(t, prefix)
	if segs, _ := filepath.Glob(filepath.Join("/dev/shm", "*"+prefix+"*")); len(segs) > 0 {
		t.Errorf("shm segments left behind: %v", segs)
	}
}

// Every hidden option in use is in the report's degraded list.
func TestRunDebugOptionsAreDegraded(t *testing.T) {
	for name, args := range map[string][]string{
		"stdio, in-process, munmap": {"--debug-stdio-reads", "--metrics-inprocess", "--metrics-addr", freeLoopbackPort(t), "--debug-munmap-hz", "20"},
		"no stats":                  {"--debug-no-stats"},
		"rx pace":                   {"--debug-rx-pace-pps", "100000"},
	} {
		t.Run(name, func(t *testing.T) {
			prefix := uniquePrefix(t)
			rep := filepath.Join(t.TempDir(), "r.json")
			res := runRxprobe(t, append([]string{"run", "--config", writeConfig(t, nullConfig(prefix, true, "")), "--duration", "1s", "--report", rep}, args...)...)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			degraded := strings.Join(readReport(t, rep).Degraded, "\n")
			for _, a := range args {
				if strings.HasPrefix(a, "--debug-") || a == "--metrics-inprocess" {
					if !strings.Contains(degraded, "test option "+a) {
						t.Errorf("degraded list does not name %s:\n%s", a, degraded)
					}
				}
			}
			if !strings.Contains(res.stdout, "degraded: test option ") {
				t.Errorf("summary does not print the test options:\n%s", res.stdout)
			}
			assertNoLeftovers(t, prefix)
			if _, err := os.Stat(filepath.Join("/dev/shm", "rxprobe-"+prefix)); err == nil {
				t.Errorf("shm segment rxprobe-%s left behind", prefix)
			}
		})
	}
}

// The paced loop never receives more than the pace allows (pace × the
// run's time + one burst), while the same net_null unpaced delivers far
// more in the same time (the bound can fail). Only net_null ports may be
// paced: another port is refused in one line before EAL starts.
func TestRunDebugRXPace(t *testing.T) {
	const pace, burst = 20000, 32
	run := func(args ...string) (uint64, float64) {
		t.Helper()
		prefix := uniquePrefix(t)
		rep := filepath.Join(t.TempDir(), "r.json")
		res := runRxprobe(t, append([]string{"run", "--config", writeConfig(t, nullConfig(prefix, true, "")), "--duration", "1s", "--report", rep, "--no-exporter"}, args...)...)
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		assertNoLeftovers(t, prefix)
		r := readReport(t, rep)
		return r.RXPackets, r.DurationS
	}
	bound := func(d float64) uint64 { return uint64(pace*d) + burst }
	if n, d := run(); n <= bound(d) {
		t.Fatalf("unpaced net_null: %d packets in %.2f s, within the paced bound %d: the check cannot fail", n, d, bound(d))
	}
	n, d := run("--debug-rx-pace-pps", fmt.Sprint(pace))
	if n == 0 || n > bound(d) {
		t.Errorf("paced at %d pps: %d packets in %.2f s, want 1..%d", pace, n, d, bound(d))
	}

	prefix := uniquePrefix(t)
	cfg := strings.Replace(nullConfig(prefix, true, ""), "device: net_null0", "device: net_af_packet0\n    devargs: \"iface=lo\"", 1)
	res := runRxprobe(t, "run", "--config", writeConfig(t, cfg), "--duration", "1s", "--debug-rx-pace-pps", "1000")
	msg := strings.TrimSpace(res.stderr)
	if res.code == 0 || strings.Contains(msg, "\n") || !strings.Contains(msg, "net_null ports only") {
		t.Errorf("pacing a net_af_packet port: exit %d, stderr %q; want one line naming net_null", res.code, msg)
	}
	assertNoLeftovers(t, prefix)
}
