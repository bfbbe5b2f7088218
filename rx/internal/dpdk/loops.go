package dpdk

/*
#include <rte_launch.h>
#include <rte_malloc.h>
#include "rxp.h"
*/
import "C"

import (
	"fmt"
	"net"
	"unsafe"

	"github.com/rxprobe/rxprobe/rx/counters"
)

// GapBuckets is the number of loop-gap histogram buckets
// (counters.GapBuckets, which the C loops must match).
const GapBuckets = counters.GapBuckets

// The C histogram and counters.GapBuckets are the same size: neither
// array length below may be negative.
var (
	_ [C.RXP_GAP_BUCKETS - counters.GapBuckets]struct{}
	_ [counters.GapBuckets - C.RXP_GAP_BUCKETS]struct{}
)

// The C latency histogram and counters.LatBuckets are the same size.
var (
	_ [C.RXP_LAT_BUCKETS - counters.LatBuckets]struct{}
	_ [counters.LatBuckets - C.RXP_LAT_BUCKETS]struct{}
)

// LatencyCounters is a copy of one RX queue's latency record.
type LatencyCounters = counters.Latency

// LatBucket is the C loop's bucket of a latency of v ns (for tests of the
// Go mirror, counters.LatBucket).
func LatBucket(v uint64) int { return int(C.rxp_lat_bucket(C.uint64_t(v))) }

// MaxBurst is the largest burst a loop accepts.
const MaxBurst = C.RXP_MAX_BURST

// RXCounters is a copy of one RX loop's counters.
type RXCounters = counters.Loop

// RXQueue is one RX queue's poll loop and its C-side counters.
type RXQueue struct {
	q       *C.struct_rxp_rxq
	snap    *C.struct_rxp_rxq_counters
	latSnap *C.struct_rxp_lat_counters // nil until EnableLatency
	// Port and Queue identify what the loop polls.
	Port, Queue uint16
	lcore       uint
}

// NewRXQueue allocates loop state for port/queue on socket (hugepage memory).
func NewRXQueue(port, queue, burst uint16, socket int) (*RXQueue, error) {
	if burst == 0 || burst > MaxBurst {
		return nil, fmt.Errorf("dpdk: port %d queue %d: burst %d outside 1..%d", port, queue, burst, MaxBurst)
	}
	q := C.rxp_rxq_new(C.uint16_t(port), C.uint16_t(queue), C.uint16_t(burst), C.int(socket))
	if q == nil {
		return nil, fmt.Errorf("dpdk: port %d queue %d: loop state: %w", port, queue, rteErr())
	}
	snap := (*C.struct_rxp_rxq_counters)(C.rte_zmalloc(nil, C.sizeof_struct_rxp_rxq_counters, C.RTE_CACHE_LINE_SIZE))
	if snap == nil {
		C.rte_free(unsafe.Pointer(q))
		return nil, fmt.Errorf("dpdk: port %d queue %d: snapshot buffer: %w", port, queue, rteErr())
	}
	return &RXQueue{q: q, snap: snap, Port: port, Queue: queue}, nil
}

// Launch starts the C poll loop on worker lcore. It returns at once.
func (r *RXQueue) Launch(lcore uint) error {
	if rc := C.rte_eal_remote_launch((*C.lcore_function_t)(C.rxp_rx_loop), unsafe.Pointer(r.q), C.uint(lcore)); rc != 0 {
		return fmt.Errorf("dpdk: port %d queue %d: launch on lcore %d: %w", r.Port, r.Queue, lcore, errno(rc))
	}
	r.lcore = lcore
	return nil
}

// LaunchBaseline starts the benchmark's reference loop instead: receive
// and free, counting packets and polls only (what testpmd's rxonly does).
func (r *RXQueue) LaunchBaseline(lcore uint) error {
	if rc := C.rte_eal_remote_launch((*C.lcore_function_t)(C.rxp_rx_loop_baseline), unsafe.Pointer(r.q), C.uint(lcore)); rc != 0 {
		return fmt.Errorf("dpdk: port %d queue %d: launch baseline on lcore %d: %w", r.Port, r.Queue, lcore, errno(rc))
	}
	r.lcore = lcore
	return nil
}

