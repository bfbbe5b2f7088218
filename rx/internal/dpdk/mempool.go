package dpdk

/*
#include <stdlib.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>
#include "rxp.h"

// rxp_pool_packed is rte_pktmbuf_pool_create with RTE_MEMPOOL_F_NO_IOVA_CONTIG:
// objects laid end to end, none skipped to the next page boundary.
static struct rte_mempool *rxp_pool_packed(const char *name, unsigned n, unsigned cache,
					    uint16_t data_room, int socket)
{
	struct rte_pktmbuf_pool_private priv = {.mbuf_data_room_size = data_room, .mbuf_priv_size = 0};
	unsigned elt = sizeof(struct rte_mbuf) + data_room;
	struct rte_mempool *mp = rte_mempool_create_empty(name, n, elt, cache, sizeof(priv), socket,
							 RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	if (mp == NULL)
		return NULL;
	int rc = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL);
	if (rc == 0) {
		rte_pktmbuf_pool_init(mp, &priv);
		rc = rte_mempool_populate_default(mp);
		rc = rc < 0 ? rc : ((unsigned)rc == n ? 0 : -ENOMEM);
	}
	if (rc != 0) {
		rte_mempool_free(mp);
		rte_errno = -rc;
		return NULL;
	}
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	return mp;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Mempool is a packet-buffer pool (rte_pktmbuf_pool_create).
type Mempool struct {
	p    *C.struct_rte_mempool
	name string
}

// NewMempool creates a pool of n mbufs with a per-lcore cache of cache mbufs
// and dataRoom bytes of buffer (headroom included) on NUMA socket.
//
// packed lays the mbufs end to end (RTE_MEMPOOL_F_NO_IOVA_CONTIG) instead
// of moving an mbuf that would cross a page boundary to the next page.
// AF_XDP needs it: DPDK 22.11's af_xdp registers as its UMEM the first
// chunk's address plus n × the object size (drivers/net/af_xdp,
// xdp_umem_configure), so with gaps the last mbufs lie outside the UMEM,
// the kernel discards fill-ring entries pointing at them, and the fill
// ring drains for good. A loop that frees on its own core recycles a few
// hundred mbufs and never meets them; a capture (mbufs freed by the writer
// thread) cycles the whole pool and does: on 4 KiB pages (no_huge, one
// mbuf per page) every packet after the first ~9,500 was dropped
// (measured, 2026-11-30). Only for ports whose device never DMAs by IOVA.
func NewMempool(name string, n, cache uint32, dataRoom uint16, socket int, packed bool) (*Mempool, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var p *C.struct_rte_mempool
	if packed {
		p = C.rxp_pool_packed(cname, C.uint(n), C.uint(cache), C.uint16_t(dataRoom), C.int(socket))
	} else {
		p = C.rte_pktmbuf_pool_create(cname, C.uint(n), C.uint(cache), 0, C.uint16_t(dataRoom), C.int(socket))
	}
	if p == nil {
		return nil, fmt.Errorf("dpdk: mempool %s (%d mbufs, socket %d): %w", name, n, socket, rteErr())
	}
	return &Mempool{p: p, name: name}, nil
}

// Name is the pool's name.
func (m *Mempool) Name() string { return m.name }

// Available is the number of free mbufs (including per-lcore caches):
// the capture tests use it to prove every mbuf came back.
func (m *Mempool) Available() uint32 { return uint32(C.rte_mempool_avail_count(m.p)) }

// Chunks is the number of separate memory chunks the pool's objects were
// placed in. AF_XDP registers one UMEM from the first chunk's address
// over the pool's size (DPDK 22.11 drivers/net/af_xdp, get_base_addr):
// mbufs of any other chunk lie outside it.
func (m *Mempool) Chunks() int { return int(m.p.nb_mem_chunks) }

// Free releases the pool. Call it only after the ports using it are closed.
func (m *Mempool) Free() {
	if m != nil && m.p != nil {
		C.rte_mempool_free(m.p)
		m.p = nil
	}
}

// MbufOverhead is the per-mbuf memory beyond the data room: the rte_mbuf
// header and the mempool object header, rounded to cache lines. Sizing code
// uses it to compute hugepage needs before EAL starts.
const MbufOverhead = C.sizeof_struct_rte_mbuf + 64
