package hugepages

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Added is pages Ensure added to one pool: the difference it read in
// nr_hugepages before and after its write.
type Added struct {
	Node  int
	Size  Size
	Pages uint64
}

// Change is what Ensure did to a host, and nothing else: the pages it added
// and the hugetlbfs it mounted. Undo gives back exactly that.
type Change struct {
	fs      FS
	Added   []Added
	Mounted []string // mount points, host paths (without the FS root)
	created []string // mount points Ensure created as directories
}

// Empty reports whether Ensure changed nothing.
func (c *Change) Empty() bool { return c == nil || len(c.Added) == 0 && len(c.Mounted) == 0 }

// Ensure makes needs satisfiable: for each (node, size) it reserves the
// pages that are not free yet, and for each size without a hugetlbfs it
// mounts one at mountDir (or DefaultMountDir(size) when mountDir is "" or
// the needs use several sizes). It writes one line per action to say and
// returns what it changed, also on error, so that the caller can undo a
// half-done job. A partial grant is a *PartialGrantError.
func (fs FS) Ensure(needs []Need, mountDir string, say func(string)) (*Change, error) {
	c := &Change{fs: fs}
	needs = MergeNeeds(needs)
	mounted := map[Size]bool{}
	for _, n := range needs {
		free, err := fs.Free(n.Node, n.Size)
		if err != nil {
			return c, err
		}
		if free >= n.Pages() {
			say(fmt.Sprintf("%s %s: %d pages needed, %d free: nothing to reserve", NodeLabel(n.Node), n.Size.Flag(), n.Pages(), free))
		} else {
			want := n.Pages() - free
			granted, err := fs.ReserveSaying(n.Node, n.Size, want, say)
			if granted > 0 {
				c.Added = append(c.Added, Added{Node: n.Node, Size: n.Size, Pages: granted})
			}
			if err != nil {
				return c, err
			}
		}
		if mounted[n.Size] {
			continue
		}
		mounted[n.Size] = true
		dir := mountDir
		if dir == "" || sizesDiffer(needs) {
			dir = DefaultMountDir(n.Size)
		}
		if err := c.mount(dir, n.Size, say); err != nil {
			return c, err
		}
	}
	return c, nil
}

// mount is the mount half of Ensure for one size: it mounts hugetlbfs at
// dir unless one serves size, recording what it did in c.
func (c *Change) mount(dir string, size Size, say func(string)) error {
	_, statErr := os.Stat(c.fs.path(dir))
	did, err := c.fs.EnsureMount(dir, size)
	if err != nil {
		return err
	}
	if did {
		c.Mounted = append(c.Mounted, dir)
		if errors.Is(statErr, os.ErrNotExist) {
			c.created = append(c.created, dir)
		}
		say(MountedLine(dir, size))
	}
	return nil
}

// WaitFree waits, up to timeout, until every pool Ensure added pages to
// has at least that many free, and reports whether they all were. Pages a
// process pinned are not always free when it exits: an AF_XDP socket's
// UMEM is unpinned by a kernel work item after the socket is closed, so
// call it before Undo once the processes using the pages have exited.
func (c *Change) WaitFree(timeout time.Duration) bool {
	if c == nil {
		return true
	}
	deadline := time.Now().Add(timeout)
	for {
		ready := true
		for _, a := range c.Added {
			if free, err := c.fs.Free(a.Node, a.Size); err != nil || free < a.Pages {
				ready = false
				break
			}
		}
		if ready || !time.Now().Before(deadline) {
			return ready
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Undo unmounts the hugetlbfs Ensure mounted (removing the directories it
// created) and then lowers each pool by exactly the pages Ensure added: a
// change another process made to a pool meanwhile stays. Pages still in
// use cannot be given back; Undo releases what is free and reports the rest
// in its error. It writes one line per action to say.
func (c *Change) Undo(say func(string)) error {
	if c == nil {
		return nil
	}
	var errs []error
	for i := len(c.Mounted) - 1; i >= 0; i-- {
		dir := c.Mounted[i]
		if err := unix.Unmount(c.fs.path(dir), 0); err != nil {
			errs = append(errs, fmt.Errorf("hugepages: unmount %s: %w", dir, err))
			continue
		}
		for _, d := range c.created {
			if d == dir {
				_ = os.Remove(c.fs.path(dir))
			}
		}
		say("unmounted hugetlbfs at " + dir)
	}
	c.Mounted, c.created = nil, nil
	var kept []Added
	for _, a := range c.Added {
		n, err := c.fs.release(a)
		if n > 0 {
			say(fmt.Sprintf("%s %s: released %d pages", NodeLabel(a.Node), a.Size.Flag(), n))
		}
		if err != nil {
			errs = append(errs, err)
			kept = append(kept, Added{Node: a.Node, Size: a.Size, Pages: a.Pages - n})
		}
	}
	c.Added = kept
	return errors.Join(errs...)
}

// release gives back a.Pages pages of a pool, or as many of them as are
// free, returning how many it released.
func (fs FS) release(a Added) (uint64, error) {
	dir, err := fs.poolDir(a.Node, a.Size)
	if err != nil {
		return 0, err
	}
	p, err := readPool(dir, a.Node, a.Size, false)
	if err != nil {
		return 0, err
	}
	n := min(a.Pages, p.Free)
	if err := fs.Release(a.Node, a.Size, n); err != nil {
		return 0, err
	}
	if n < a.Pages {
		return n, fmt.Errorf("hugepages: %s %s: %d of the %d pages added are still in use: release them with `rxprobe hugepages release%s --size %s --pages %d` once free",
			where(a.Node), a.Size.Flag(), a.Pages-n, a.Pages, nodeFlag(a.Node), a.Size.Flag(), a.Pages-n)
	}
	return n, nil
}

func nodeFlag(node int) string {
	if node < 0 {
		return ""
	}
	return fmt.Sprintf(" --node %d", node)
}

// nodeLabel names a pool in command output: "node 0" or "all nodes".
func NodeLabel(node int) string {
	if node < 0 {
		return "all nodes"
	}
	return fmt.Sprintf("node %d", node)
}

func sizesDiffer(needs []Need) bool {
	for _, n := range needs {
		if n.Size != needs[0].Size {
			return true
		}
	}
	return false
}

// MountedLine is the line said when hugetlbfs for size was mounted at dir.
func MountedLine(dir string, size Size) string {
	return fmt.Sprintf("mounted hugetlbfs pagesize=%s at %s", size.Flag(), dir)
}