// LaunchPaced starts the test-only paced loop instead: rxp_rx_loop asking
// for no more than pps packets a second since launch (net_null as a
// rate-controlled source; rxprobe run --debug-rx-pace-pps).
func (r *RXQueue) LaunchPaced(lcore uint, pps uint64) error {
	if pps == 0 {
		return fmt.Errorf("dpdk: port %d queue %d: paced loop at 0 pps", r.Port, r.Queue)
	}
	r.q.pace_pps = C.uint64_t(pps)
	if rc := C.rte_eal_remote_launch((*C.lcore_function_t)(C.rxp_rx_loop_paced), unsafe.Pointer(r.q), C.uint(lcore)); rc != 0 {
		return fmt.Errorf("dpdk: port %d queue %d: launch paced on lcore %d: %w", r.Port, r.Queue, lcore, errno(rc))
	}
	r.lcore = lcore
	return nil
}

// EnableLatency allocates the queue's latency record (on socket); after
// it, LaunchLatency runs the latency loop and ReadLatency reads the
// record. Before the first launch only.
func (r *RXQueue) EnableLatency(socket int) error {
	if r.q.lat != nil {
		return nil
	}
	l := C.rxp_lat_new(C.int(socket))
	if l == nil {
		return fmt.Errorf("dpdk: port %d queue %d: latency record: %w", r.Port, r.Queue, rteErr())
	}
	snap := (*C.struct_rxp_lat_counters)(C.rte_zmalloc(nil, C.sizeof_struct_rxp_lat_counters, C.RTE_CACHE_LINE_SIZE))
	if snap == nil {
		C.rte_free(unsafe.Pointer(l))
		return fmt.Errorf("dpdk: port %d queue %d: latency snapshot buffer: %w", r.Port, r.Queue, rteErr())
	}
	r.q.lat, r.latSnap = l, snap
	return nil
}

// LaunchLatency starts the latency variant of the RX loop (rxprobe run
// --latency): the production loop plus, per received frame, the check for
// the generator's stamp and, when present, its one-way latency recorded.
// EnableLatency first.
func (r *RXQueue) LaunchLatency(lcore uint) error {
	if r.q.lat == nil {
		return fmt.Errorf("dpdk: port %d queue %d: latency loop without a latency record (EnableLatency)", r.Port, r.Queue)
	}
	if rc := C.rte_eal_remote_launch((*C.lcore_function_t)(C.rxp_rx_loop_latency), unsafe.Pointer(r.q), C.uint(lcore)); rc != 0 {
		return fmt.Errorf("dpdk: port %d queue %d: launch latency loop on lcore %d: %w", r.Port, r.Queue, lcore, errno(rc))
	}
	r.lcore = lcore
	return nil
}

// ReadLatency copies the queue's latency record into dst without
// allocating; dst is left alone (false) when latency is not enabled.
func (r *RXQueue) ReadLatency(dst *LatencyCounters) bool {
	if r.latSnap == nil {
		return false
	}
	C.rxp_lat_read(r.q.lat, r.latSnap)
	s := r.latSnap
	dst.Stamped = uint64(s.stamped)
	dst.Unstamped = uint64(s.unstamped)
	dst.Gaps = uint64(s.gaps)
	dst.Reordered = uint64(s.reordered)
	dst.MaxNs = uint64(s.max_ns)
	dst.SumNs = uint64(s.sum_ns)
	copy(dst.Hist[:], unsafe.Slice((*uint64)(unsafe.Pointer(&s.hist[0])), counters.LatBuckets))
	return true
}

// Lcore is the lcore the loop was launched on.
func (r *RXQueue) Lcore() uint { return r.lcore }

