package hugepages

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// Pool is one hugepage pool: the pages of one size on one NUMA node, or
// the global pool (Node -1). Reserved (resv_hugepages: promised to
// mappings but not yet faulted in) is only known for the global pool and is
// 0 on per-node pools.
type Pool struct {
	Node     int    `json:"node"`
	Size     Size   `json:"size"`
	Total    uint64 `json:"total"`
	Free     uint64 `json:"free"`
	Surplus  uint64 `json:"surplus"`
	Reserved uint64 `json:"reserved"`
}

// Mount is a hugetlbfs mount point and the page size it serves.
type Mount struct {
	Path string `json:"path"`
	Size Size   `json:"size"`
}

// FS is a view of a host's hugepage state through a root directory.
// The zero FS reads the live host ("/").
type FS struct {
	host hostfs.FS
	// writeFile replaces the write of a sysfs file in tests, so that
	// refusals and partial grants can be simulated; nil means the real one.
	writeFile func(path string, data []byte) error
}

// New returns an FS reading ROOT/sys and ROOT/proc; "" means "/".
func New(root string) FS { return FS{host: hostfs.New(root)} }

// Root returns the host root the FS reads.
func (fs FS) Root() string { return fs.host.Root() }

func (fs FS) path(elem ...string) string { return fs.host.Path(elem...) }

const (
	nodeDir   = hostfs.NodeDir
	globalDir = "sys/kernel/mm/hugepages"
)

// nodes returns the NUMA node numbers that have a hugepages directory,
// sorted; nil when the kernel exposes none (no NUMA).
func (fs FS) nodes() ([]int, error) {
	if !fs.host.HasNUMA() {
		return nil, nil
	}
	all, err := fs.host.Nodes()
	if err != nil {
		return nil, fmt.Errorf("hugepages: %w", err)
	}
	var out []int
	for _, n := range all {
		if fs.host.Exists(fmt.Sprintf("%s/node%d/hugepages", nodeDir, n)) {
			out = append(out, n)
		}
	}
	return out, nil
}

// poolDir returns the directory holding the counters for node and size:
// the per-node one, or the global one for node -1 and on hosts without
// NUMA nodes (where node 0 is also accepted). It checks that the node and
// size exist.
func (fs FS) poolDir(node int, size Size) (string, error) {
	sizes, err := fs.SupportedSizes()
	if err != nil {
		return "", err
	}
	if !slices.Contains(sizes, size) {
		return "", fmt.Errorf("hugepages: %s %s: %w", where(node), size.Flag(), ErrSizeUnsupported)
	}
	nodes, err := fs.nodes()
	if err != nil {
		return "", err
	}
	sub := fmt.Sprintf("hugepages-%dkB", size.kB())
	if node < 0 || (len(nodes) == 0 && node == 0) {
		return fs.path(globalDir, sub), nil
	}
	if !slices.Contains(nodes, node) {
		return "", fmt.Errorf("hugepages: node %d %s: %w (nodes: %v)", node, size.Flag(), ErrNoNode, nodes)
	}
	dir := fs.path(nodeDir, fmt.Sprintf("node%d", node), "hugepages", sub)
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("hugepages: node %d %s: %w", node, size.Flag(), ErrSizeUnsupported)
	}
	return dir, nil
}

