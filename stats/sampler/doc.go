// Package sampler is the stats thread of the RX process: one goroutine,
// locked to its OS thread on a housekeeping CPU, that every interval reads
// the engine's counters and the kernel's, makes them monotonic and
// publishes them into the shared-memory segment the exporter reads.
//
// It reads the engine through the Engine interface (a counters.Shape and
// counters.Reading; rx.Engine implements it), so it builds and tests
// without libdpdk and without root. Each source of counters is one file
// that declares its metrics (name, kind, help) next to the code that
// fills them: queues.go (the C loops), capture.go (each queue's capture:
// handoff, writer, files; its ring drops feed the ledger's capture_ring
// layer), latency.go (each queue's latency record in latency mode: an
// exported per-power-of-two histogram and the full one, internal, for
// the trial API), ports.go (ethdev stats and every
// xstat), interrupts.go, softnet.go, netdev.go, sysfs.go, snmp.go and
// guard.go (the jitter guard and the drop ledger, classified by
// stats/dropclass).
//
// Contract:
//   - Everything is sized and allocated in New. After the first sample, a
//     sample allocates nothing on the Go heap and maps or unmaps nothing
//     (unless Options.StdioReads asks for the stdio-like baseline of the
//     observer benchmark).
//   - It is the only reader of the engine while it runs; Stop returns only
//     once the goroutine has finished, so the caller may read the engine
//     afterwards.
//   - Counters are cumulative and never decrease: 32-bit kernel counters
//     are unwrapped and port counters survive restarts (stats/counter).
//   - A port whose driver is not in stats/dropclass's table gets one line
//     on Options.EventFD at New: its drops are only partly classified.
//   - Samples on request: between samples the thread sleeps on the
//     segment's request futex (stats/shm), so a process asking for a
//     sample gets one at once, answering its request (Header.Served). A
//     requested sample publishes every counter and the drop ledger but
//     leaves the guard's second running: the guard judges whole seconds
//     of scheduled samples, and counts each drop once.
//   - With Options.CaptureTriggers and an engine implementing
//     CaptureTriggerer, it fires trigger-mode capture after a sample:
//     drop when any ledger layer grew since the previous sample, gap and
//     irq on the guard's events. Only configured triggers fire.
package sampler
