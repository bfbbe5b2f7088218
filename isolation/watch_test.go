package isolation

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// cleanHost writes a host whose IRQ 41 stays off the RX CPUs 2-3.
func cleanHost(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"proc/interrupts": "           CPU0       CPU1       CPU2       CPU3\n" +
			" 41:          5          0          0          0  IR-PCI-MSI 1-edge      virtio3-rx\n",
		"proc/irq/41/smp_affinity_list":              "0-1\n",
		"proc/irq/41/effective_affinity_list":        "0\n",
		"sys/kernel/mm/transparent_hugepage/enabled": "always [madvise] never\n",
		"proc/sys/kernel/numa_balancing":             "0\n",
		"sys/kernel/mm/ksm/run":                      "0\n",
	})
	return root
}

// Watch says it is ready first, then reports what moved onto the RX CPUs
// at its next check, and returns nil when its context ends.
func TestWatchReportsDriftUntilCancelled(t *testing.T) {
	root := cleanHost(t)
	o := WatchOptions{Host: hostfs.New(root), RX: cpuset.Of(2, 3), Housekeeping: cpuset.Of(0, 1), Interval: time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines := make(chan DriftLine, 16)
	done := make(chan error, 1)
	go func() { done <- Watch(ctx, o, func(l DriftLine) error { lines <- l; return nil }) }()
	if l := <-lines; l.Kind != "ready" {
		t.Fatalf("first line %+v, want ready", l)
	}
	writeTree(t, root, map[string]string{
		"proc/irq/41/smp_affinity_list":       "2\n",
		"proc/irq/41/effective_affinity_list": "2\n",
	})
	l := <-lines
	want := "irq 41 (virtio3-rx) now may fire on RX CPU 2: smp_affinity_list 2, effective 2 (did not target RX CPUs)"
	if l.Kind != "drift" || l.Detail != want || l.CPU != -1 {
		t.Errorf("line %+v, want drift %q", l, want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch returned %v after cancel, want nil", err)
	}
}

// A reader that is gone (emit fails) ends the watch without error; a host
// whose state cannot be read fails at once.
func TestWatchEndsWhenTheReaderIsGone(t *testing.T) {
	root := cleanHost(t)
	o := WatchOptions{Host: hostfs.New(root), RX: cpuset.Of(2, 3), Housekeeping: cpuset.Of(0, 1), Interval: time.Second}
	writes := 0
	err := Watch(context.Background(), o, func(l DriftLine) error {
		writes++
		if l.Kind == "ready" {
			// Drift for the first check, which the reader refuses.
			writeTree(t, root, map[string]string{"proc/irq/41/smp_affinity_list": "2\n", "proc/irq/41/effective_affinity_list": "2\n"})
			return nil
		}
		return errors.New("reader gone")
	})
	if err != nil || writes != 2 {
		t.Errorf("Watch = %v after %d writes, want nil after 2", err, writes)
	}
	o.Host = hostfs.New(t.TempDir())
	if err := Watch(context.Background(), o, func(DriftLine) error { return nil }); err == nil {
		t.Error("Watch on an empty host root did not fail")
	}
}
