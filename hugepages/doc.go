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
// Ensure reserves what a list of Needs lacks and mounts hugetlbfs where
// none serves a size, one line per action; the Change it returns records
// exactly the pages it added (the nr_hugepages delta it read) and the mounts
// it made, and Undo gives back that and nothing more. `rxprobe hugepages
// reserve --config` and `rxprobe demo` both use it.
//
// Reading never needs privileges. Reserve, Release and EnsureMount write
// sysfs or call mount(2): whether that is allowed is found out by trying,
// and a refusal is reported as ErrNotRoot. All errors carry the node and
// page size they concern and can be matched with errors.Is (ErrNotRoot,
// ErrSizeUnsupported, ErrNoNode, ErrNoMount) and errors.As
// (*ShortfallError, *PartialGrantError, *NoMountError).
package hugepages