// Read copies the loop's counters into dst. It does not allocate.
func (r *RXQueue) Read(dst *RXCounters) {
	C.rxp_rxq_read(r.q, r.snap)
	s := r.snap
	dst.Packets = uint64(s.packets)
	dst.Bytes = uint64(s.bytes)
	dst.Polls = uint64(s.polls)
	dst.EmptyPolls = uint64(s.empty_polls)
	dst.BusyCycles = uint64(s.busy_cycles)
	dst.MaxGapCycles = uint64(s.max_gap_cycles)
	dst.LastTSC = uint64(s.last_tsc)
	dst.Running = s.running != 0
	for i := range dst.GapHist {
		dst.GapHist[i] = uint64(s.gap_hist[i])
	}
}

// Free releases the loop state. Call only after the loop returned.
func (r *RXQueue) Free() {
	if r.q != nil {
		C.rte_free(unsafe.Pointer(r.q.lat))
		C.rte_free(unsafe.Pointer(r.latSnap))
		r.latSnap = nil
		C.rte_free(unsafe.Pointer(r.q))
		C.rte_free(unsafe.Pointer(r.snap))
		r.q, r.snap = nil, nil
	}
}

// GenParams describes the generator's traffic.
type GenParams struct {
	Burst   uint16
	Size    uint16  // frame length without FCS, >= 60
	Rate    float64 // packets per second; 0 = as fast as possible
	Count   uint64  // 0 = until stopped
	Flows   uint32  // UDP source ports cycled through (>= 1)
	SrcMAC  net.HardwareAddr
	DstMAC  net.HardwareAddr
	SrcIP   net.IP
	DstIP   net.IP
	SrcPort uint16
	DstPort uint16
	// SleepAheadUs, when > 0, makes the loop sleep instead of spin while it
	// is more than this far ahead of its schedule: for generators on a CPU
	// shared with other work.
	SleepAheadUs uint32
	// Latency stamps every frame with the TSC read just before
	// rte_eth_tx_burst and a marker (rxprobe gen --latency), and keeps
	// the sequence numbers running across relaunches (Retarget).
	Latency bool
	// NoDrop retries a full TX queue until it takes the packets or the
	// stop flag is set, instead of dropping after 1000 tries: for exact
	// counts over loopback ports.
	NoDrop bool
}

// GenCounters is a copy of the generator's counters.
type GenCounters struct {
	Sent        uint64
	TXDropped   uint64
	AllocFailed uint64
	Bursts      uint64
	Running     bool
	Done        bool // Count packets were handled
}

// Gen is a TSC-paced transmit loop on one TX queue.
type Gen struct {
	g    *C.struct_rxp_gen
	snap *C.struct_rxp_gen_counters
	// Port and Queue identify where the generator sends.
	Port, Queue uint16
}

