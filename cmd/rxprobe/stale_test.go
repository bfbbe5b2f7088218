package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A run killed with SIGKILL leaves its stats segment and DPDK runtime
// directory behind; the next start removes them and says so in one line.
func TestStartAfterKillRemovesLeftovers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: DPDK on hugepages")
	}
	needHugepages(t, 64)
	shmDir := t.TempDir() // only this test's segments: other runs' are not looked at
	guard := "stats:\n  shm_dir: " + shmDir + "\nguard:\n  drift_interval: 0s\n  attribution: false\n"
	killed := uniquePrefix(t) + "-k"
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := rxprobeCmd(ctx, "run", "--config", writeConfig(t, nullConfig(killed, false, guard)), "--no-exporter", "--ready-file", ready)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, ready, cmd)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	seg, rundir := filepath.Join(shmDir, "rxprobe-"+killed), "/var/run/dpdk/"+killed
	t.Cleanup(func() { os.Remove(seg); os.RemoveAll(rundir) })
	// The detector first: the kill did leave both behind.
	for _, p := range []string{seg, rundir} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("after SIGKILL %s is not there, nothing to test: %v\n%s", p, err, stderr.String())
		}
	}

	next := uniquePrefix(t) + "-n"
	res := runRxprobe(t, "run", "--config", writeConfig(t, nullConfig(next, false, guard)), "--no-exporter", "--duration", "1s")
	if res.code != 0 {
		t.Fatalf("next run: exit %d: %s", res.code, res.stderr)
	}
	var said []string
	for _, l := range strings.Split(res.stderr, "\n") {
		if strings.Contains(l, "killed runs") {
			said = append(said, l)
		}
	}
	want := "rxprobe: removed what killed runs left behind: " + seg + ", " + rundir
	if len(said) != 1 || said[0] != want {
		t.Errorf("next run said %q, want exactly one line %q", said, want)
	}
	for _, p := range []string{seg, rundir} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after the next start: %v", p, err)
		}
	}
	assertNoLeftovers(t, killed)
	assertNoLeftovers(t, next)
}
