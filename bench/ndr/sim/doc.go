// Package sim provides simulated DUTs for the NDR search: Runners whose
// loss curve is known, so tests (and `rxprobe bench ndr --sim`) can check
// the search against the true knee without root, DPDK or traffic.
//
// Contract:
//   - Trials return at once (no sleeping) and are deterministic for a
//     given seed and sequence of specs.
//   - Loss is always explained by the ledger (layer Layer); a generator
//     shortfall is never DUT loss: Sent is what the generator managed.
package sim
