package hugepages

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeKernel makes writes to nr_hugepages behave like the kernel's: the
// free count moves by the same delta (capped at limit total pages when
// limit > 0).
func fakeKernel(t *testing.T, h *FS, limit uint64) {
	t.Helper()
	h.writeFile = func(path string, data []byte) error {
		want, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
		if err != nil {
			return err
		}
		if limit > 0 {
			want = min(want, limit)
		}
		old := readN(t, path)
		freePath := filepath.Join(filepath.Dir(path), "free_hugepages")
		writeN(t, freePath, readN(t, freePath)+want-old)
		writeN(t, path, want)
		return nil
	}
}

func readN(t *testing.T, path string) uint64 {
	t.Helper()
	v, err := readCount(path)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func writeN(t *testing.T, path string, v uint64) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strconv.FormatUint(v, 10)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureReservesTheDeltaAndUndoGivesBackExactlyIt(t *testing.T) {
	h := copyHost(t, "no-numa") // 512 total, 506 free, 2 of them promised: 504 usable
	fakeKernel(t, &h, 0)
	pool := filepath.Join(h.Root(), globalDir, "hugepages-2048kB")
	nr := filepath.Join(pool, "nr_hugepages")

	var said []string
	say := func(s string) { said = append(said, s) }
	c, err := h.Ensure([]Need{{Node: -1, Size: Size2M, Bytes: 500 << 21}, {Node: -1, Size: Size2M, Bytes: 20 << 21}}, "", say)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if diff := cmp.Diff([]Added{{Node: -1, Size: Size2M, Pages: 16}}, c.Added); diff != "" {
		t.Errorf("Added mismatch (-want +got):\n%s", diff)
	}
	if got := readN(t, nr); got != 528 {
		t.Errorf("nr_hugepages = %d after Ensure, want 512 + 16", got)
	}
	if len(c.Mounted) != 0 {
		t.Errorf("Mounted = %v, want none (the fixture has a 2M hugetlbfs)", c.Mounted)
	}
	// Another process grows the pool meanwhile: Undo must keep its pages.
	writeN(t, nr, 628)
	writeN(t, filepath.Join(pool, "free_hugepages"), 622)
	if err := c.Undo(say); err != nil {
		t.Fatalf("Undo: %v", err)
	}
	if got := readN(t, nr); got != 612 {
		t.Errorf("nr_hugepages = %d after Undo, want 628 - 16", got)
	}
	want := []string{"all nodes 2M: reserved 16 pages", "all nodes 2M: released 16 pages"}
	if diff := cmp.Diff(want, said); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
	if !c.Empty() {
		t.Errorf("Change not empty after Undo: %+v", c)
	}
}

func TestEnsureNothingMissingChangesNothing(t *testing.T) {
	h := copyHost(t, "isolated-2socket")
	h.writeFile = func(path string, _ []byte) error {
		t.Errorf("Ensure wrote %s although nothing was missing", path)
		return nil
	}
	var said []string
	c, err := h.Ensure([]Need{{Node: 0, Size: Size2M, Bytes: 10 << 21}, {Node: 1, Size: Size1G, Bytes: 1 << 30}}, "", func(s string) { said = append(said, s) })
	if err != nil || !c.Empty() {
		t.Fatalf("Ensure = %+v, %v; want no change", c, err)
	}
	want := []string{"node 0 2M: 10 pages needed, 1000 free: nothing to reserve", "node 1 1G: 1 pages needed, 4 free: nothing to reserve"}
	if diff := cmp.Diff(want, said); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
	if err := c.Undo(func(s string) { t.Errorf("Undo said %q with nothing to undo", s) }); err != nil {
		t.Errorf("Undo: %v", err)
	}
}

func TestEnsurePartialGrantIsRecorded(t *testing.T) {
	h := copyHost(t, "no-numa")
	fakeKernel(t, &h, 520) // the kernel finds memory for 8 more pages only
	var said []string
	c, err := h.Ensure([]Need{{Node: -1, Size: Size2M, Bytes: 520 << 21}}, "", func(s string) { said = append(said, s) })
	var pe *PartialGrantError
	if !errors.As(err, &pe) || pe.Granted != 8 {
		t.Fatalf("Ensure = %v, want a *PartialGrantError granting 8", err)
	}
	if diff := cmp.Diff([]Added{{Node: -1, Size: Size2M, Pages: 8}}, c.Added); diff != "" {
		t.Errorf("Added mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"all nodes 2M: granted 8 of 16 pages"}, said); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
	if err := c.Undo(func(string) {}); err != nil {
		t.Fatalf("Undo: %v", err)
	}
	if got := readN(t, filepath.Join(h.Root(), globalDir, "hugepages-2048kB", "nr_hugepages")); got != 512 {
		t.Errorf("nr_hugepages = %d after Undo, want 512", got)
	}
}

func TestUndoReleasesOnlyFreePages(t *testing.T) {
	h := copyHost(t, "no-numa")
	fakeKernel(t, &h, 0)
	c, err := h.Ensure([]Need{{Node: -1, Size: Size2M, Bytes: 520 << 21}}, "", func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	pool := filepath.Join(h.Root(), globalDir, "hugepages-2048kB")
	writeN(t, filepath.Join(pool, "free_hugepages"), 10) // a leftover process still maps pages
	err = c.Undo(func(string) {})
	if err == nil || !strings.Contains(err.Error(), "6 of the 16 pages added are still in use") ||
		!strings.Contains(err.Error(), "rxprobe hugepages release --size 2M --pages 6") {
		t.Fatalf("Undo = %v, want one naming the 6 busy pages and the command", err)
	}
	if got := readN(t, filepath.Join(pool, "nr_hugepages")); got != 518 {
		t.Errorf("nr_hugepages = %d, want 528 - 10", got)
	}
	if diff := cmp.Diff([]Added{{Node: -1, Size: Size2M, Pages: 6}}, c.Added); diff != "" {
		t.Errorf("Added after a partial Undo mismatch (-want +got):\n%s", diff)
	}
}

// WaitFree returns as soon as the pages Ensure added are free again, and
// false after its timeout while some are still in use (the demo's AF_XDP
// UMEM case: the kernel unpins it shortly after the socket closed).
func TestWaitFreeWaitsForPagesInUse(t *testing.T) {
	h := copyHost(t, "no-numa")
	fakeKernel(t, &h, 0)
	c, err := h.Ensure([]Need{{Node: -1, Size: Size2M, Bytes: 520 << 21}}, "", func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	free := filepath.Join(h.Root(), globalDir, "hugepages-2048kB", "free_hugepages")
	all := readN(t, free)
	writeN(t, free, 10) // 6 of the 16 added pages still in use
	if c.WaitFree(120 * time.Millisecond) {
		t.Fatal("WaitFree = true while 6 added pages are in use")
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		writeN(t, free, all) // the kernel gave them back
	}()
	if !c.WaitFree(5 * time.Second) {
		t.Fatal("WaitFree = false after the pages became free")
	}
	if err := c.Undo(func(string) {}); err != nil {
		t.Fatalf("Undo after WaitFree: %v", err)
	}
}
