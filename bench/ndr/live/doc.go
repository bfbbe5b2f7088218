// Package live runs `rxprobe bench ndr` against a real DUT: an
// ndr.Runner that drives a generator and reads the DUT's counters through
// the trial API of a long-lived `rxprobe run`, the scenario files of
// bench/scenarios, and the veth pair + network namespace the veth
// scenarios measure over.
//
// Contract:
//   - One trial: POST /v1/trials (an exact counter sample), then the
//     generator sends rate × duration packets, then the runner waits until
//     the RX counter stops moving (the rings drained, bounded by
//     Scenario.MaxDrain), then POST /v1/trials/{id}/stop (another exact
//     sample). Traffic never flows across a counter read of the trial.
//   - Sent is what the generator reports it sent; Received is the RX
//     loops' packets delta; the ledger and the guard's events on the RX
//     CPUs come from the same stop. The package never judges loss: that
//     is ndr.Trial.Finish.
//   - Processes and network devices it starts or creates are stopped and
//     removed by Close, also after a cancelled context; names are unique
//     per process so that parallel benches never meet.
//   - No cgo, nothing of DPDK: the DPDK processes are `rxprobe run` and
//     `rxprobe gen` (or an external sender), started as children.
package live
