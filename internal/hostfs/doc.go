// Package hostfs is the one place rxprobe turns a host root into paths and
// answers the host's topology questions, as prometheus/procfs's FS does
// for its readers.
//
// An FS is a machine seen through its root directory: ROOT/proc, ROOT/sys
// and ROOT/etc. New("/") (or New(""), or the zero FS) is the live host;
// any other root is a copy of another machine's files, so every reader can
// be pointed at fixtures and tests never need root. The "" → "/" rule is
// applied here and nowhere else.
//
// Topology: online CPUs, NUMA nodes and their CPUs, the node of a CPU and
// of a PCI device, and the kernel's nohz_full and isolated CPU sets.
//
// PCI addresses follow one rule everywhere (ParsePCIAddr): "3b:00.0" and
// "0000:3b:00.0" name the same device, hex digits in either case; the
// canonical form is the kernel's, "0000:3b:00.0". PCINode never silently
// answers node 0: on a host with several NUMA nodes a device without
// locality (numa_node -1, or no numa_node file) is ErrNoLocality. On a host
// with a single node, -1 means node 0, the only node there is.
//
// The package reads only, never writes, and does not use cgo. Reading
// allocates: it is for start-up and preflight, not for a sampling loop
// (stats/kernel keeps descriptors open for that).
package hostfs
