package dpdk

/*
#include <stdlib.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/rxprobe/rxprobe/rx/counters"
)

// PortStats is a copy of rte_eth_stats' port-wide fields.
type PortStats = counters.PortStats

// StatsReader reads a port's basic stats into C memory allocated once.
type StatsReader struct {
	port uint16
	buf  *C.struct_rte_eth_stats
}

// NewStatsReader allocates the reader's buffer.
func NewStatsReader(port uint16) (*StatsReader, error) {
	buf := (*C.struct_rte_eth_stats)(C.rte_zmalloc(nil, C.sizeof_struct_rte_eth_stats, 0))
	if buf == nil {
		return nil, fmt.Errorf("dpdk: port %d: stats buffer: %w", port, rteErr())
	}
	return &StatsReader{port: port, buf: buf}, nil
}

// Read fills dst. It does not allocate.
func (s *StatsReader) Read(dst *PortStats) error {
	if rc := C.rte_eth_stats_get(C.uint16_t(s.port), s.buf); rc != 0 {
		return fmt.Errorf("dpdk: port %d: stats: %w", s.port, errno(rc))
	}
	b := s.buf
	*dst = PortStats{
		IPackets: uint64(b.ipackets), OPackets: uint64(b.opackets),
		IBytes: uint64(b.ibytes), OBytes: uint64(b.obytes),
		IMissed: uint64(b.imissed), IErrors: uint64(b.ierrors), OErrors: uint64(b.oerrors),
		RXNoMbuf: uint64(b.rx_nombuf),
	}
	return nil
}

// Free releases the buffer.
func (s *StatsReader) Free() {
	if s.buf != nil {
		C.rte_free(unsafe.Pointer(s.buf))
		s.buf = nil
	}
}

// XStats reads every extended statistic of a port by id. Names and ids are
// resolved once at construction; Read fills C memory allocated then.
type XStats struct {
	port  uint16
	n     int
	ids   *C.uint64_t
	vals  *C.uint64_t
	names []string
}

// NewXStats resolves the port's xstat names and ids.
func NewXStats(port uint16) (*XStats, error) {
	n := C.rte_eth_xstats_get_names_by_id(C.uint16_t(port), nil, 0, nil)
	if n < 0 {
		return nil, fmt.Errorf("dpdk: port %d: xstat count: %w", port, errno(n))
	}
	x := &XStats{port: port, n: int(n)}
	if n == 0 {
		return x, nil
	}
	names := (*C.struct_rte_eth_xstat_name)(C.rte_zmalloc(nil, C.size_t(n)*C.sizeof_struct_rte_eth_xstat_name, 0))
	x.ids = (*C.uint64_t)(C.rte_zmalloc(nil, C.size_t(n)*8, 0))
	x.vals = (*C.uint64_t)(C.rte_zmalloc(nil, C.size_t(n)*8, 0))
	if names == nil || x.ids == nil || x.vals == nil {
		C.rte_free(unsafe.Pointer(names))
		x.Free()
		return nil, fmt.Errorf("dpdk: port %d: xstat buffers: %w", port, rteErr())
	}
	defer C.rte_free(unsafe.Pointer(names))
	got := C.rte_eth_xstats_get_names_by_id(C.uint16_t(port), names, C.uint(n), nil)
	if got < 0 {
		x.Free()
		return nil, fmt.Errorf("dpdk: port %d: xstat names: %w", port, errno(got))
	}
	if int(got) < x.n {
		x.n = int(got)
	}
	ns := unsafe.Slice(names, x.n)
	ids := unsafe.Slice(x.ids, x.n)
	x.names = make([]string, x.n)
	for i := range ns {
		x.names[i] = C.GoString(&ns[i].name[0])
		ids[i] = C.uint64_t(i)
	}
	return x, nil
}

// Names lists the xstat names, index-aligned with Values.
func (x *XStats) Names() []string { return x.names }

// Read refreshes the values. It does not allocate.
func (x *XStats) Read() error {
	if x.n == 0 {
		return nil
	}
	rc := C.rte_eth_xstats_get_by_id(C.uint16_t(x.port), x.ids, x.vals, C.uint(x.n))
	if rc < 0 {
		return fmt.Errorf("dpdk: port %d: xstats: %w", x.port, errno(rc))
	}
	return nil
}

// Values views the last values read (C memory; valid until Free).
func (x *XStats) Values() []uint64 {
	if x.n == 0 {
		return nil
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(x.vals)), x.n)
}

// Free releases the buffers.
func (x *XStats) Free() {
	C.rte_free(unsafe.Pointer(x.ids))
	C.rte_free(unsafe.Pointer(x.vals))
	x.ids, x.vals, x.n = nil, nil, 0
}
