// Package guard is rxprobe's jitter guard: once per second it turns the
// stats thread's readings into verdicts — interrupts on the RX CPUs above
// their expected level, loop gaps above the ring-fill threshold, and new
// drops classified by the layer that lost them (the drop ledger) — and
// keeps a per-second timeline and an event list for the report.
//
// Contract:
//   - Guard holds no reference to DPDK or the kernel: the caller feeds it
//     counters (Input), so every rule is tested on fixtures.
//   - Second does not allocate while nothing is violated; storage for the
//     timeline (a ring of the last TimelineCap seconds) and events (the
//     first EventCap, then only counted) is allocated in New.
//   - Counters fed in are cumulative; the guard takes deltas itself, and a
//     counter that goes down (a CPU unplugged, a port restarted) yields a
//     zero delta for that second rather than a huge one.
package guard
