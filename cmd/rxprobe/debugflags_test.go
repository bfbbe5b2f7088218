package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDebugFlags(t *testing.T) {
	cases := []struct {
		name     string
		f        runFlags
		bad      string   // a word of the error; "" = accepted
		degraded []string // the options named in the degraded lines, in order
	}{
		{name: "none", f: runFlags{}},
		{name: "munmap 200", f: runFlags{munmapHz: 200}, degraded: []string{"--debug-munmap-hz 200"}},
		{name: "munmap max", f: runFlags{munmapHz: maxMunmapHz}, degraded: []string{"--debug-munmap-hz 10000"}},
		{name: "munmap 2e9 (panicked in NewTicker)", f: runFlags{munmapHz: 2000000000}, bad: "--debug-munmap-hz 2000000000: give 1 to 10000"},
		{name: "munmap just above", f: runFlags{munmapHz: maxMunmapHz + 1}, bad: "--debug-munmap-hz 10001"},
		{name: "munmap negative", f: runFlags{munmapHz: -1}, bad: "--debug-munmap-hz -1"},
		{name: "stdio", f: runFlags{stdioReads: true}, degraded: []string{"--debug-stdio-reads"}},
		{name: "no stats", f: runFlags{noStats: true}, degraded: []string{"--debug-no-stats"}},
		{name: "in-process", f: runFlags{inProcess: true}, degraded: []string{"--metrics-inprocess"}},
		{name: "all that combine", f: runFlags{stdioReads: true, inProcess: true, munmapHz: 1},
			degraded: []string{"--debug-stdio-reads", "--metrics-inprocess", "--debug-munmap-hz 1"}},
		{name: "no stats, in-process", f: runFlags{noStats: true, inProcess: true}, bad: "--debug-no-stats and --metrics-inprocess"},
		{name: "no stats, stdio", f: runFlags{noStats: true, stdioReads: true}, bad: "--debug-no-stats and --debug-stdio-reads"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.checkDebug()
			if tc.bad != "" {
				if !errors.Is(err, errDebugFlag) || !strings.Contains(err.Error(), tc.bad) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line with %q matching errDebugFlag", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := tc.f.debugDegraded()
			if len(got) != len(tc.degraded) {
				t.Fatalf("degraded = %q, want %d lines naming %q", got, len(tc.degraded), tc.degraded)
			}
			for i, w := range tc.degraded {
				if !strings.HasPrefix(got[i], "test option "+w+":") {
					t.Errorf("degraded[%d] = %q, want it to start with %q", i, got[i], "test option "+w+":")
				}
			}
		})
	}
}

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
