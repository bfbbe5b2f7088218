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
//   - The engine must be driven from one goroutine locked to its OS thread
//     (cmd/rxprobe locks the main goroutine), the thread EAL adopts as its
//     main lcore.
package rx
