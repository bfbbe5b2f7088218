package hugepages

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// PoolStatus is a pool as `rxprobe hugepages status --json` prints it.
type PoolStatus struct {
	Node     int    `json:"node"` // -1: all nodes (the global pool)
	Size     string `json:"size"` // "2M", "1G"
	Bytes    uint64 `json:"page_bytes"`
	Total    uint64 `json:"total"`
	Free     uint64 `json:"free"`
	Surplus  uint64 `json:"surplus"`
	Reserved uint64 `json:"reserved"`
}

// MountStatus is a hugetlbfs mount as the status prints it.
type MountStatus struct {
	Path string `json:"path"`
	Size string `json:"size"`
}

// Status is a host's hugepage pools and hugetlbfs mounts.
type Status struct {
	Root   string        `json:"root"`
	Pools  []PoolStatus  `json:"pools"`
	Mounts []MountStatus `json:"mounts"`
}

// ReadStatus returns every pool (per node, then the global ones, which
// alone know the reserved count) and every hugetlbfs mount.
func (fs FS) ReadStatus() (Status, error) {
	st := Status{Root: fs.Root(), Pools: []PoolStatus{}, Mounts: []MountStatus{}}
	pools, err := fs.Pools()
	if err != nil {
		return st, err
	}
	if len(pools) > 0 && pools[0].Node >= 0 {
		global, err := fs.GlobalPools()
		if err != nil {
			return st, err
		}
		pools = append(pools, global...)
	}
	for _, p := range pools {
		st.Pools = append(st.Pools, PoolStatus{Node: p.Node, Size: p.Size.Flag(), Bytes: uint64(p.Size),
			Total: p.Total, Free: p.Free, Surplus: p.Surplus, Reserved: p.Reserved})
	}
	mounts, err := fs.Mounts()
	if err != nil {
		return st, err
	}
	for _, m := range mounts {
		st.Mounts = append(st.Mounts, MountStatus{Path: m.Path, Size: m.Size.Flag()})
	}
	return st, nil
}

// WriteText writes the status as `rxprobe hugepages status` prints it: a
// right-aligned table of the pools (node "all" for the global pools, the
// only ones with a reserved count), then the hugetlbfs mounts.
func (st Status) WriteText(out io.Writer) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "NODE\tSIZE\tTOTAL\tFREE\tSURPLUS\tRESERVED\t")
	for _, p := range st.Pools {
		node, resv := fmt.Sprint(p.Node), "-"
		if p.Node < 0 {
			node, resv = "all", fmt.Sprint(p.Reserved)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t\n", node, p.Size, p.Total, p.Free, p.Surplus, resv)
	}
	tw.Flush()
	if len(st.Mounts) == 0 {
		fmt.Fprintln(out, "\nno hugetlbfs mounted")
		return
	}
	fmt.Fprintln(out, "\nhugetlbfs mounts:")
	for _, m := range st.Mounts {
		fmt.Fprintf(out, "  %s (%s)\n", m.Path, m.Size)
	}
}
