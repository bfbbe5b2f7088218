package hugepages

import (
	"os"
	"slices"
	"testing"
)

// lines collects what a *Saying method says.
type lines []string

func (l *lines) say(s string) { *l = append(*l, s) }

func TestSayingMethodsSayWhatTheyDid(t *testing.T) {
	h := copyHost(t, "misconfigured")
	var got lines
	if n, err := h.ReserveSaying(1, Size2M, 8, got.say); n != 8 || err != nil {
		t.Fatalf("ReserveSaying = %d, %v", n, err)
	}
	if err := h.ReleaseSaying(0, Size1G, 1, got.say); err != nil {
		t.Fatalf("ReleaseSaying = %v", err)
	}
	if err := h.ReleaseSaying(1, Size2M, 8, got.say); err == nil {
		t.Fatal("ReleaseSaying of busy pages: no error")
	}
	if _, err := h.ReserveSaying(7, Size2M, 1, got.say); err == nil {
		t.Fatal("ReserveSaying on node 7: no error")
	}
	// A 2M hugetlbfs is mounted already: nothing to do, nothing said.
	if err := h.EnsureMountSaying("/mnt/x", Size2M, got.say); err != nil {
		t.Fatalf("EnsureMountSaying = %v", err)
	}
	want := lines{"node 1 2M: reserved 8 pages", "node 0 1G: released 1 pages"}
	if !slices.Equal(got, want) {
		t.Errorf("said %q, want %q", got, want)
	}

	// The kernel finds memory for 2 of 4 pages.
	p := copyHost(t, "isolated-2socket")
	p.writeFile = func(path string, data []byte) error { return os.WriteFile(path, []byte("6\n"), 0o644) }
	got = nil
	if n, err := p.ReserveSaying(1, Size1G, 4, got.say); n != 2 || err == nil {
		t.Fatalf("partial ReserveSaying = %d, %v", n, err)
	}
	if want := (lines{"node 1 1G: granted 2 of 4 pages"}); !slices.Equal(got, want) {
		t.Errorf("partial grant said %q, want %q", got, want)
	}
}
