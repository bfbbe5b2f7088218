package main

import (
	"errors"
	"github.com/rxprobe/rxprobe/internal/run"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/hugepages"
)

// oneGiBPage makes sure one free 1 GiB hugepage on node 0 and a
// hugetlbfs mount for 1 GiB pages exist. What it reserves it gives back,
// exactly that many pages, and what it mounts it unmounts, in t.Cleanup.
// It skips only when the kernel refuses the reservation.
func oneGiBPage(t *testing.T) {
	t.Helper()
	fs := hugepages.New("/")
	sizes, err := fs.SupportedSizes()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(sizeFlags(sizes), " "), "1G") {
		t.Skipf("the kernel has no 1 GiB hugepages (supported: %v): the CPU lacks pdpe1gb", sizeFlags(sizes))
	}
	free, err := fs.Free(0, hugepages.Size1G)
	if err != nil {
		t.Fatal(err)
	}
	if free < 1 {
		granted, err := fs.Reserve(0, hugepages.Size1G, 1)
		if granted > 0 {
			t.Cleanup(func() {
				if err := fs.Release(0, hugepages.Size1G, granted); err != nil {
					t.Errorf("giving back the %d reserved 1 GiB page(s): %v", granted, err)
				}
			})
		}
		var pe *hugepages.PartialGrantError
		switch {
		case errors.As(err, &pe):
			t.Skipf("the kernel refused to reserve a 1 GiB hugepage on node 0 (nr_hugepages of hugepages-1048576kB did not grow): no free, contiguous 1 GiB of memory")
		case errors.Is(err, hugepages.ErrNotRoot) || errors.Is(err, os.ErrPermission):
			t.Skipf("needs root: reserving a 1 GiB hugepage: %v", err)
		case err != nil:
			t.Fatal(err)
		}
		t.Logf("reserved %d × 1 GiB hugepage on node 0 (given back at the end)", granted)
	}
	dir := filepath.Join(t.TempDir(), "huge-1G")
	mounted, err := fs.EnsureMount(dir, hugepages.Size1G)
	if err != nil {
		t.Fatal(err)
	}
	if mounted {
		t.Logf("mounted hugetlbfs pagesize=1G at %s (unmounted at the end)", dir)
		t.Cleanup(func() {
			if err := syscall.Unmount(dir, 0); err != nil {
				t.Errorf("unmounting %s: %v", dir, err)
			}
		})
	}
}

func sizeFlags(sizes []hugepages.Size) []string {
	var out []string
	for _, s := range sizes {
		out = append(out, s.Flag())
	}
	return out
}

// The design's 1 GiB hugepage mempools: rxprobe runs net_null with
// eal.hugepage_size 1G, its memory on a 1 GiB page (one page fewer is free
// while it runs), and leaves no file behind.
func TestIntegrationRunOn1GiBHugepages(t *testing.T) {
	oneGiBPage(t)
	fs := hugepages.New("/")
	prefix := uniquePrefix(t)
	cfg := writeConfig(t, strings.Replace(nullConfig(prefix, false, ""), "eal:\n", "eal:\n  hugepage_size: 1G\n", 1))
	rep := filepath.Join(t.TempDir(), "r.json")
	before, err := fs.Free(0, hugepages.Size1G)
	if err != nil {
		t.Fatal(err)
	}
	cmd, done := startRun(t, cfg, rep, "--no-exporter")
	terminateOnCleanup(t, cmd, done)
	during, err := fs.Free(0, hugepages.Size1G)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(run.Warmup + 500*time.Millisecond) // the steady state is measured
	stopRun(t, cmd, done)
	r := readReport(t, rep)
	checkReport(t, r)
	args := strings.Join(r.EALArgs, " ")
	mounts, _ := fs.Mounts()
	var dirs []string
	for _, m := range mounts {
		if m.Size == hugepages.Size1G {
			dirs = append(dirs, m.Path)
		}
	}
	if !strings.Contains(args, "--socket-mem 1024") || !containsAny(args, dirs, "--huge-dir ") {
		t.Errorf("EAL args %q: want --socket-mem 1024 and --huge-dir on a 1 GiB mount %v", args, dirs)
	}
	if during >= before {
		t.Errorf("free 1 GiB pages %d before the run, %d while it ran: its memory was not on a 1 GiB page", before, during)
	}
	for _, d := range r.Degraded {
		if strings.Contains(d, "no hugepages") {
			t.Errorf("run on 1 GiB pages reported %q", d)
		}
	}
	assertNoLeftovers(t, prefix)
}

func containsAny(s string, list []string, prefix string) bool {
	for _, v := range list {
		if strings.Contains(s, prefix+v) {
			return true
		}
	}
	return false
}
