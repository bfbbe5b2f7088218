package isolation

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, body := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func status(name string, pid int, allowed string) string {
	return "Name:\t" + name + "\nTgid:\t" + strconv.Itoa(pid) + "\nPid:\t" + strconv.Itoa(pid) + "\nPPid:\t1\nKthread:\t0\nCpus_allowed_list:\t" + allowed + "\n"
}

func TestDriftNamesWhatMovedOntoRXCPUs(t *testing.T) {
	root := t.TempDir()
	rx, hk := cpuset.Of(2, 3), cpuset.Of(0, 1)
	writeTree(t, root, map[string]string{
		"proc/interrupts": "           CPU0       CPU1       CPU2       CPU3\n" +
			" 41:          5          0          0          0  IR-PCI-MSI 1-edge      virtio3-rx\n" +
			" 42:          5          0          0          0  IR-PCI-MSI 2-edge      virtio3-tx\n",
		"proc/irq/41/smp_affinity_list":              "0-1\n",
		"proc/irq/41/effective_affinity_list":        "0\n",
		"proc/irq/42/smp_affinity_list":              "0-1\n",
		"proc/irq/42/effective_affinity_list":        "1\n",
		"proc/100/task/100/status":                   status("bash", 100, "0-3"),
		"proc/200/task/200/status":                   status("sshd", 200, "0-1"),
		"sys/kernel/mm/transparent_hugepage/enabled": "always [madvise] never\n",
		"proc/sys/kernel/numa_balancing":             "0\n",
		"sys/kernel/mm/ksm/run":                      "0\n",
	})
	h := hostfs.New(root)
	before, err := TakeState(h, rx, hk, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(before.IRQs) != 0 || len(before.Pinned) != 0 {
		t.Fatalf("clean host shows %v / %v", before.IRQs, before.Pinned)
	}
	if d := Drift(before, before, rx); len(d) != 0 {
		t.Errorf("no change, yet drift %q", d)
	}
	// A restarted irqbalance moves IRQ 41 onto CPU 2, someone pins a
	// stress-ng onto CPU 3, and THP is switched to always.
	writeTree(t, root, map[string]string{
		"proc/irq/41/smp_affinity_list":              "2\n",
		"proc/irq/41/effective_affinity_list":        "2\n",
		"proc/300/task/300/status":                   status("stress-ng", 300, "3"),
		"proc/300/comm":                              "stress-ng\n",
		"sys/kernel/mm/transparent_hugepage/enabled": "[always] madvise never\n",
	})
	after, err := TakeState(h, rx, hk, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"irq 41 (virtio3-rx) now may fire on RX CPU 2: smp_affinity_list 2, effective 2 (did not target RX CPUs)",
		"pid 300 (stress-ng) is now pinned toward RX CPU 3 (Cpus_allowed_list 3)",
		`transparent_hugepage changed from "always [madvise] never" to "[always] madvise never": page moves cause TLB shootdowns`,
	}
	if d := cmp.Diff(want, Drift(before, after, rx)); d != "" {
		t.Errorf("drift (-want +got):\n%s", d)
	}
	// The excluded process (rxprobe itself) is never news.
	excl, _ := TakeState(h, rx, hk, 300)
	if _, ok := excl.Pinned[300]; ok {
		t.Error("excluded pid listed")
	}
}
