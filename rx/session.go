package rx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rxprobe/rxprobe/hugepages"
	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/rx/config"
	"github.com/rxprobe/rxprobe/rx/internal/dpdk"
)

// ErrHugepages is matched by every pre-start memory problem; the error is
// also a *hugepages.ShortfallError or *hugepages.NoMountError with the remedy.
var ErrHugepages = errors.New("not enough hugepage memory")

type hugeErr struct{ err error }

func (e *hugeErr) Error() string   { return e.err.Error() }
func (e *hugeErr) Unwrap() []error { return []error{ErrHugepages, e.err} }
func wrapHuge(err error) error     { return &hugeErr{err} }

// session is one EAL lifetime: what it was started with and what it must
// remove afterwards.
type session struct {
	plan   *EALPlan
	up     bool
	shmDir string // where stats segments live ("" is shm.DefaultDir)
}

// hugeDirFor returns the hugetlbfs mount for size.
func hugeDirFor(fs hugepages.FS, size hugepages.Size) (string, error) {
	mounts, err := fs.Mounts()
	if err != nil {
		return "", err
	}
	for _, m := range mounts {
		if m.Size == size {
			return m.Path, nil
		}
	}
	return "", &hugepages.NoMountError{Size: size}
}

// prepare checks memory and confines the process; it changes nothing on
// the host.
func prepare(hostRoot string, noHuge bool, size hugepages.Size, plan func(hugeDir string) *EALPlan, hk cpuset.Set) (*EALPlan, error) {
	fs := hugepages.New(hostRoot)
	dir := ""
	if !noHuge {
		d, err := hugeDirFor(fs, size)
		if err != nil {
			return nil, wrapHuge(err)
		}
		dir = d
	}
	p := plan(dir)
	if !noHuge {
		if err := fs.Check(p.Needs); err != nil {
			return nil, wrapHuge(err)
		}
	}
	if err := ConfineProcess(hk); err != nil {
		return nil, err
	}
	return p, nil
}

// start removes what killed runs left behind (saying so in one line on
// stderr) and runs rte_eal_init with the plan's arguments.
func (s *session) start() error {
	if l := staleLine(removeStale(s.shmDir, runtimeBases())); l != "" {
		fmt.Fprintln(os.Stderr, "rxprobe: "+l)
	}
	if err := dpdk.Init(s.plan.Args); err != nil {
		s.removeFiles()
		return fmt.Errorf("rx: EAL (%s): %w", strings.Join(s.plan.Args[1:], " "), err)
	}
	s.up = true
	return nil
}

// end runs rte_eal_cleanup and removes what EAL leaves behind.
func (s *session) end() error {
	var err error
	if s.up {
		err = dpdk.Cleanup()
		s.up = false
	}
	s.removeFiles()
	return err
}

// removeFiles deletes the run's runtime directory and hugepage files.
func (s *session) removeFiles() {
	if s.plan == nil || s.plan.Prefix == "" {
		return
	}
	for _, base := range runtimeBases() {
		_ = os.RemoveAll(filepath.Join(base, s.plan.Prefix))
	}
	if s.plan.HugeDir != "" {
		files, _ := filepath.Glob(filepath.Join(s.plan.HugeDir, s.plan.Prefix+"map_*"))
		for _, f := range files {
			_ = os.Remove(f)
		}
	}
}

// portNode is the NUMA node a port's memory goes on: the PCI device's node,
// or for a virtual device the node of its first RX CPU. When the node
// cannot be found (hostfs.ErrNoLocality on a multi-node host, an
// unreadable numa_node, a missing device) it returns node 0 and the
// reason, which the caller must report; on a single-node host a device
// without locality is on node 0 and that is no error.
func portNode(h hostfs.FS, dev string, cpus []int) (int, error) {
	if config.IsPCI(dev) {
		n, err := h.PCINode(dev)
		if err != nil {
			return 0, fmt.Errorf("rx: port %s: NUMA node unknown, memory placed on node 0: %w", dev, err)
		}
		return n, nil
	}
	if len(cpus) == 0 {
		return 0, nil
	}
	n, err := h.CPUNode(cpus[0])
	if err != nil {
		return 0, fmt.Errorf("rx: port %s: NUMA node of RX CPU %d unknown, memory placed on node 0: %w", dev, cpus[0], err)
	}
	return n, nil
}

// NodeOf returns the function that places each port of cfg on a NUMA node
// of host h. `rxprobe hugepages reserve --config` and preflight use the
// same placement. A port whose node cannot be found is placed on node 0;
// NUMAProblems says which and why, and the engine carries that into the
// run's degraded list (preflight's numa_locality check reports it too).
func NodeOf(h hostfs.FS) func(config.Port) int {
	return func(p config.Port) int {
		n, _ := portNode(h, p.Device, p.QueueCPUs()) // reported by NUMAProblems
		return n
	}
}

// NUMAProblems lists, one line each, the ports of cfg that NodeOf placed
// on node 0 because their NUMA node could not be found on h.
func NUMAProblems(h hostfs.FS, cfg *config.Config) []string {
	var out []string
	for _, p := range cfg.Ports {
		if _, err := portNode(h, p.Device, p.QueueCPUs()); err != nil {
			out = append(out, err.Error())
		}
	}
	return out
}
