// Package hugepages reads and changes the kernel's hugepage pools and finds
// hugetlbfs mounts.
//
// Every file is reached through a host root (FS, built on hostfs.FS):
// ROOT/sys/... and ROOT/proc/..., so tests and offline analysis can point it
// at a copy of another machine's sysfs and procfs; New("/") is the live
// host.
//
// Pools are per NUMA node (/sys/devices/system/node/nodeN/hugepages) when
// the kernel has NUMA nodes; otherwise, and for the node-independent view,
// the global pools of /sys/kernel/mm/hugepages are used and reported with
// Node -1. A node argument of -1 always means the global pool.
//
// Reading never needs privileges. Reserve, Release and EnsureMount write
// sysfs or call mount(2): whether that is allowed is found out by trying,
// and a refusal is reported as ErrNotRoot. All errors carry the node and
// page size they concern and can be matched with errors.Is (ErrNotRoot,
// ErrSizeUnsupported, ErrNoNode, ErrNoMount) and errors.As
// (*ShortfallError, *PartialGrantError, *NoMountError).
package hugepages
