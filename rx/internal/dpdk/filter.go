package dpdk

/*
#cgo pkg-config: libpcap
#cgo CFLAGS: -DALLOW_EXPERIMENTAL_API
#include <stdlib.h>
#include "cap.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// ErrFilter is matched (errors.Is) by every filter compile error.
var ErrFilter = errors.New("capture filter")

// FilterError is a tcpdump expression libpcap rejected, with libpcap's
// own message (pcap_geterr).
type FilterError struct {
	Expr string
	Msg  string
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("capture filter %q: %s", e.Expr, e.Msg)
}

// Is makes errors.Is(err, ErrFilter) true.
func (e *FilterError) Is(target error) bool { return target == ErrFilter }

// FilterProgram is a tcpdump expression compiled by libpcap (classic BPF).
// Compiling needs no EAL, so a bad expression is reported before DPDK
// starts; Load turns it into a Filter once the EAL runs.
type FilterProgram struct {
	prog *C.struct_bpf_program
	// Expr is the expression as given.
	Expr string
	// Snaplen is the snapshot length the program was compiled for.
	Snaplen uint32
}

// CompileFilter compiles a tcpdump expression for Ethernet frames captured
// up to snaplen bytes. An empty expression compiles to "match every
// packet". Errors are *FilterError.
func CompileFilter(expr string, snaplen uint32) (*FilterProgram, error) {
	if snaplen == 0 {
		return nil, fmt.Errorf("capture filter %q: snaplen 0: give a snaplen of at least 1", expr)
	}
	cexpr := C.CString(expr)
	defer C.free(unsafe.Pointer(cexpr))
	prog := (*C.struct_bpf_program)(C.calloc(1, C.sizeof_struct_bpf_program))
	errbuf := (*C.char)(C.calloc(1, C.PCAP_ERRBUF_SIZE))
	defer C.free(unsafe.Pointer(errbuf))
	if C.rxp_filter_compile(cexpr, C.uint32_t(snaplen), prog, errbuf, C.PCAP_ERRBUF_SIZE) != 0 {
		C.free(unsafe.Pointer(prog))
		return nil, &FilterError{Expr: expr, Msg: C.GoString(errbuf)}
	}
	return &FilterProgram{prog: prog, Expr: expr, Snaplen: snaplen}, nil
}

// Instructions is the number of classic BPF instructions.
func (p *FilterProgram) Instructions() int { return int(p.prog.bf_len) }

// Free releases the compiled program. Filters loaded from it stay valid.
func (p *FilterProgram) Free() {
	if p != nil && p.prog != nil {
		C.pcap_freecode(p.prog)
		C.free(unsafe.Pointer(p.prog))
		p.prog = nil
	}
}

// Filter is a FilterProgram converted for DPDK's BPF library
// (rte_bpf_convert) and loaded (rte_bpf_load), native code where DPDK has a
// JIT for this CPU.
type Filter struct {
	f *C.struct_rxp_filter
	// Expr is the expression the filter was compiled from.
	Expr string
}

// Load converts and loads the program; it needs the EAL. With jit false the
// filter runs in DPDK's BPF interpreter even where a JIT exists (for
// comparisons).
func (p *FilterProgram) Load(jit bool) (*Filter, error) {
	if !initDone {
		return nil, fmt.Errorf("capture filter %q: load: %w", p.Expr, ErrNotInitialized)
	}
	f := C.rxp_filter_load(p.prog, cbool(jit))
	if f == nil {
		return nil, fmt.Errorf("capture filter %q: rte_bpf_convert/rte_bpf_load: %w", p.Expr, rteErr())
	}
	return &Filter{f: f, Expr: p.Expr}, nil
}

// JIT reports whether the filter runs as native code.
func (f *Filter) JIT() bool { return f.f.jit != nil }

// Free releases the filter. Call only after every loop using it returned.
func (f *Filter) Free() {
	if f != nil && f.f != nil {
		C.rxp_filter_free(f.f)
		f.f = nil
	}
}

// Test runs the filter over pkts, each copied into an mbuf from pool, and
// libpcap's own interpreter over the same bytes as the reference. It
// returns one verdict per packet from each. For tests and diagnostics: it
// allocates.
func (f *Filter) Test(p *FilterProgram, pool *Mempool, pkts [][]byte) (got, ref []bool, err error) {
	if len(pkts) == 0 {
		return nil, nil, nil
	}
	total := 0
	for _, b := range pkts {
		total += len(b)
	}
	data := (*C.uint8_t)(C.malloc(C.size_t(total + 1)))
	lens := (*C.uint32_t)(C.malloc(C.size_t(4 * len(pkts))))
	out := (*C.uint8_t)(C.malloc(C.size_t(2 * len(pkts))))
	defer C.free(unsafe.Pointer(data))
	defer C.free(unsafe.Pointer(lens))
	defer C.free(unsafe.Pointer(out))
	d := unsafe.Slice((*byte)(unsafe.Pointer(data)), total+1)
	l := unsafe.Slice((*uint32)(unsafe.Pointer(lens)), len(pkts))
	off := 0
	for i, b := range pkts {
		copy(d[off:], b)
		l[i] = uint32(len(b))
		off += len(b)
	}
	o := unsafe.Slice((*byte)(unsafe.Pointer(out)), 2*len(pkts))
	rc := C.rxp_filter_test(f.f, p.prog, pool.p, data, lens, C.uint32_t(len(pkts)), out, (*C.uint8_t)(unsafe.Pointer(&o[len(pkts)])))
	if rc != 0 {
		return nil, nil, fmt.Errorf("capture filter %q: test: %w", f.Expr, errno(rc))
	}
	got, ref = make([]bool, len(pkts)), make([]bool, len(pkts))
	for i := range pkts {
		got[i], ref[i] = o[i] != 0, o[len(pkts)+i] != 0
	}
	return got, ref, nil
}
