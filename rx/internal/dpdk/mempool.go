package dpdk

/*
#include <stdlib.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include "rxp.h"
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
func NewMempool(name string, n, cache uint32, dataRoom uint16, socket int) (*Mempool, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	p := C.rte_pktmbuf_pool_create(cname, C.uint(n), C.uint(cache), 0, C.uint16_t(dataRoom), C.int(socket))
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
