package isolation

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHostTopology(t *testing.T) {
	h := fixture("isolated-2socket")
	online, err := h.OnlineCPUs()
	if err != nil || online.String() != "0-31" {
		t.Errorf("OnlineCPUs() = %v, %v; want 0-31", online, err)
	}
	nodes, err := h.Nodes()
	if diff := cmp.Diff([]int{0, 1}, nodes); err != nil || diff != "" {
		t.Errorf("Nodes() = %v, %v; mismatch (-want +got):\n%s", nodes, err, diff)
	}
	for cpu, want := range map[int]int{0: 0, 7: 0, 8: 1, 16: 0, 23: 0, 24: 1, 31: 1} {
		if got, err := h.CPUNode(cpu); err != nil || got != want {
			t.Errorf("CPUNode(%d) = %d, %v; want %d", cpu, got, err, want)
		}
	}
	if _, err := h.CPUNode(64); !errors.Is(err, ErrNoSuchCPU) {
		t.Errorf("CPUNode(64) error = %v, want ErrNoSuchCPU", err)
	}
	for addr, want := range map[string]int{"0000:3b:00.0": 0, "0000:AF:00.0": 1} {
		if got, err := h.PCINode(addr); err != nil || got != want {
			t.Errorf("PCINode(%q) = %d, %v; want %d", addr, got, err, want)
		}
	}
	for _, bad := range []string{"3b:00.0", "../../../etc", "0000:3b:00.0/../x", "0000:00:1f.0"} {
		if _, err := h.PCINode(bad); err == nil {
			t.Errorf("PCINode(%q) succeeded", bad)
		}
	}
	if h.hostname() != "probe-a1" {
		t.Errorf("hostname() = %q", h.hostname())
	}
}

func TestHostNoNUMA(t *testing.T) {
	h := Host{Root: t.TempDir()}
	nodes, err := h.Nodes()
	if diff := cmp.Diff([]int{0}, nodes); err != nil || diff != "" {
		t.Errorf("Nodes() without NUMA = %v, %v", nodes, err)
	}
	if _, err := h.OnlineCPUs(); err == nil {
		t.Errorf("OnlineCPUs() on an empty root succeeded")
	}
	if _, err := h.CPUNode(0); err == nil {
		t.Errorf("CPUNode(0) on an empty root succeeded")
	}
}

func TestHostGarbled(t *testing.T) {
	h := fixture("garbled")
	if _, err := h.OnlineCPUs(); err == nil {
		t.Errorf(`OnlineCPUs() of "0-" succeeded`)
	}
	if _, err := h.PCINode("0000:3b:00.0"); err == nil {
		t.Errorf(`PCINode with numa_node "bogus" succeeded`)
	}
}