// NewGen builds the packet template and loop state for port/queue.
func NewGen(port, queue uint16, pool *Mempool, socket int, p GenParams) (*Gen, error) {
	if p.Burst == 0 || p.Burst > MaxBurst {
		return nil, fmt.Errorf("dpdk: gen port %d: burst %d outside 1..%d", port, p.Burst, MaxBurst)
	}
	src4, dst4 := p.SrcIP.To4(), p.DstIP.To4()
	if src4 == nil || dst4 == nil || len(p.SrcMAC) != 6 || len(p.DstMAC) != 6 {
		return nil, fmt.Errorf("dpdk: gen port %d: need IPv4 addresses and 6-byte MACs", port)
	}
	g := C.rxp_gen_new(C.uint16_t(port), C.uint16_t(queue), C.uint16_t(p.Burst), C.int(socket), pool.p)
	if g == nil {
		return nil, fmt.Errorf("dpdk: gen port %d: loop state: %w", port, rteErr())
	}
	hdr := (*[12]C.uint8_t)(C.rte_zmalloc(nil, 12, 0))
	for i := 0; i < 6; i++ {
		hdr[i] = C.uint8_t(p.DstMAC[i])
		hdr[6+i] = C.uint8_t(p.SrcMAC[i])
	}
	ip := func(b net.IP) C.uint32_t {
		return C.uint32_t(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
	}
	rc := C.rxp_gen_build(g, &hdr[0], &hdr[6], ip(src4), ip(dst4), C.uint16_t(p.SrcPort), C.uint16_t(p.DstPort), C.uint16_t(p.Size))
	C.rte_free(unsafe.Pointer(hdr))
	if rc != 0 {
		C.rte_free(unsafe.Pointer(g))
		return nil, fmt.Errorf("dpdk: gen port %d: packet size %d: %w", port, p.Size, errno(rc))
	}
	flows := p.Flows
	if flows == 0 {
		flows = 1
	}
	g.flows = C.uint32_t(flows)
	g.count = C.uint64_t(p.Count)
	if p.Rate > 0 {
		g.cycles_per_pkt_fp = C.uint64_t(float64(TSCHz()) / p.Rate * (1 << 32))
	}
	if p.Latency {
		g.latency = 1
	}
	if p.NoDrop {
		g.tx_retries = C.uint32_t(^uint32(0))
	}
	g.sleep_cycles = C.uint64_t(uint64(p.SleepAheadUs) * (TSCHz() / 1_000_000))
	snap := (*C.struct_rxp_gen_counters)(C.rte_zmalloc(nil, C.sizeof_struct_rxp_gen_counters, C.RTE_CACHE_LINE_SIZE))
	if snap == nil {
		C.rte_free(unsafe.Pointer(g))
		return nil, fmt.Errorf("dpdk: gen port %d: snapshot buffer: %w", port, rteErr())
	}
	return &Gen{g: g, snap: snap, Port: port, Queue: queue}, nil
}

// Launch starts the generator loop on worker lcore.
func (g *Gen) Launch(lcore uint) error {
	if rc := C.rte_eal_remote_launch((*C.lcore_function_t)(C.rxp_gen_loop), unsafe.Pointer(g.g), C.uint(lcore)); rc != 0 {
		return fmt.Errorf("dpdk: gen port %d: launch on lcore %d: %w", g.Port, lcore, errno(rc))
	}
	return nil
}

// Retarget sets the rate (0: as fast as possible), count (0: until
// stopped) and latency stamping of the next Launch and clears the done
// flag. Only while the loop is not running: a relaunched loop counts from
// zero, but its latency-mode sequence numbers continue where the last
// launch stopped.
func (g *Gen) Retarget(rate float64, count uint64, latency bool) {
	g.g.count = C.uint64_t(count)
	g.g.latency = 0
	if latency {
		g.g.latency = 1
	}
	g.g.cycles_per_pkt_fp = 0
	if rate > 0 {
		g.g.cycles_per_pkt_fp = C.uint64_t(float64(TSCHz()) / rate * (1 << 32))
	}
	C.rxp_gen_clear_done(g.g)
}

// Run runs the generator loop on the calling thread and returns when
// Count packets were handled or the stop flag is set: for tests that need
// a sender and a receiver with one worker lcore.
func (g *Gen) Run() { C.rxp_gen_loop(unsafe.Pointer(g.g)) }

// Read copies the generator's counters into dst without allocating.
func (g *Gen) Read(dst *GenCounters) {
	C.rxp_gen_read(g.g, g.snap)
	s := g.snap
	dst.Sent = uint64(s.sent)
	dst.TXDropped = uint64(s.tx_dropped)
	dst.AllocFailed = uint64(s.alloc_failed)
	dst.Bursts = uint64(s.bursts)
	dst.Running = s.running != 0
	dst.Done = s.done != 0
}

// Free releases the generator state. Call only after the loop returned.
func (g *Gen) Free() {
	if g.g != nil {
		C.rte_free(unsafe.Pointer(g.g))
		C.rte_free(unsafe.Pointer(g.snap))
		g.g, g.snap = nil, nil
	}
}
