package config

import (
	"sort"

	"github.com/rxprobe/rxprobe/hugepages"
	"github.com/rxprobe/rxprobe/rx/capture"
)

// Memory model used to check hugepages before EAL starts. The figures are
// conservative: the check must never pass a config that then fails in
// rte_pktmbuf_pool_create.
const (
	// MbufOverhead is the memory each mbuf takes beyond its data room:
	// struct rte_mbuf (128 B) plus the mempool object header and alignment.
	MbufOverhead = 128 + 64
	// ringEntryBytes is the mempool ring's cost per slot.
	ringEntryBytes = 8
	// BaseOverheadMB is EAL's own per-socket memory (memzones, ethdev data,
	// rings, malloc heap headers), measured on net_null and af_xdp.
	BaseOverheadMB = 64
	// mbufHeadroom is added to every pool so per-lcore caches of
	// non-RX lcores and in-flight bursts never starve the rings.
	mbufHeadroom = 1024
)

// MbufCount is the mempool size for the port: queues × (ring + burst +
// per-lcore cache) + headroom, rounded up to 2^k-1 (the size mempools store
// best), unless Mbufs overrides it.
func (p Port) MbufCount() uint32 {
	if p.Mbufs > 0 {
		return uint32(p.Mbufs)
	}
	n := uint64(p.RXQueues)*uint64(p.RXRing+p.Burst+p.MbufCache) + mbufHeadroom
	return uint32(pow2m1(n))
}

// PoolMbufs is the port's mempool size with capture c: MbufCount plus a
// full capture ring per queue, so full rings cannot starve RX.
func (p Port) PoolMbufs(c *capture.Config) uint32 {
	return p.MbufCount() + uint32(c.PoolMbufs(p.RXQueues))
}

// MbufCount is the generator's mempool size: TX ring + 2 bursts + cache + headroom.
func (g Generator) MbufCount() uint32 {
	return uint32(pow2m1(uint64(g.TXRing+2*g.Burst+DefaultMbufCache) + mbufHeadroom))
}

func pow2m1(n uint64) uint64 {
	p := uint64(1)
	for p-1 < n {
		p <<= 1
	}
	return p - 1
}

// PoolBytes is the memory a pool of n mbufs of dataRoom bytes takes.
func PoolBytes(n uint32, dataRoom int) uint64 {
	elt := uint64(dataRoom + MbufOverhead)
	elt = (elt + 63) &^ 63
	return uint64(n)*elt + (pow2m1(uint64(n))+1)*ringEntryBytes
}

// HugepageNeeds is the memory the RX side of the config needs per NUMA
// node, in the configured page size: each port's pool on the node nodeOf
// returns for it, plus EAL's base overhead and extra_memory_mb. It returns
// nil with no_huge. `rxprobe run` checks these before EAL init and
// `rxprobe hugepages reserve --config` reserves them.
func (c *Config) HugepageNeeds(nodeOf func(p Port) int) []hugepages.Need {
	if c.EAL.NoHuge {
		return nil
	}
	per := map[int]uint64{}
	for _, p := range c.Ports {
		per[nodeOf(p)] += PoolBytes(p.PoolMbufs(&c.Capture), p.DataRoom) + uint64(c.Capture.HugepageBytes(p.RXQueues))
	}
	return c.needs(per)
}

// GenHugepageNeeds is the memory `rxprobe gen` needs on node.
func (c *Config) GenHugepageNeeds(node int) []hugepages.Need {
	if c.EAL.NoHuge || c.Generator == nil {
		return nil
	}
	return c.needs(map[int]uint64{node: PoolBytes(c.Generator.MbufCount(), DefaultDataRoom)})
}

func (c *Config) needs(per map[int]uint64) []hugepages.Need {
	size := c.PageSize()
	var out []hugepages.Need
	for node, b := range per {
		b += uint64(BaseOverheadMB+c.EAL.ExtraMemoryMB) << 20
		out = append(out, hugepages.Need{Node: node, Size: size, Bytes: b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}

// SocketMemMB turns needs into EAL's --socket-mem list ("64,0,128"): the
// memory is reserved at start and, being preallocated, never returned to
// the kernel during the run. Each node gets whole pages.
func SocketMemMB(needs []hugepages.Need) []uint64 {
	max := -1
	for _, n := range needs {
		if n.Node > max {
			max = n.Node
		}
	}
	if max < 0 {
		return nil
	}
	out := make([]uint64, max+1)
	for _, n := range needs {
		node := n.Node
		if node < 0 {
			node = 0
		}
		out[node] += n.Pages() * uint64(n.Size) >> 20
	}
	return out
}
