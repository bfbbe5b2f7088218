// Package counters holds what an RX engine counts, without DPDK: the shape
// of a run (ports and queues, described once), one Reading of every
// counter at a moment, the loop-gap histogram's buckets, the latency
// histogram's log-linear buckets with its percentiles (mirroring the C
// loop's), the host clock identity that makes a latency valid, and the
// live status line. The engine (package rx) fills a Reading; the stats thread
// (stats/sampler) and the report read it. It imports no cgo, so its users
// build and test without libdpdk.
//
// Contract:
//   - A Reading is shaped once (NewReading) and refilled in place; Read,
//     CopyFrom, WorstGap, AppendStatus and Latency's Sub, Add and
//     Percentile never allocate.
//   - Counters in a Reading are what the engine read, not deltas.
package counters
