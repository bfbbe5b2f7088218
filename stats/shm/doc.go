// Package shm is the shared-memory segment through which the RX process
// publishes its stats samples to the out-of-process exporter.
//
// # Contract
//
// The writer (the stats goroutine of the RX process) maps its segment once,
// in Create, and unmaps it once, in Close at exit: no munmap, hence no
// TLB-shootdown IPI to the RX cores, happens while the probe runs. Begin
// and Commit do not allocate; neither does Reader.Read. Readers (the
// Prometheus exporter, another process) map the segment read-only and
// never block the writer.
//
// # Layout (version 1, native byte order, 64-byte header)
//
//	offset size field
//	     0    8 magic "RXPRSHM1"
//	     8    4 layout version (1)
//	    12    4 header size (64)
//	    16    8 payload size in bytes (multiple of 8)
//	    24    8 writer pid
//	    32    8 seqlock sequence: odd while a sample is being written
//	    40    8 heartbeat: writer's clock at the last Commit, unix ns
//	    48    8 samples committed
//	    56    4 sample requests made (requesters' atomic add; 0 at creation)
//	    60    4 sample request served by this snapshot (written by Commit)
//	    64    - payload, fixed size chosen at creation
//
// The meaning of the payload bytes is the business of the writer and the
// exporter; this package moves them consistently.
//
// # Consistency
//
// A seqlock: Begin stores seq+1 (odd), the writer fills the payload in
// place, Commit stores heartbeat and sample count and then seq+2 (even),
// all with sync/atomic. Read loads seq, copies the payload with 64-bit
// atomic loads, loads seq again, and accepts the copy only if both loads
// are equal and even. Go's atomics are sequentially consistent, so the
// reader side is correct on any architecture. On the writer side the
// caller's plain payload stores must not become visible before the odd
// sequence store; amd64 (TSO: stores are not reordered with other stores),
// the platform the RX process runs on, guarantees it. A port to a weakly
// ordered CPU must revisit Begin.
//
// # Samples on request
//
// A process that needs counters as of now (a trial's boundary), not up to
// one stats interval old, maps the header read-write with OpenRequester,
// adds one to the request word and wakes the futex on it (Request); the
// writer's stats thread sleeps on that futex between its samples
// (WaitRequest), so it samples at once. The writer loads the request word
// before it reads any counter (Requested) and Commit publishes it in the
// served word, inside the seqlock, then wakes the futex on the served
// word, on which the requester sleeps (Wait). Any snapshot whose
// Header.Served has Reached the request holds counters read after it.
// Futexes on the shared file mapping need no signal and no pid: they work
// across pid namespaces, and no signal can land on an RX thread. A writer
// that predates the words ignores requests (Wait returns ErrNotServed).
// The words were the reserved 8 bytes of version 1, which stays 1: a
// reader of either side ignores what it does not know.
//
// # Liveness and stale segments
//
// The writer holds an exclusive flock on its segment for its whole life.
// Create refuses a name whose lock is held (ErrInUse, naming the path and
// pid) and replaces one whose lock is free, since the kernel releases the
// lock of a dead process however it died. RemoveStale applies the same test
// to every segment of a directory, so that a start after kill -9 removes
// what dead writers left. The header pid is informative.
// The heartbeat lets the exporter tell a live-but-stuck writer from a
// healthy one.
package shm