// SupportedSizes returns the page sizes the kernel has pools for,
// smallest first.
func (fs FS) SupportedSizes() ([]Size, error) {
	ents, err := os.ReadDir(fs.path(globalDir))
	if err != nil {
		return nil, fmt.Errorf("hugepages: listing page sizes: %w", err)
	}
	var out []Size
	for _, e := range ents {
		s, err := parsePoolDir(e.Name())
		if err != nil {
			continue
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

// readPool reads the counters in dir. withResv also reads resv_hugepages,
// which only the global pool has.
func readPool(dir string, node int, size Size, withResv bool) (Pool, error) {
	p := Pool{Node: node, Size: size}
	fields := []struct {
		name string
		dst  *uint64
	}{
		{"nr_hugepages", &p.Total},
		{"free_hugepages", &p.Free},
		{"surplus_hugepages", &p.Surplus},
	}
	if withResv {
		fields = append(fields, struct {
			name string
			dst  *uint64
		}{"resv_hugepages", &p.Reserved})
	}
	for _, f := range fields {
		v, err := readCount(filepath.Join(dir, f.name))
		if err != nil {
			return Pool{}, fmt.Errorf("hugepages: %s %s: %w", where(node), size.Flag(), err)
		}
		*f.dst = v
	}
	return p, nil
}

// Pools returns every pool: per NUMA node when the kernel has nodes,
// otherwise the global pools with Node -1. Pools are sorted by node, then
// size.
func (fs FS) Pools() ([]Pool, error) {
	sizes, err := fs.SupportedSizes()
	if err != nil {
		return nil, err
	}
	nodes, err := fs.nodes()
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return fs.GlobalPools()
	}
	var out []Pool
	for _, n := range nodes {
		for _, s := range sizes {
			dir := fs.path(nodeDir, fmt.Sprintf("node%d", n), "hugepages", fmt.Sprintf("hugepages-%dkB", s.kB()))
			if _, err := os.Stat(dir); err != nil {
				continue
			}
			p, err := readPool(dir, n, s, false)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// GlobalPools returns the host-wide pools (Node -1), which include the
// Reserved count.
func (fs FS) GlobalPools() ([]Pool, error) {
	sizes, err := fs.SupportedSizes()
	if err != nil {
		return nil, err
	}
	out := make([]Pool, 0, len(sizes))
	for _, s := range sizes {
		p, err := readPool(fs.path(globalDir, fmt.Sprintf("hugepages-%dkB", s.kB())), -1, s, true)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Free returns the free pages of size on node (-1: the global pool). For
// the global pool, pages already promised to mappings (resv_hugepages) are
// not counted as free.
func (fs FS) Free(node int, size Size) (uint64, error) {
	dir, err := fs.poolDir(node, size)
	if err != nil {
		return 0, err
	}
	global := strings.HasPrefix(dir, fs.path(globalDir))
	p, err := readPool(dir, node, size, global)
	if err != nil {
		return 0, err
	}
	if p.Reserved >= p.Free {
		return 0, nil
	}
	return p.Free - p.Reserved, nil
}

// Mounts returns the hugetlbfs mounts in ROOT/proc/mounts. A mount without
// a pagesize= option serves the default size (Hugepagesize in
// ROOT/proc/meminfo).
func (fs FS) Mounts() ([]Mount, error) {
	b, err := readLimited(fs.path("proc/mounts"), maxTableFile)
	if err != nil {
		return nil, fmt.Errorf("hugepages: reading mounts: %w", err)
	}
	ents, err := parseMounts(b)
	if err != nil {
		return nil, fmt.Errorf("hugepages: %w", err)
	}
	var out []Mount
	var def Size
	for _, e := range ents {
		if e.FSType != "hugetlbfs" {
			continue
		}
		m := Mount{Path: e.Path}
		for _, o := range e.Options {
			if v, ok := strings.CutPrefix(o, "pagesize="); ok {
				s, err := ParseSize(v)
				if err != nil {
					return nil, fmt.Errorf("hugepages: mount %s: %w", e.Path, err)
				}
				m.Size = s
			}
		}
		if m.Size == 0 {
			if def == 0 {
				if def, err = fs.DefaultSize(); err != nil {
					return nil, fmt.Errorf("hugepages: mount %s has no pagesize option: %w", e.Path, err)
				}
			}
			m.Size = def
		}
		out = append(out, m)
	}
	return out, nil
}

// DefaultSize returns the kernel's default hugepage size (Hugepagesize in
// ROOT/proc/meminfo).
func (fs FS) DefaultSize() (Size, error) {
	b, err := readLimited(fs.path("proc/meminfo"), maxTableFile)
	if err != nil {
		return 0, fmt.Errorf("hugepages: reading meminfo: %w", err)
	}
	m, err := parseMeminfo(bytes.NewReader(b))
	if err != nil {
		return 0, fmt.Errorf("hugepages: %w", err)
	}
	v, ok := m["Hugepagesize"]
	if !ok || v == 0 {
		return 0, errors.New("hugepages: meminfo has no Hugepagesize")
	}
	return Size(v), nil
}

// Check verifies that every need can be met: enough free pages of its
// size on its node and a hugetlbfs mounted for its size. Needs for the
// same node and size are added up first. It returns the first problem: a
// *ShortfallError, a *NoMountError (errors.Is ErrNoMount), or a lookup
// error (ErrSizeUnsupported, ErrNoNode).
func (fs FS) Check(needs []Need) error {
	merged := MergeNeeds(needs)
	var mounts []Mount
	mountsRead := false
	for _, n := range merged {
		free, err := fs.Free(n.Node, n.Size)
		if err != nil {
			return err
		}
		if free < n.Pages() {
			return &ShortfallError{Need: n, Free: free}
		}
		if !mountsRead {
			if mounts, err = fs.Mounts(); err != nil {
				return err
			}
			mountsRead = true
		}
		if !slices.ContainsFunc(mounts, func(m Mount) bool { return m.Size == n.Size }) {
			return &NoMountError{Size: n.Size}
		}
	}
	return nil
}

// MergeNeeds adds up needs for the same node and size, keeping the order
// in which each (node, size) first appears. Needs of zero bytes are
// dropped.
func MergeNeeds(needs []Need) []Need {
	var out []Need
	for _, n := range needs {
		if n.Bytes == 0 {
			continue
		}
		i := slices.IndexFunc(out, func(o Need) bool { return o.Node == n.Node && o.Size == n.Size })
		if i < 0 {
			out = append(out, n)
			continue
		}
		out[i].Bytes += n.Bytes
	}
	return out
}

// writeSysfs writes data to an existing file in one write(2), as sysfs
// attributes want.
func writeSysfs(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeCount writes v to a sysfs counter, mapping a refusal to ErrNotRoot.
func (fs FS) writeCount(path string, v uint64) error {
	write := fs.writeFile
	if write == nil {
		write = writeSysfs
	}
	err := write(path, []byte(strconv.FormatUint(v, 10)+"\n"))
	if err == nil {
		return nil
	}
	if isPermission(err) {
		return fmt.Errorf("%w: writing %s: %w", ErrNotRoot, filepath.Base(path), errnoOf(err))
	}
	return fmt.Errorf("writing %s: %w", path, err)
}

// isPermission reports whether err is the kernel refusing us.
func isPermission(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS) || errors.Is(err, os.ErrPermission)
}

// errnoOf returns the errno inside err, or err itself.
func errnoOf(err error) error {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return err
}

// Reserve adds add pages of size on node (-1: the global pool, which the
// kernel spreads over nodes). It writes nr_hugepages = current total + add
// and reads it back. If the kernel granted fewer pages than asked, it
// returns the granted count and a *PartialGrantError.
func (fs FS) Reserve(node int, size Size, add uint64) (granted uint64, err error) {
	dir, err := fs.poolDir(node, size)
	if err != nil {
		return 0, err
	}
	nr := filepath.Join(dir, "nr_hugepages")
	before, err := readCount(nr)
	if err != nil {
		return 0, fmt.Errorf("hugepages: %s %s: %w", where(node), size.Flag(), err)
	}
	if add == 0 {
		return 0, nil
	}
	if err := fs.writeCount(nr, before+add); err != nil {
		return 0, fmt.Errorf("hugepages: %s %s: %w", where(node), size.Flag(), err)
	}
	after, err := readCount(nr)
	if err != nil {
		return 0, fmt.Errorf("hugepages: %s %s: reading back: %w", where(node), size.Flag(), err)
	}
	if after > before {
		granted = after - before
	}
	if granted < add {
		return granted, &PartialGrantError{Node: node, Size: size, Asked: add, Granted: granted}
	}
	return granted, nil
}

// Release lowers the pool of size on node by n pages. Only free pages can
// be released: asking for more than are free is an error and changes
// nothing.
func (fs FS) Release(node int, size Size, n uint64) error {
	dir, err := fs.poolDir(node, size)
	if err != nil {
		return err
	}
	p, err := readPool(dir, node, size, false)
	if err != nil {
		return err
	}
	if n > p.Free {
		return fmt.Errorf("hugepages: %s %s: cannot release %d pages: only %d of %d are free", where(node), size.Flag(), n, p.Free, p.Total)
	}
	if n == 0 {
		return nil
	}
	if err := fs.writeCount(filepath.Join(dir, "nr_hugepages"), p.Total-n); err != nil {
		return fmt.Errorf("hugepages: %s %s: %w", where(node), size.Flag(), err)
	}
	return nil
}

// EnsureMount mounts hugetlbfs with pagesize=size at dir (under the host
// root, created if missing) unless some hugetlbfs is already mounted for
// size. mounted reports whether it mounted one.
func (fs FS) EnsureMount(dir string, size Size) (mounted bool, err error) {
	sizes, err := fs.SupportedSizes()
	if err != nil {
		return false, err
	}
	if !slices.Contains(sizes, size) {
		return false, fmt.Errorf("hugepages: mount %s: %w", size.Flag(), ErrSizeUnsupported)
	}
	mounts, err := fs.Mounts()
	if err != nil {
		return false, err
	}
	if slices.ContainsFunc(mounts, func(m Mount) bool { return m.Size == size }) {
		return false, nil
	}
	target := fs.path(dir)
	if err := os.MkdirAll(target, 0o755); err != nil {
		if isPermission(err) {
			return false, fmt.Errorf("hugepages: mount %s at %s: %w: %w", size.Flag(), target, ErrNotRoot, err)
		}
		return false, fmt.Errorf("hugepages: mount %s at %s: %w", size.Flag(), target, err)
	}
	if err := unix.Mount("nodev", target, "hugetlbfs", 0, "pagesize="+size.Flag()); err != nil {
		if isPermission(err) {
			return false, fmt.Errorf("hugepages: mount %s at %s: %w: mount: %w", size.Flag(), target, ErrNotRoot, err)
		}
		return false, fmt.Errorf("hugepages: mount %s at %s: %w", size.Flag(), target, err)
	}
	return true, nil
}
