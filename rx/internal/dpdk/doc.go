// Package dpdk is rxprobe's thin cgo binding to DPDK 22.11 and the only
// package in rxprobe that imports "C".
//
// Contract:
//   - Init runs rte_eal_init once per process (later calls return the first
//     result). Call it from a goroutine locked to its OS thread: EAL pins the
//     calling thread to the main lcore's CPU set.
//   - RX and generator loops are C functions (rxp.c) launched on worker lcores
//     with rte_eal_remote_launch. They never call Go and never touch Go
//     memory; their counters live in rte_zmalloc'd, cache-line-aligned memory
//     with one writer each. Readers (RXQueue.Read, Gen.Read, StatsReader,
//     XStats) copy into memory allocated once and do not allocate on the Go
//     heap after construction.
//   - Capture (cap.h, cap_filter.c, cap_writer.c): CompileFilter needs no
//     EAL (libpcap only), so a bad expression fails before DPDK starts;
//     Load, NewCapture and the rest need it. The RX loop's capture stage is
//     a NULL-pointer branch when off; when on it filters, stamps the burst's
//     TSC into an mbuf dynfield and enqueues by reference into an SP/SC ring,
//     counting ring-full drops, never waiting. Writer and I/O threads are
//     pthreads pinned to capture CPUs (never an RX lcore's); after Start they
//     neither allocate nor map memory. Stop after WaitAll: then the capture
//     equation rx = written + filtered + ring dropped + disk dropped is exact.
//   - DPDK's negative return codes become errors wrapping syscall.Errno, with
//     the call and the port or queue as context, so callers use errors.Is.
package dpdk
