package hugepages

// Need is hugepage memory a configuration needs on one NUMA node. Node -1
// means any node (the global pool).
type Need struct {
	Node  int    `json:"node"`
	Size  Size   `json:"size"`
	Bytes uint64 `json:"bytes"`
}

// Pages returns how many pages of n.Size hold n.Bytes, rounded up.
func (n Need) Pages() uint64 {
	if n.Size == 0 {
		return 0
	}
	return n.Bytes/uint64(n.Size) + min(1, n.Bytes%uint64(n.Size))
}
