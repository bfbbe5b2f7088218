// Package counter turns raw counter samples into monotonic values.
//
// Counters read from NICs, drivers and the kernel go backwards: 32-bit
// counters wrap, and any counter restarts from 0 when a port is restarted or
// a driver reloaded. Exporters need values that never decrease (Prometheus
// counters), so each raw counter is fed through a Mono, which adds wraps
// and resets to a base.
//
// Contract: no function or method allocates after construction (NewSet32
// and NewSet64 allocate their slice once). Values are not safe for
// concurrent use; the stats goroutine owns them.
package counter
