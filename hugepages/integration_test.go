package hugepages

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLiveReserveRelease reserves 4 × 2M pages on node 0 of this machine,
// sees them in Pools and gives them back. Other processes may be using
// hugepages at the same time, so it only ever gives back what it added.
func TestLiveReserveRelease(t *testing.T) {
	h := New("/")
	sizes, err := h.SupportedSizes()
	if err != nil || !slices.Contains(sizes, Size2M) {
		t.Skipf("host has no 2M hugepage pool: %v", err)
	}
	node := 0
	if nodes, _ := h.nodes(); len(nodes) == 0 {
		node = -1
	}
	before := livePool(t, h, node)

	var held uint64
	t.Cleanup(func() {
		if held == 0 {
			return
		}
		if err := h.Release(node, Size2M, held); err != nil {
			t.Errorf("cleanup: giving back %d pages (nr_hugepages was %d): %v", held, before.Total, err)
		}
	})
	got, err := h.Reserve(node, Size2M, 4)
	held = got
	if errors.Is(err, ErrNotRoot) {
		t.Skip("needs root: writing nr_hugepages: permission denied")
	}
	var pe *PartialGrantError
	if errors.As(err, &pe) {
		t.Skipf("kernel granted only %d of 4 pages (memory too fragmented): %v", got, err)
	}
	if err != nil {
		t.Fatalf("Reserve(%d, 2M, 4) = %d, %v", node, got, err)
	}
	if got != 4 {
		t.Fatalf("Reserve granted %d pages, want 4", got)
	}
	during := livePool(t, h, node)
	if during.Total < before.Total+4 {
		t.Errorf("after Reserve: total %d, want at least %d + 4", during.Total, before.Total)
	}
	if err := h.Release(node, Size2M, 4); err != nil {
		t.Fatalf("Release(%d, 2M, 4): %v", node, err)
	}
	held = 0
	after := livePool(t, h, node)
	if after.Total >= during.Total {
		t.Errorf("after Release: total %d, want it below %d", after.Total, during.Total)
	}
}

func livePool(t *testing.T, h FS, node int) Pool {
	t.Helper()
	var pools []Pool
	var err error
	if node < 0 {
		pools, err = h.GlobalPools()
	} else {
		pools, err = h.Pools()
	}
	if err != nil {
		t.Fatalf("Pools: %v", err)
	}
	i := slices.IndexFunc(pools, func(p Pool) bool { return p.Node == node && p.Size == Size2M })
	if i < 0 {
		t.Fatalf("no 2M pool for node %d in %+v", node, pools)
	}
	return pools[i]
}

// TestLiveEnsureMount mounts a hugetlbfs for 1G pages in a temporary
// directory when the host has a 1G pool and none is mounted, then unmounts
// it.
func TestLiveEnsureMount(t *testing.T) {
	h := New("/")
	sizes, err := h.SupportedSizes()
	if err != nil || !slices.Contains(sizes, Size1G) {
		t.Skipf("host has no 1G hugepage pool: %v", err)
	}
	mounts, err := h.Mounts()
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(mounts, func(m Mount) bool { return m.Size == Size1G }) {
		t.Skip("a 1G hugetlbfs is already mounted on this host")
	}
	dir := filepath.Join(t.TempDir(), "huge1G")
	mounted, err := h.EnsureMount(dir, Size1G)
	if errors.Is(err, ErrNotRoot) {
		t.Skipf("needs root: mount: %v", err)
	}
	if err != nil {
		t.Fatalf("EnsureMount: %v", err)
	}
	if !mounted {
		t.Fatalf("EnsureMount reported no mount although none was there")
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
		os.Remove(dir)
	})
	mounts, err = h.Mounts()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(mounts, Mount{Path: dir, Size: Size1G}) {
		t.Errorf("Mounts() = %+v, want it to include %s (1G)", mounts, dir)
	}
	again, err := h.EnsureMount(dir+"-2", Size1G)
	if again || err != nil {
		t.Errorf("second EnsureMount = %v, %v; want false, nil", again, err)
	}
}
