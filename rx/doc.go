// Package rx is rxprobe's RX engine and generator: it turns a validated
// config into a running DPDK process whose poll loops run in C on the RX
// CPUs, and reads their counters without disturbing them.
//
// Contract:
//   - Before EAL starts, Open checks hugepages (one *hugepages.ShortfallError
//     on shortfall) and confines every thread of the process to the
//     housekeeping CPUs; GOMAXPROCS follows that set.
//   - DPDK memory is sized from the config and preallocated with
//     --socket-mem, so no hugepage is returned to the kernel during the run.
//   - Engine.Read (into a Reading from NewReading) does not allocate on the Go heap: a
//     steady-state run allocates nothing.
//   - Close (and every failed Open) stops and closes the ports, runs
//     rte_eal_cleanup and removes the run's hugepage files and runtime
//     directory; nothing of a run is left on the host.
//   - With capture.enabled, Open compiles the filter before EAL starts (a
//     bad expression is one error naming capture.filter), sizes each pool
//     with a full capture ring per queue, and builds and attaches one
//     capture per queue; Start starts the writers before the loops launch;
//     Stop returns once the loops returned and every capture drained and
//     renamed its last file, so the counters Read and ReadCapture give
//     then satisfy rx_packets = written + filtered_out + ring dropped +
//     disk dropped exactly.
//   - The engine must be driven from one goroutine locked to its OS thread
//     (cmd/rxprobe locks the main goroutine), the thread EAL adopts as its
//     main lcore.
package rx
