package hugepages

import (
	"errors"
	"fmt"
)

// Sentinel errors; match them with errors.Is.
var (
	// ErrNotRoot means the kernel refused a write or mount: run as root
	// (or with CAP_SYS_ADMIN) on a writable sysfs.
	ErrNotRoot = errors.New("needs root")
	// ErrSizeUnsupported means the kernel has no pool of that page size.
	ErrSizeUnsupported = errors.New("page size not supported by this kernel")
	// ErrNoNode means the NUMA node does not exist on this host.
	ErrNoNode = errors.New("no such NUMA node")
	// ErrNoMount means no hugetlbfs is mounted for a page size.
	ErrNoMount = errors.New("no hugetlbfs mounted")
)

// where names the node for messages: "node 0" or "any node".
func where(node int) string {
	if node < 0 {
		return "any node"
	}
	return fmt.Sprintf("node %d", node)
}

// ShortfallError reports that a node has fewer free hugepages than a Need
// asks for. Its message ends with the command that fixes it.
type ShortfallError struct {
	Need Need
	Free uint64
}

// Error implements error.
func (e *ShortfallError) Error() string {
	pages := e.Need.Pages()
	return fmt.Sprintf("need %d × %s hugepages on %s, %d free: run `%s`",
		pages, e.Need.Size, where(e.Need.Node), e.Free, e.Remedy())
}

// Missing returns how many more pages are needed.
func (e *ShortfallError) Missing() uint64 {
	if p := e.Need.Pages(); p > e.Free {
		return p - e.Free
	}
	return 0
}

// Remedy returns the rxprobe command that reserves the missing pages.
func (e *ShortfallError) Remedy() string {
	node := ""
	if e.Need.Node >= 0 {
		node = fmt.Sprintf(" --node %d", e.Need.Node)
	}
	return fmt.Sprintf("rxprobe hugepages reserve%s --size %s --pages %d", node, e.Need.Size.Flag(), e.Missing())
}

// PartialGrantError reports that the kernel added fewer pages than asked,
// usually because there is not enough contiguous free memory left.
type PartialGrantError struct {
	Node    int
	Size    Size
	Asked   uint64
	Granted uint64
}

// Error implements error.
func (e *PartialGrantError) Error() string {
	return fmt.Sprintf("hugepages: %s %s: asked for %d more pages, kernel granted %d (not enough contiguous free memory; reserve at boot with hugepagesz=%s hugepages=N)",
		where(e.Node), e.Size.Flag(), e.Asked, e.Granted, e.Size.Flag())
}

// NoMountError reports that no hugetlbfs is mounted for a page size.
type NoMountError struct {
	Size Size
}

// Error implements error.
func (e *NoMountError) Error() string {
	return fmt.Sprintf("no hugetlbfs mounted for %s pages: run `%s`", e.Size, e.Remedy())
}

// Remedy returns a shell command that mounts hugetlbfs for the size.
func (e *NoMountError) Remedy() string {
	dir := DefaultMountDir(e.Size)
	return fmt.Sprintf("mkdir -p %s && mount -t hugetlbfs -o pagesize=%s nodev %s", dir, e.Size.Flag(), dir)
}

// Unwrap makes errors.Is(err, ErrNoMount) true.
func (e *NoMountError) Unwrap() error { return ErrNoMount }

// DefaultMountDir is where rxprobe suggests mounting hugetlbfs for a size:
// /dev/hugepages-2M, /dev/hugepages-1G.
func DefaultMountDir(s Size) string { return "/dev/hugepages-" + s.Flag() }
