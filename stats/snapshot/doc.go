// Package snapshot defines what the RX process publishes through the
// shared-memory segment (stats/shm) and how the exporter reads it back.
//
// The payload is a self-describing table: a JSON Schema, written once when
// the segment is created, names every series (metric, labels, kind, scale)
// and every histogram; a fixed array of uint64 values follows at an
// 8-aligned offset. Each sample rewrites only the values, in place, under
// the segment's seqlock, so publishing never allocates and never changes
// the layout.
//
//	offset 0   uint32 schema length L (little endian)
//	offset 4   L bytes of schema JSON
//	offset V   N uint64 values (V = align8(4+L), N = Schema.Values)
//
// Counters are cumulative and never decrease (the writer makes them
// monotonic across 32-bit wraps and port restarts). A value's meaning in
// base units is value × Scale (Scale 0 means 1): nanoseconds carry
// Scale 1e-9 so the exporter publishes seconds. A histogram marked
// Internal is for other readers of the segment (the trial API) and is not
// exported: too many buckets for Prometheus.
package snapshot
