// Package sampler is the stats thread of the RX process: one goroutine,
// locked to its OS thread on a housekeeping CPU, that every interval reads
// the engine's counters (ethdev stats, every xstat, the C loops' counters
// and gap histograms) and the kernel's (interrupts on the RX CPUs,
// softnet, net/dev, UDP, per-port sysfs counters), makes them monotonic
// and publishes them into the shared-memory segment the exporter reads.
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
package sampler
