// Package exporter serves the RX process's shared-memory snapshot
// (stats/shm carrying a stats/snapshot payload) as Prometheus metrics.
//
// It runs in its own process, `rxprobe exporter`, never inside `rxprobe
// run`: client_golang and net/http allocate and free freely, and a munmap
// or madvise in the RX process would send TLB-shootdown IPIs to the RX
// cores. This process has its own address space; it maps the segment
// read-only and never writes to it.
//
// # What a scrape emits
//
// Every Collect reads one consistent copy of the payload (a buffer
// allocated when the segment is attached, reused afterwards) and builds
// constant metrics from it:
//
//   - each snapshot.Series as a counter or gauge of its metric name with its
//     labels, value snapshot.Scaled(v, Scale);
//   - each snapshot.Histogram as a Prometheus histogram: the payload's
//     buckets are per interval, the exported ones cumulative; the count is
//     the sum of all buckets including +Inf, the sum is value[Sum] × SumScale;
//   - rxprobe_build_info{version,commit,goversion,dpdk,prefix} 1, from
//     Schema.Build and Schema.Prefix ("unknown" for a missing key);
//   - rxprobe_snapshot_age_seconds, now minus the writer's heartbeat (never
//     negative), whenever a committed sample was read;
//   - rxprobe_snapshot_up, 1 when a consistent sample with an exportable
//     schema was read and its age is below StaleAfter(Schema.IntervalNs),
//     0 otherwise; it is always emitted;
//   - rxprobe_exporter_read_errors_total and
//     rxprobe_exporter_scrape_duration_seconds about the exporter itself.
//
// Data series and build info are emitted whenever the schema decodes, even
// when the sample is stale: the values are true as of the heartbeat, and
// the age says how old they are. A missing segment (the writer removed it
// at exit, or has not created it yet) or a segment without a committed
// sample yields rxprobe_snapshot_up 0 and nothing else from the snapshot,
// and is not a read error. Anything else that stops a scrape from reading
// the snapshot (bad header, writer stuck mid-sample, a schema that does
// not decode or cannot be exported faithfully) counts as a read error.
//
// # Caching and re-attaching
//
// The decoded schema and the descriptors built from it are kept until the
// schema bytes in the payload change. Each scrape stats the segment's path:
// when the file is gone the mapping is dropped; when it names another file
// (the RX process restarted and created a new segment) the old mapping is
// dropped and the new file attached, with a fresh schema.
//
// # Attaching
//
// Attach waits for a segment to appear (or takes the only one in the
// directory), attaches a Collector and binds the address: everything
// `rxprobe exporter` does before it serves.
//
// # Collector contract
//
// The Collector is unchecked (Describe sends nothing): the metric set is
// only known once a schema is read. It rejects schemas that would make an
// invalid or ambiguous exposition (see ErrSchema) instead of exporting
// part of them. Collect is safe for concurrent use; scrapes are
// serialised. It starts no goroutines.
package exporter
