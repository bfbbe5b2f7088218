// Package ndr is the pure-Go core of `rxprobe bench ndr`: the trial model,
// the zero-loss throughput search (NDR, loss 0, and PDR, loss at most a
// stated ratio, per RFC 2544 and FD.io CSIT's MLRsearch), and the output
// written from the trials (results.json, report.md, SVG plots, index.html,
// a comparison of two results).
//
// Contract:
//   - The harness never touches the DUT: every measurement comes from a
//     Runner, which starts traffic only after reading the DUT's counters
//     and reads them again only after traffic stopped and the rings
//     drained. The package imports no cgo and nothing of DPDK, so the
//     search is tested on simulated DUTs (package sim) without root.
//   - Loss is what the DUT lost of what the generator really sent
//     (sent − received). A generator shortfall (sent below the target) is
//     never DUT loss: the trial is GeneratorLimited, counts at the rate
//     achieved, and caps the search ("NDR ≥ X, generator-limited").
//   - A trial with guard events (interrupts, IPIs, loop gaps) on an RX CPU
//     is Disturbed and repeated up to Config.MaxRepeats times; every trial
//     is kept, the last repeat decides.
//   - With Config.Confirm, an NDR is only reported once its trial held
//     that many repeats at full duration: a repeat that loses is a
//     measurement like any other, rejects the rate, and the search goes
//     on below it (SizeResult.Rejected keeps the rejected rates).
//   - Frame sizes include the 4 B FCS (RFC 2544); on the wire each frame
//     takes 20 B more (preamble, SFD, inter-frame gap): Gbit/s and % of
//     line rate count them.
//   - The JSON field names of Results are read by other tools (compare,
//     dashboards): fields may be added, never renamed.
package ndr
